using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Wolverine;
using Wolverine.ErrorHandling;
using Wolverine.Http;

namespace CustomerJourney.WinBack;

public static class WinBackModule
{
    public static IServiceCollection AddWinBack(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<WinBackOptions>(configuration.GetSection("WinBack"));
        var delivery = configuration.GetSection("WinBack:Delivery").Get<DeliveryOptions>() ?? new DeliveryOptions();
        services.AddSingleton<IOfferDelivery, OfferDelivery>();
        services.AddSingleton<UnsubscribeLinks>();
        services.AddHostedService<UnsubscribeKeyCheck>();
        services.AddHttpClient(OfferDelivery.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(10));
        services.AddSingleton<DeadLetteredDeliveries>();
        services.AddHostedService(sp => sp.GetRequiredService<DeadLetteredDeliveries>());
        services.AddHealthChecks().AddCheck<DeliveriesHealthCheck>("deliveries", tags: ["deliveries"]);
        services.ConfigureMarten(options =>
        {
            // Known before the first campaign is appended, so every stored event type is registered up front (and has a contract).
            options.Events.AddEventType<WinBackCampaignPlanned>();
            options.Events.AddEventType<WinBackAudienceSelected>();
            options.Events.AddEventType<WinBackOfferSent>();
            options.Events.AddEventType<WinBackOfferSuppressed>();
            options.Events.AddEventType<WinBackOfferUndeliverable>();
            options.Events.AddEventType<WinBackOfferDelivered>();
            options.Events.AddEventType<WinBackOfferRedeemed>();
            options.Events.AddEventType<CustomerReactivated>();
            options.Projections.Add<WinBackCampaignProjection>(JasperFx.Events.Projections.ProjectionLifecycle.Inline);
            options.Schema.For<WinBackCampaign>().Index(c => c.Status);
        });
        services.ConfigureWolverine(options =>
        {
            // A refusal for good is not tried again: the handler has recorded the offer undeliverable, and the message
            // waits in the dead-letter queue for an admin.
            options.Policies.OnException<OfferDeliveryFailedException>(e => e.Permanent).MoveToErrorQueue();
            // A sink that is down gets a few quick tries, then ever longer pauses kept in the durable store, so a restart
            // loses none; after the last (the handler records the offer undeliverable) the message is dead-lettered.
            var temporary = options.Policies.OnException<OfferDeliveryFailedException>();
            var cooldowns = delivery.EffectiveCooldowns.ToArray();
            var schedule = delivery.EffectiveSchedule.ToArray();
            if (cooldowns.Length > 0 && schedule.Length > 0)
            {
                temporary.RetryWithCooldown(cooldowns).Then.ScheduleRetry(schedule).Then.MoveToErrorQueue();
            }
            else if (cooldowns.Length > 0)
            {
                temporary.RetryWithCooldown(cooldowns).Then.MoveToErrorQueue();
            }
            else if (schedule.Length > 0)
            {
                temporary.ScheduleRetry(schedule).Then.MoveToErrorQueue();
            }
            else
            {
                temporary.MoveToErrorQueue();
            }

            options.BatchMessagesOf<Touchpoints.PurchasesRecorded>(batching =>
            {
                batching.BatchSize = AttributeWhenPurchasesRecordedHandler.BatchSize;
                batching.TriggerTime = AttributeWhenPurchasesRecordedHandler.TriggerTime;
            });
        });
        return services;
    }

    /// <summary>
    /// /health/deliveries (open, like the other probes; not part of readiness, since a dead letter must not take the
    /// service out of the load balancer) and Wolverine's own dead-letter endpoints, for admins only: list
    /// (POST /api/dead-letters/), re-drive (POST /api/dead-letters/replay) and discard (DELETE /api/dead-letters/).
    /// Win-back deliveries are the messages that end there today; the endpoints serve any.
    /// </summary>
    public static WebApplication MapWinBack(this WebApplication app)
    {
        app.MapHealthChecks("/health/deliveries", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains("deliveries"),
            ResponseWriter = Health.WriteDetails,
        }).AllowAnonymous();
        app.MapDeadLettersEndpoints("/api/dead-letters").RequireAuthorization(Policies.Administer);
        return app;
    }
}
