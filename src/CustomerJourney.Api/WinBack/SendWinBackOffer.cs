using CustomerJourney.Complaints;
using CustomerJourney.Identity;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using JasperFx.Events;
using Marten;
using Microsoft.Extensions.Options;
using Wolverine;

namespace CustomerJourney.WinBack;

/// <summary>Decide, for one treated person (named by the audience member), whether the campaign writes to them.</summary>
public sealed record SendWinBackOffer(string CampaignId, string CustomerId);

/// <summary>
/// Hand one decided offer to its channel. Delivered at least once; the delivery key lets the receiver drop repeats.
/// <see cref="CustomerId"/> is the member whose stream records the offer (the one whose address the decision used).
/// </summary>
public sealed record DeliverWinBackOffer(string CampaignId, string CustomerId, string OfferCode, string DeliveryKey, Channel Channel, WinBackOffer Offer);

public static class SendWinBackOfferHandler
{
    /// <summary>
    /// Decides for the person the audience member stands for. Under the locks of all their profile's current members (the
    /// locks every writer of those streams takes, ingestion included), it reads every member's stream and complaint cases
    /// in this transaction, and appends the decision on the stream of the member whose address is used (the audience
    /// member when none is) with that stream's version as expected: a consent withdrawn concurrently on any member waits
    /// for the lock or makes the append fail, and the retry sees it. An offer already decided for this campaign on any
    /// member decides nothing, so a person selected twice before a merge gets one offer. The delivery message is committed
    /// in the same transaction through Wolverine's outbox, so an offer is recorded if and only if it will be delivered. A
    /// history that cannot be read suppresses the offer (fails closed).
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
        var person = await PersonStreams.LockAndReadAsync(session, command.CustomerId, [.. member.People(), member.ProfileId ?? ProfileIds.HomeOf(member.CustomerId)],
            unreadable, cancellation);
        if (person.Unreadable)
        {
            session.Events.Append(command.CustomerId, await PersonStreams.VersionAsync(session, person, command.CustomerId, cancellation) + 1,
                WinBackRules.Suppressed(campaign, command.CustomerId, SuppressionReasons.Unreadable, campaign.AudienceAt ?? now));
            return;
        }

        var address = WinBackRules.CurrentAddress(person.Events, campaign.Channel);
        var recordOn = address?.CustomerId ?? command.CustomerId;
        var decision = WinBackRules.DecideSend(person.Events, person.Cases, campaign, member, HasAddress(address, campaign.Channel, options.Value), now,
            options.Value.FrequencyCap, recordOn);
        if (decision is null)
        {
            return;
        }

        // The decision goes on the addressed member's stream; what the person's purchases already mean, on the audience member's.
        var history = person.Events.OfType<Touchpoint>().Append(decision).ToList();
        var appended = new[] { (Stream: recordOn, Event: (object)decision) }
            .Concat(WinBackRules.Attribute(history, campaign, member).Select(o => (Stream: command.CustomerId, Event: (object)o)));
        foreach (var stream in appended.GroupBy(a => a.Stream, StringComparer.Ordinal))
        {
            var events = stream.Select(a => a.Event).ToArray();
            session.Events.Append(stream.Key, person.Version(stream.Key) + events.Length, events);
        }

        if (decision is WinBackOfferSent sent)
        {
            await context.PublishAsync(new DeliverWinBackOffer(campaign.CampaignId, recordOn, sent.OfferCode, sent.DeliveryKey, campaign.Channel, campaign.Offer));
        }
    }

    /// <summary>Whether the channel has somewhere to write to. Sealed fields are only tested for presence here, never opened.</summary>
    private static bool HasAddress((string CustomerId, string Stored)? address, Channel channel, WinBackOptions options) => channel switch
    {
        Channel.Email => address is not null || !string.IsNullOrEmpty(options.Smtp.FallbackAddressTemplate),
        Channel.Phone => address is not null && options.Webhook.Url is not null,
        _ => options.Webhook.Url is not null,
    };
}

/// <summary>
/// One person as the send decision and every delivery attempt read them: the profile's current members, each one's stream,
/// all their events in record order and all their complaint cases, read under all the members' locks.
/// </summary>
internal sealed record PersonStreams(ProfileMembers Profile, IReadOnlyDictionary<string, IReadOnlyList<IEvent>> Streams, IReadOnlyList<object> Events,
    IReadOnlyList<ComplaintCase> Cases, bool Unreadable)
{
    private const int MaxRounds = 8;

    /// <summary>
    /// Takes the locks of the profile of <paramref name="customerId"/> (every member, and the profile itself, which merges
    /// and splits hold) and reads its members under them. The first locks taken are <paramref name="expected"/>, the
    /// profile as the campaign selected it, which saves a read before locking; when the profile has changed since (a merge
    /// or split), the missing locks are taken too and the members read again. Those come after locks already held, out
    /// of the one global order, so two such transactions could deadlock: PostgreSQL then aborts one, and the transient
    /// conflict policy retries it. A member whose stream cannot be read makes the person unreadable.
    /// </summary>
    public static async Task<PersonStreams> LockAndReadAsync(IDocumentSession session, string customerId, IEnumerable<string> expected, UnreadableStreams unreadable,
        CancellationToken cancellation)
    {
        var held = new HashSet<string>(StringComparer.Ordinal);
        IEnumerable<string> wanted = [customerId, ProfileIds.HomeOf(customerId), .. expected];
        ProfileMembers? locked = null;
        for (var round = 0; ; round++)
        {
            var missing = wanted.Where(held.Add).ToList();
            if (locked is not null && missing.Count == 0)
            {
                break;
            }

            if (round == MaxRounds)
            {
                throw new JasperFx.ConcurrencyException($"The profile of {customerId} kept changing while its locks were taken; the win-back step will be retried.", null!);
            }

            await CustomerLocks.TakeAsync(session, missing, cancellation);
            locked = (await ProfileGraph.MembersNowAsync(session, [customerId], cancellation))[customerId];
            wanted = [.. locked.Members, locked.ProfileId];
        }

        var streams = new Dictionary<string, IReadOnlyList<IEvent>>(StringComparer.Ordinal);
        foreach (var member in locked.Members)
        {
            if (await ReadableEvents.FetchStreamAsync(session, member, unreadable, cancellation) is not { } stream)
            {
                return new PersonStreams(locked, streams, [], [], Unreadable: true);
            }

            streams[member] = stream;
        }

        var cases = await CustomerComplaints.CasesAsync(session, locked.Members, cancellation);
        return new PersonStreams(locked, streams, [.. streams.Values.SelectMany(s => s).OrderBy(e => e.Sequence).Select(e => e.Data)], cases, Unreadable: false);
    }

    /// <summary>The version of a member's stream as read (0 when it has none yet).</summary>
    public long Version(string customerId) => Streams.GetValueOrDefault(customerId) is { Count: > 0 } stream ? stream[^1].Version : 0;

    /// <summary>The version of a member's stream, also when it could not be read (from the stream's state).</summary>
    public static async Task<long> VersionAsync(IQuerySession session, PersonStreams person, string customerId, CancellationToken cancellation) =>
        person.Streams.ContainsKey(customerId) ? person.Version(customerId)
            : (await session.Events.FetchStreamStateAsync(customerId, cancellation))?.Version ?? 0;
}

public static class DeliverWinBackOfferHandler
{
    /// <summary>
    /// One delivery attempt. Under the locks of all the person's members (the ones every writer of their streams takes,
    /// ingestion included), it reads every member's stream and complaint cases and asks the send decision's own rule
    /// (<see cref="WinBackRules.MayNotSendBecause"/>) again over the whole person: a withdrawal, erasure, open complaint or
    /// expiry recorded since on any member suppresses the offer, recorded (on the addressed member's stream) with its
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
        // The offer's person as selected: the audience member it was recorded for, or whose profile held the address.
        var selected = campaign.Members.FirstOrDefault(m => m.People().Contains(command.CustomerId));
        var person = await PersonStreams.LockAndReadAsync(session, command.CustomerId,
            selected is null ? [] : [.. selected.People(), selected.ProfileId ?? ProfileIds.HomeOf(selected.CustomerId)], unreadable, cancellation);
        var now = clock.GetUtcNow();
        var at = campaign.AudienceAt ?? now;
        if (person.Unreadable)
        {
            session.Events.Append(command.CustomerId, await PersonStreams.VersionAsync(session, person, command.CustomerId, cancellation) + 1,
                WinBackRules.Suppressed(campaign, command.CustomerId, SuppressionReasons.Unreadable, at));
            return;
        }

        // The offer's own record (sent, undeliverable, delivered) is on the stream of the member it was addressed to.
        var standing = WinBackRules.OfferOutcome(person.Streams[command.CustomerId].Select(e => e.Data).OfType<Touchpoint>(), campaign.CampaignId);
        if (standing is WinBackOfferSuppressed or WinBackOfferDelivered or null)
        {
            return;
        }

        var version = person.Version(command.CustomerId);
        var members = person.Profile.Members;
        var cipher = await personalData.ForCustomersAsync(members, forWriting: false, cancellation);
        var reason = WinBackRules.MayNotSendBecause(person.Events, person.Cases, campaign, now, options.Value.FrequencyCap)
                     ?? (members.Any(cipher.IsErased) ? SuppressionReasons.Erased : null);
        var address = reason is null ? Address(command, person.Events, cipher, options.Value) : null;
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

    /// <summary>
    /// Opens the person's current address at the last moment, with the key of the member who gave it (an erased
    /// customer's key is gone by then).
    /// </summary>
    private static string? Address(DeliverWinBackOffer command, IReadOnlyList<object> personEvents, IPersonalDataCipher cipher, WinBackOptions options)
    {
        var opened = WinBackRules.CurrentAddress(personEvents, command.Channel) is { } current ? cipher.Open(current.CustomerId, current.Stored).Plaintext : null;
        return command.Channel switch
        {
            Channel.Email => opened ?? options.Smtp.FallbackAddressTemplate?.Replace("{customerId}", command.CustomerId, StringComparison.Ordinal),
            Channel.Phone => opened,
            _ => command.CustomerId,
        };
    }
}
