using JasperFx.Events.Projections;
using Marten;
using Wolverine;

namespace CustomerJourney.Churn;

public static class ChurnModule
{
    public static IServiceCollection AddChurn(this IServiceCollection services, IConfiguration configuration)
    {
        // These promises were Churn's own copy of the complaint rules; a deployment still setting them would silently
        // lose them, so start-up says what replaced them.
        foreach (var removed in new[] { "Churn:Flags:ComplaintPromise", "Churn:Flags:CriticalComplaintPromise" })
        {
            if (configuration[removed] is not null)
            {
                throw new InvalidOperationException($"{removed} is no longer read: the unresolved-complaint flag follows the complaint promises in force " +
                    "(Complaints:Sla). Remove the setting.");
            }
        }

        services.Configure<ChurnOptions>(configuration.GetSection("Churn"));
        services.AddOptions<ChurnOptions>().Validate(
            o => o.FitMaxIterations >= 1 && o.FitTimeBudget > TimeSpan.Zero,
            "Churn:FitMaxIterations must be at least 1 and Churn:FitTimeBudget positive: every fit needs a bound.").ValidateOnStart();
        services.AddSingleton<ChurnMetrics>();
        services.ConfigureMarten(options =>
        {
            options.Events.AddEventType<ChurnModelFitted>();
            // Async: it is written for every purchase, and fits wait for it to catch up (ProjectionReads).
            options.Projections.Add<PurchaseHistoryProjection>(ProjectionLifecycle.Async);
            options.Projections.Add<ChurnModelProjection>(ProjectionLifecycle.Inline);
            options.Events.AddEventType<ChurnFlagRaised>();
            options.Events.AddEventType<ChurnFlagCleared>();
            options.Projections.Add<ChurnFlagsViewProjection>(ProjectionLifecycle.Inline);
        });
        services.AddHostedService<DailyChurnFlagSweep>();
        services.ConfigureWolverine(options => options.BatchMessagesOf<Touchpoints.TouchpointsRecorded>(batching =>
        {
            batching.BatchSize = EvaluateFlagsWhenTouchpointsRecordedHandler.BatchSize;
            batching.TriggerTime = EvaluateFlagsWhenTouchpointsRecordedHandler.TriggerTime;
        }));
        return services;
    }
}
