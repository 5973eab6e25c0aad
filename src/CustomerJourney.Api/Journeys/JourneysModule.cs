using CustomerJourney.Infrastructure;
using Marten;

namespace CustomerJourney.Journeys;

public static class JourneysModule
{
    public static IServiceCollection AddJourneys(this IServiceCollection services)
    {
        services.ConfigureMarten(options => CustomerProjections.Add(options, new CustomerSummaryProjection()));
        return services;
    }
}
