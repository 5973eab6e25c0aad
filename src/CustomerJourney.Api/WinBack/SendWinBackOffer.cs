using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.Extensions.Options;
using Wolverine;

namespace CustomerJourney.WinBack;

/// <summary>Decide, for one treated customer, whether the campaign writes to them.</summary>
public sealed record SendWinBackOffer(string CampaignId, string CustomerId);

/// <summary>Hand one decided offer to its channel. Delivered at least once; the delivery key lets the receiver drop repeats.</summary>
public sealed record DeliverWinBackOffer(string CampaignId, string CustomerId, string OfferCode, string DeliveryKey, Channel Channel, WinBackOffer Offer);

public static class SendWinBackOfferHandler
{
    /// <summary>
    /// Reads consent, erasure and contact details from the customer's own stream in this transaction and appends the
    /// decision with the stream's version as expected: a consent withdrawn concurrently makes this append fail and the
    /// retry see it. The delivery message is committed in the same transaction through Wolverine's outbox, so an offer is
    /// recorded if and only if it will be delivered.
    /// </summary>
    public static async Task Handle(SendWinBackOffer command, IDocumentSession session, IMessageContext context, TimeProvider clock,
        IOptions<WinBackOptions> options, CancellationToken cancellation)
    {
        var campaign = await session.LoadAsync<WinBackCampaign>(WinBackCampaign.StreamKey(command.CampaignId), cancellation);
        var member = campaign?.Members.FirstOrDefault(m => m.CustomerId == command.CustomerId && m.Group == AudienceGroup.Treatment);
        if (campaign is null || member is null)
        {
            return;
        }

        var stream = await session.Events.FetchStreamAsync(command.CustomerId, token: cancellation);
        var events = stream.Select(e => e.Data).ToList();
        var cases = await WinBackFacts.CasesAsync(session, command.CustomerId, cancellation);
        var decision = WinBackRules.DecideSend(events, cases, campaign, member, HasAddress(events, campaign.Channel, options.Value), clock.GetUtcNow());
        if (decision is null)
        {
            return;
        }

        var history = events.OfType<Touchpoint>().Append(decision).ToList();
        var appended = new List<object> { decision };
        appended.AddRange(WinBackRules.Attribute(history, campaign, member));
        session.LastModifiedBy = LaunchWinBackCampaignHandler.Actor;
        session.Events.Append(command.CustomerId, (stream.Count == 0 ? 0 : stream[^1].Version) + appended.Count, [.. appended]);
        if (decision is WinBackOfferSent sent)
        {
            await context.PublishAsync(new DeliverWinBackOffer(campaign.CampaignId, command.CustomerId, sent.OfferCode, sent.DeliveryKey, campaign.Channel, campaign.Offer));
        }
    }

    /// <summary>Whether the channel has somewhere to write to. Sealed fields are only tested for presence here, never opened.</summary>
    private static bool HasAddress(IReadOnlyList<object> events, Channel channel, WinBackOptions options)
    {
        var details = events.OfType<ContactDetailsChanged>().ToList();
        return channel switch
        {
            Channel.Email => details.Any(d => d.Email is not null && d.Email != PersonalFields.Erased) || !string.IsNullOrEmpty(options.Smtp.FallbackAddressTemplate),
            Channel.Phone => details.Any(d => d.Phone is not null && d.Phone != PersonalFields.Erased) && options.Webhook.Url is not null,
            _ => options.Webhook.Url is not null,
        };
    }
}

public static class DeliverWinBackOfferHandler
{
    /// <summary>Opens the address at the last moment (an erased customer's key is gone by then) and hands the offer over; a failure throws for Wolverine to retry.</summary>
    public static async Task Handle(DeliverWinBackOffer command, IQuerySession session, IPersonalDataProtector personalData, IOfferDelivery delivery,
        IOptions<WinBackOptions> options, ILogger<DeliverWinBackOffer> logger, CancellationToken cancellation)
    {
        var cipher = await personalData.ForCustomersAsync([command.CustomerId], forWriting: false, cancellation);
        if (cipher.IsErased(command.CustomerId))
        {
            logger.LogInformation("Win-back offer {Key} not delivered: the customer was erased after it was decided", command.DeliveryKey);
            return;
        }

        var details = (await session.Events.FetchStreamAsync(command.CustomerId, token: cancellation)).Select(e => e.Data).OfType<ContactDetailsChanged>().ToList();
        string? Latest(Func<ContactDetailsChanged, string?> field) =>
            details.Select(field).LastOrDefault(v => v is not null) is { } stored ? cipher.Open(command.CustomerId, stored).Plaintext : null;

        var address = command.Channel switch
        {
            Channel.Email => Latest(d => d.Email) ?? options.Value.Smtp.FallbackAddressTemplate?.Replace("{customerId}", command.CustomerId, StringComparison.Ordinal),
            Channel.Phone => Latest(d => d.Phone),
            _ => command.CustomerId,
        };
        if (string.IsNullOrEmpty(address))
        {
            logger.LogWarning("Win-back offer {Key} not delivered: customer {Customer} has no address on {Channel} any more", command.DeliveryKey, command.CustomerId, command.Channel);
            return;
        }

        await delivery.DeliverAsync(new OfferMessage(command.Channel, address, command.DeliveryKey, command.CampaignId, command.CustomerId, command.OfferCode, command.Offer),
            cancellation);
    }
}
