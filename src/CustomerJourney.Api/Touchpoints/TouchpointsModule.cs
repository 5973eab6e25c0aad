using Marten;

namespace CustomerJourney.Touchpoints;

public static class TouchpointsModule
{
    public static IServiceCollection AddTouchpoints(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<IngestionOptions>(configuration.GetSection("Ingestion"));
        services.AddSingleton<TouchpointMetrics>();
        services.AddSingleton<LedgerAdmission>();
        services.AddSingleton<TouchpointLedger>();
        services.AddSingleton<TouchpointIngestion>();
        services.ConfigureMarten(options =>
        {
            foreach (var kind in TouchpointCatalogue.All.Concat(TouchpointCatalogue.Tracked))
            {
                options.Events.AddEventType(kind.EventType);
            }

            options.Storage.ExtendedSchemaObjects.Add(TouchpointLedger.DefineTable(options.Events.DatabaseSchemaName));
        });
        return services;
    }
}
