using JasperFx.Events.Projections;
using Marten;

namespace CustomerJourney.Churn;

public static class ChurnModule
{
    public static IServiceCollection AddChurn(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<ChurnOptions>(configuration.GetSection("Churn"));
        services.ConfigureMarten(options =>
        {
            options.Events.AddEventType<ChurnModelFitted>();
            // Inline, so fits and scores read every acknowledged purchase.
            options.Projections.Add<PurchaseHistoryProjection>(ProjectionLifecycle.Inline);
            options.Projections.Add<ChurnModelProjection>(ProjectionLifecycle.Inline);
            options.Events.AddEventType<ChurnFlagRaised>();
            options.Events.AddEventType<ChurnFlagCleared>();
            options.Projections.Add<ChurnFlagsViewProjection>(ProjectionLifecycle.Inline);
        });
        services.AddHostedService<DailyChurnFlagSweep>();
        return services;
    }
}
