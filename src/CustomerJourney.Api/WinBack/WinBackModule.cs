using Marten;
using Wolverine;
using Wolverine.ErrorHandling;

namespace CustomerJourney.WinBack;

public static class WinBackModule
{
    public static IServiceCollection AddWinBack(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<WinBackOptions>(configuration.GetSection("WinBack"));
        services.AddSingleton<IOfferDelivery, OfferDelivery>();
        services.AddHttpClient(OfferDelivery.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(10));
        services.ConfigureMarten(options =>
        {
            // Known before the first campaign is appended, so every stored event type is registered up front (and has a contract).
            options.Events.AddEventType<WinBackCampaignPlanned>();
            options.Events.AddEventType<WinBackAudienceSelected>();
            options.Projections.Add<WinBackCampaignProjection>(JasperFx.Events.Projections.ProjectionLifecycle.Inline);
            options.Schema.For<WinBackCampaign>().Index(c => c.Status);
        });
        services.ConfigureWolverine(options =>
        {
            // A sink that is down gets a few quick tries, then ever longer pauses kept in the durable store, so a restart loses none.
            options.Policies.OnException<OfferDeliveryFailedException>()
                .RetryWithCooldown(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1))
                .Then.ScheduleRetry(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(30));
            options.BatchMessagesOf<Touchpoints.PurchasesRecorded>(batching =>
            {
                batching.BatchSize = AttributeWhenPurchasesRecordedHandler.BatchSize;
                batching.TriggerTime = AttributeWhenPurchasesRecordedHandler.TriggerTime;
            });
        });
        return services;
    }
}
