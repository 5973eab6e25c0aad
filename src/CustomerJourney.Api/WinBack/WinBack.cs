using CustomerJourney.Touchpoints;
using JasperFx.Events;
using Marten.Events.Aggregation;

namespace CustomerJourney.WinBack;

public enum OfferKind
{
    DiscountPercent,
    DiscountAmount,
    GoodwillCredit,
    FreeShipping,
}

/// <summary>What a treated customer is offered, valid for <see cref="ValidDays"/> from the campaign's instant.</summary>
public sealed record WinBackOffer(OfferKind Kind, decimal Value, string Currency, int ValidDays);

/// <summary>Which flagged customers a campaign targets (the candidate list's query, recorded with the campaign).</summary>
public sealed record CandidateFilter(Guid? ModelId, double? MinValue, double? MaxPAlive, string? Segment);

public enum AudienceGroup
{
    Treatment,
    Control,
}

/// <summary>
/// A selected person: the group drawn, what they are worth, and the flags that made them a candidate. <see cref="CustomerId"/>
/// is their profile's founder; <see cref="ProfileId"/> and <see cref="Members"/> are the profile as selected (null in
/// audiences selected before win-back counted people: each member was then a customer alone).
/// </summary>
public sealed record AudienceMember(string CustomerId, AudienceGroup Group, double ValueAtRisk, double ExpectedRecovery, double? PAlive,
    IReadOnlyList<string> Reasons, string OfferCode, string? ProfileId = null, IReadOnlyList<string>? Members = null)
{
    /// <summary>The customers the person was at selection.</summary>
    public IReadOnlyList<string> People() => Members ?? [CustomerId];
}

public sealed record ExcludedCustomer(string CustomerId, IReadOnlyList<string> Reasons);

// Campaign stream "winback/<id>": the plan and the audience, so a campaign replays exactly.

public sealed record WinBackCampaignPlanned(
    string CampaignId,
    string Name,
    CandidateFilter Filter,
    WinBackOffer Offer,
    Channel Channel,
    double ControlShare,
    int Seed,
    DateTimeOffset? At,
    DateTimeOffset LaunchAt,
    string PlannedBy,
    bool AllowUnconvergedModel = false);

/// <summary>The audience as selected at the campaign's instant <see cref="At"/>, already split into treatment and control.</summary>
public sealed record WinBackAudienceSelected(
    string CampaignId,
    DateTimeOffset At,
    Guid? ModelId,
    IReadOnlyList<AudienceMember> Members,
    IReadOnlyList<ExcludedCustomer> Excluded,
    DateTimeOffset SelectedAt);

// Customer stream: what the customer met (or was spared). Touchpoints, so the journey shows them.

public sealed record WinBackOfferSent : Touchpoint
{
    public required string CampaignId { get; init; }
    public required string OfferCode { get; init; }
    public required WinBackOffer Offer { get; init; }

    /// <summary>Kept by every delivery attempt (e-mail Message-ID, webhook Idempotency-Key), so the receiver recognises a repeat.</summary>
    public required string DeliveryKey { get; init; }

    /// <summary>
    /// When the offer was actually sent (the wall clock at the decision, committed with the delivery), beside
    /// <see cref="Touchpoint.OccurredAt"/>, the instant the campaign was run at. The frequency cap counts this one. Null on
    /// offers recorded before it existed; they count by their campaign's instant.
    /// </summary>
    public DateTimeOffset? SentAt { get; init; }
}

public sealed record WinBackOfferSuppressed : Touchpoint
{
    public required string CampaignId { get; init; }
    public required string Reason { get; init; }
}

/// <summary>
/// An offer that could not be delivered: the receiver refused it for good (SMTP 5xx, HTTP 4xx other than 408 and 429), or
/// every retry failed. The message waits in Wolverine's dead-letter queue, from which an admin can re-drive it.
/// </summary>
public sealed record WinBackOfferUndeliverable : Touchpoint
{
    public required string CampaignId { get; init; }
    public required string OfferCode { get; init; }
    public required string Reason { get; init; }
    public required int Attempts { get; init; }
    public required bool Permanent { get; init; }
}

/// <summary>An offer recorded undeliverable that went through after an admin re-drove it.</summary>
public sealed record WinBackOfferDelivered : Touchpoint
{
    public required string CampaignId { get; init; }
    public required string OfferCode { get; init; }
}

public sealed record WinBackOfferRedeemed : Touchpoint
{
    public required string CampaignId { get; init; }
    public required string OfferCode { get; init; }
    public required string OrderId { get; init; }
    public required decimal Amount { get; init; }
    public required string Currency { get; init; }
}

/// <summary>The first purchase of an audience member inside the campaign's window; recorded for both groups, which is what the uplift compares.</summary>
public sealed record CustomerReactivated : Touchpoint
{
    public required string CampaignId { get; init; }
    public required AudienceGroup Group { get; init; }
    public required string OrderId { get; init; }
    public required decimal Amount { get; init; }
    public required string Currency { get; init; }
}

public enum CampaignStatus
{
    Planned,
    Launched,
}

/// <summary>The campaign as planned and selected. The outcome is read from the members' own streams.</summary>
public sealed record WinBackCampaign(
    string Id,
    string CampaignId,
    string Name,
    CandidateFilter Filter,
    WinBackOffer Offer,
    Channel Channel,
    double ControlShare,
    int Seed,
    DateTimeOffset? At,
    DateTimeOffset LaunchAt,
    string PlannedBy,
    CampaignStatus Status,
    DateTimeOffset? SelectedAt,
    DateTimeOffset? AudienceAt,
    Guid? ModelId,
    IReadOnlyList<AudienceMember> Members,
    IReadOnlyList<ExcludedCustomer> Excluded)
{
    public const string StreamPrefix = "winback/";

    /// <summary>'/' never occurs in a customer id, so campaign streams cannot collide with customers'.</summary>
    public static string StreamKey(string campaignId) => StreamPrefix + campaignId;

    /// <summary>The business-time window in which offers are valid and purchases are attributed.</summary>
    public (DateTimeOffset From, DateTimeOffset To)? Window => AudienceAt is { } at ? (at, at.AddDays(Offer.ValidDays)) : null;

    public static WinBackCampaign? Fold(WinBackCampaign? state, object e) => (state, e) switch
    {
        (null, WinBackCampaignPlanned p) => new WinBackCampaign(StreamKey(p.CampaignId), p.CampaignId, p.Name, p.Filter, p.Offer, p.Channel,
            p.ControlShare, p.Seed, p.At, p.LaunchAt, p.PlannedBy, CampaignStatus.Planned, null, null, null, [], []),
        ({ } s, WinBackAudienceSelected a) => s with
        {
            Status = CampaignStatus.Launched, SelectedAt = a.SelectedAt, AudienceAt = a.At, ModelId = a.ModelId, Members = a.Members, Excluded = a.Excluded,
        },
        _ => state,
    };
}

/// <summary>Inline: the launch handler and the reads see a campaign the moment it is planned.</summary>
public sealed partial class WinBackCampaignProjection : SingleStreamProjection<WinBackCampaign, string>
{
    /// <summary>Named, so that a transaction appending touchpoints does not look for a campaign under each customer's id.</summary>
    public WinBackCampaignProjection()
    {
        IncludeType<WinBackCampaignPlanned>();
        IncludeType<WinBackAudienceSelected>();
    }

    public override WinBackCampaign? Evolve(WinBackCampaign? snapshot, string id, IEvent e) => WinBackCampaign.Fold(snapshot, e.Data);
}
