using JasperFx.Events.Projections;
using Marten;

namespace CustomerJourney.Journeys;

public static class JourneysModule
{
    public static IServiceCollection AddJourneys(this IServiceCollection services)
    {
        services.ConfigureMarten(options => options.Projections.Add<CustomerSummaryProjection>(ProjectionLifecycle.Async));
        return services;
    }
}
