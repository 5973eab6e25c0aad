using CustomerJourney.Infrastructure;
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
    /// recorded if and only if it will be delivered. A history that cannot be read suppresses the offer (fails closed).
    /// </summary>
    public static async Task Handle(SendWinBackOffer command, IDocumentSession session, IMessageContext context, TimeProvider clock,
        IOptions<WinBackOptions> options, UnreadableStreams unreadable, CancellationToken cancellation)
    {
        var campaign = await session.LoadAsync<WinBackCampaign>(WinBackCampaign.StreamKey(command.CampaignId), cancellation);
        var member = campaign?.Members.FirstOrDefault(m => m.CustomerId == command.CustomerId && m.Group == AudienceGroup.Treatment);
        if (campaign is null || member is null)
        {
            return;
        }

        session.LastModifiedBy = LaunchWinBackCampaignHandler.Actor;
        var now = clock.GetUtcNow();
        if (await ReadableEvents.FetchStreamAsync(session, command.CustomerId, unreadable, cancellation) is not { } stream)
        {
            var state = await session.Events.FetchStreamStateAsync(command.CustomerId, cancellation);
            session.Events.Append(command.CustomerId, (state?.Version ?? 0) + 1,
                WinBackRules.Suppressed(campaign, command.CustomerId, SuppressionReasons.Unreadable, campaign.AudienceAt ?? now));
            return;
        }

        var events = stream.Select(e => e.Data).ToList();
        var cases = await WinBackFacts.CasesAsync(session, command.CustomerId, cancellation);
        var decision = WinBackRules.DecideSend(events, cases, campaign, member, HasAddress(events, campaign.Channel, options.Value), now, options.Value.FrequencyCap);
        if (decision is null)
        {
            return;
        }

        var history = events.OfType<Touchpoint>().Append(decision).ToList();
        var appended = new List<object> { decision };
        appended.AddRange(WinBackRules.Attribute(history, campaign, member));
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
    /// <summary>
    /// One delivery attempt. Under the customer's lock (the one every writer of their stream takes, ingestion included),
    /// it reads their stream and complaint cases and asks the send decision's own rule (<see cref="WinBackRules.MayNotSendBecause"/>)
    /// again: a withdrawal, erasure, open complaint or expiry recorded since suppresses the offer, recorded with its
    /// reason. The lock is held until the attempt ends (at most the send timeout), so a withdrawal committed before the
    /// check is seen, and one recorded meanwhile commits after this attempt: no attempt starts after a withdrawal's
    /// commit. A permanent refusal, or the last temporary failure, records the offer undeliverable and dead-letters the
    /// message for an admin to re-drive; a re-drive runs this same check.
    /// </summary>
    public static async Task Handle(DeliverWinBackOffer command, IDocumentSession session, IDocumentStore store, IMessageContext context,
        IPersonalDataProtector personalData, IOfferDelivery delivery, UnsubscribeLinks links, UnreadableStreams unreadable, TimeProvider clock,
        IOptions<WinBackOptions> options, ILogger<DeliverWinBackOffer> logger, CancellationToken cancellation)
    {
        var campaign = await session.LoadAsync<WinBackCampaign>(WinBackCampaign.StreamKey(command.CampaignId), cancellation);
        if (campaign is null)
        {
            return;
        }

        session.LastModifiedBy = LaunchWinBackCampaignHandler.Actor;
        await CustomerLocks.TakeAsync(session, [command.CustomerId], cancellation);
        var now = clock.GetUtcNow();
        var at = campaign.AudienceAt ?? now;
        if (await ReadableEvents.FetchStreamAsync(session, command.CustomerId, unreadable, cancellation) is not { } stream)
        {
            var state = await session.Events.FetchStreamStateAsync(command.CustomerId, cancellation);
            session.Events.Append(command.CustomerId, (state?.Version ?? 0) + 1, WinBackRules.Suppressed(campaign, command.CustomerId, SuppressionReasons.Unreadable, at));
            return;
        }

        var events = stream.Select(e => e.Data).ToList();
        var touchpoints = events.OfType<Touchpoint>().ToList();
        var standing = WinBackRules.OfferOutcome(touchpoints, campaign.CampaignId);
        if (standing is WinBackOfferSuppressed or WinBackOfferDelivered or null)
        {
            return;
        }

        var version = stream[^1].Version;
        var cases = await WinBackFacts.CasesAsync(session, command.CustomerId, cancellation);
        var cipher = await personalData.ForCustomersAsync([command.CustomerId], forWriting: false, cancellation);
        var reason = WinBackRules.MayNotSendBecause(events, cases, campaign, now, options.Value.FrequencyCap)
                     ?? (cipher.IsErased(command.CustomerId) ? SuppressionReasons.Erased : null);
        var address = reason is null ? Address(command, events, cipher, options.Value) : null;
        reason ??= string.IsNullOrEmpty(address) ? SuppressionReasons.NoAddress : null;
        if (reason is not null)
        {
            logger.LogInformation("Win-back offer {Key} not delivered: {Reason}", command.DeliveryKey, reason);
            session.Events.Append(command.CustomerId, version + 1, WinBackRules.Suppressed(campaign, command.CustomerId, reason, at));
            return;
        }

        var settings = options.Value.Delivery;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(settings.SendTimeout);
        var message = new OfferMessage(command.Channel, address!, command.DeliveryKey, command.CampaignId, command.CustomerId, command.OfferCode, command.Offer,
            links.Link(new UnsubscribeRequest(command.CustomerId, WinBackRules.ConsentPurpose(command.Channel), command.CampaignId)));
        try
        {
            await delivery.DeliverAsync(message, timeout.Token);
        }
        catch (OperationCanceledException e) when (!cancellation.IsCancellationRequested)
        {
            throw await Failed(new OfferDeliveryFailedException($"Delivering win-back offer {command.DeliveryKey} took longer than {settings.SendTimeout}.", inner: e));
        }
        catch (OfferDeliveryFailedException e)
        {
            throw await Failed(e);
        }

        if (standing is WinBackOfferUndeliverable)
        {
            // A re-driven offer went through after all.
            session.Events.Append(command.CustomerId, version + 1, new WinBackOfferDelivered
            {
                CustomerId = command.CustomerId, OccurredAt = at, Channel = campaign.Channel, Source = WinBackRules.Source, SourceId = $"{campaign.CampaignId}/offer",
                CampaignId = campaign.CampaignId, OfferCode = command.OfferCode,
            });
        }

        async Task<OfferDeliveryFailedException> Failed(OfferDeliveryFailedException failure)
        {
            var attempts = context.Envelope?.Attempts ?? 1;
            if (failure.Permanent || attempts >= settings.MaxAttempts)
            {
                // Recorded in a transaction of its own: the handler's rolls back with the failure, which Wolverine then dead-letters.
                logger.LogWarning("Win-back offer {Key} is undeliverable after {Attempts} attempt(s): {Reason}", command.DeliveryKey, attempts, failure.Message);
                await using var record = store.LightweightSession();
                record.LastModifiedBy = LaunchWinBackCampaignHandler.Actor;
                record.Events.Append(command.CustomerId, version + 1, new WinBackOfferUndeliverable
                {
                    CustomerId = command.CustomerId, OccurredAt = at, Channel = campaign.Channel, Source = WinBackRules.Source, SourceId = $"{campaign.CampaignId}/offer",
                    CampaignId = campaign.CampaignId, OfferCode = command.OfferCode, Reason = failure.Message, Attempts = attempts, Permanent = failure.Permanent,
                });
                await record.SaveChangesAsync(cancellation);
            }

            return failure;
        }
    }

    /// <summary>Opens the address at the last moment (an erased customer's key is gone by then).</summary>
    private static string? Address(DeliverWinBackOffer command, IReadOnlyList<object> events, IPersonalDataCipher cipher, WinBackOptions options)
    {
        var details = events.OfType<ContactDetailsChanged>().ToList();
        string? Latest(Func<ContactDetailsChanged, string?> field) =>
            details.Select(field).LastOrDefault(v => v is not null) is { } stored ? cipher.Open(command.CustomerId, stored).Plaintext : null;

        return command.Channel switch
        {
            Channel.Email => Latest(d => d.Email) ?? options.Smtp.FallbackAddressTemplate?.Replace("{customerId}", command.CustomerId, StringComparison.Ordinal),
            Channel.Phone => Latest(d => d.Phone),
            _ => command.CustomerId,
        };
    }
}
