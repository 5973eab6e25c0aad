using CustomerJourney.Infrastructure;
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
            "Churn:FitMaxIterations must be at least 1 and Churn:FitTimeBudget positive: every fit needs a bound.").Validate(
            o => o.FitJobPoll > TimeSpan.Zero && o.FitJobHeartbeat >= o.FitJobPoll && o.FitJobStaleAfter >= 4 * o.FitJobHeartbeat,
            "Churn:FitJobPoll must be positive, Churn:FitJobHeartbeat at least as long, and Churn:FitJobStaleAfter at least four heartbeats: " +
            "a live job must never look interrupted.").ValidateOnStart();
        services.AddSingleton<ChurnMetrics>();
        services.AddSingleton<ChurnFitRuns>();
        services.AddHostedService<ChurnFitJobSweep>();
        services.ConfigureMarten(options =>
        {
            options.Events.AddEventType<ChurnModelFitted>();
            options.Schema.For<ChurnFitJob>();
            options.Schema.For<ChurnFitCancellation>();
            // Async: it is written for every purchase, and fits wait for it to catch up (ProjectionReads).
            CustomerProjections.Add(options, new PurchaseHistoryProjection());
            options.Projections.Add<ChurnModelProjection>(ProjectionLifecycle.Inline);
            options.Events.AddEventType<ChurnFlagRaised>();
            options.Events.AddEventType<ChurnFlagCleared>();
            options.Projections.Add<ChurnFlagsViewProjection>(ProjectionLifecycle.Inline);
        });
        services.AddHostedService<DailyChurnFlagSweep>();
        services.ConfigureWolverine(options =>
        {
            options.BatchMessagesOf<Touchpoints.TouchpointsRecorded>(batching =>
            {
                batching.BatchSize = EvaluateFlagsWhenTouchpointsRecordedHandler.BatchSize;
                batching.TriggerTime = EvaluateFlagsWhenTouchpointsRecordedHandler.TriggerTime;
            });
            // Fit jobs run one at a time per instance, durably (the local queues are durable): more wait queued.
            options.PublishMessage<RunChurnFitJob>().ToLocalQueue(RunChurnFitJobHandler.Queue);
            options.LocalQueue(RunChurnFitJobHandler.Queue).Sequential();
            options.PublishMessage<SweepChurnFlags>().ToLocalQueue(EvaluateChurnFlagsHandler.SweepQueue);
            options.LocalQueue(EvaluateChurnFlagsHandler.SweepQueue).Sequential();
        });
        return services;
    }
}
