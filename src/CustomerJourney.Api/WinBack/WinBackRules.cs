using System.Security.Cryptography;
using System.Text;
using CustomerJourney.Access;
using CustomerJourney.Churn;
using CustomerJourney.Complaints;
using CustomerJourney.Identity;
using CustomerJourney.Journeys;
using CustomerJourney.Models.Churn;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.WinBack;

/// <summary>Why a flagged customer is left out of a campaign.</summary>
public static class ExclusionReasons
{
    public const string Erased = "erased";
    public const string OpenComplaint = "open-complaint";
    public const string NoConsent = "no-consent";
    public const string ContactedRecently = "contacted-recently";
    public const string InRunningCampaign = "in-running-campaign";

    /// <summary>The customer's history holds an event no reader can read: they are left out rather than judged without it.</summary>
    public const string Unreadable = "unreadable";
}

/// <summary>Why a selected customer was not written to after all.</summary>
public static class SuppressionReasons
{
    public const string ConsentWithdrawn = "consent-withdrawn";
    public const string Erased = "erased";
    public const string OpenComplaint = "open-complaint";
    public const string NoAddress = "no-address";
    public const string OfferExpired = "offer-expired";
    public const string ContactedRecently = "contacted-recently";

    /// <summary>The history cannot be read, so consent cannot be known: the decision fails closed.</summary>
    public const string Unreadable = "unreadable";
}

/// <summary>
/// What selection reads of one customer, or of one person (a profile, <see cref="OfProfile"/>): their touchpoints (with
/// event ids), erasure, complaint cases, and the breaches recorded on those cases (cited by the churn flag).
/// <see cref="ProfileId"/> and <see cref="Members"/> are null on the facts of a customer read alone.
/// </summary>
public sealed record CustomerFacts(string CustomerId, IReadOnlyList<(Guid Id, Touchpoint Touchpoint)> History, bool Erased, IReadOnlyList<ComplaintCase> Cases,
    IReadOnlyList<(Guid Id, ComplaintSlaBreached Breach)> Breaches, bool Unreadable = false, string? ProfileId = null, IReadOnlyList<string>? Members = null)
{
    /// <summary>
    /// One person's facts from their members' (each read alone): every member's touchpoints, cases and breaches, erased or
    /// unreadable when any member is (a person is not judged on the part that could be read). The person is named by the
    /// profile's founder, a real customer id that a split never takes away. Histories are joined member after member,
    /// each in its own record order, so a complaint case still folds its steps in the order its stream holds them.
    /// </summary>
    public static CustomerFacts OfProfile(string profileId, IEnumerable<CustomerFacts> members)
    {
        var founder = ProfileIds.FounderOf(profileId);
        var each = members.OrderBy(m => m.CustomerId, StringComparer.Ordinal).ToList();
        var ids = each.Select(m => m.CustomerId).Append(founder).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return new CustomerFacts(founder, [.. each.SelectMany(m => m.History)], each.Any(m => m.Erased), [.. each.SelectMany(m => m.Cases)],
            [.. each.SelectMany(m => m.Breaches)], each.Any(m => m.Unreadable), profileId, ids);
    }

    /// <summary>The profile the facts are of (the customer's own home profile when read alone).</summary>
    public string Profile() => ProfileId ?? ProfileIds.HomeOf(CustomerId);

    /// <summary>The customers the facts are of.</summary>
    public IReadOnlyList<string> People() => Members ?? [CustomerId];
}

/// <summary>
/// A flagged person as assessed at an instant: either a candidate, or excluded with its reasons. <see cref="CustomerId"/>
/// names the person by their profile's founder; <see cref="Members"/> are the customer ids the profile holds.
/// </summary>
public sealed record Candidate(string CustomerId, string ProfileId, IReadOnlyList<string> Members, double ValueAtRisk, double ExpectedRecovery, double? PAlive,
    IReadOnlyList<ChurnFlag> Flags, IReadOnlyList<string> Exclusions);

/// <summary>The pure rules of win-back: who is a candidate, the split, what a send does, and what a purchase is worth to a campaign.</summary>
public static class WinBackRules
{
    public static readonly IReadOnlyList<string> Segments = ["one-time-buyer", "repeat-buyer", .. FlagReasons.All];

    /// <summary>Consent is per purpose; a channel's offers need the purpose of that channel.</summary>
    public static string ConsentPurpose(Channel channel) => channel switch
    {
        Channel.App => "marketing-app",
        Channel.Phone => "marketing-phone",
        _ => "marketing-email",
    };

    /// <summary>The channel whose offers need <paramref name="purpose"/>: where an unsubscribe came from.</summary>
    public static Channel ChannelOf(string purpose) => purpose switch
    {
        "marketing-app" => Channel.App,
        "marketing-phone" => Channel.Phone,
        _ => Channel.Email,
    };

    /// <summary>
    /// Assesses one customer at <paramref name="at"/>: null when no churn flag holds or a filter leaves them out,
    /// otherwise a candidate with every exclusion that applies (none means eligible).
    /// </summary>
    public static Candidate? Assess(CustomerFacts facts, CandidateFilter filter, Channel channel, ChurnModel? model, DateTimeOffset at,
        IReadOnlySet<string> inRunningCampaign, ChurnOptions churn, WinBackOptions options, SlaPolicies sla, DateTimeOffset? now = null)
    {
        if (facts.Unreadable)
        {
            return Unreadable(facts);
        }

        try
        {
            return AssessReadable(facts, filter, channel, model, at, inRunningCampaign, churn, options, sla, now ?? at);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NullReferenceException or FormatException or KeyNotFoundException)
        {
            // A fact the rules cannot handle (a field another tool left out): the customer is left out, never judged without it.
            return Unreadable(facts);
        }
    }

    /// <summary>A person whose history cannot be read: listed (with ?includeExcluded=true) and never selected.</summary>
    public static Candidate Unreadable(CustomerFacts facts) => new(facts.CustomerId, facts.Profile(), facts.People(), 0, 0, null, [], [ExclusionReasons.Unreadable]);

    private static Candidate? AssessReadable(CustomerFacts facts, CandidateFilter filter, Channel channel, ChurnModel? model, DateTimeOffset at,
        IReadOnlySet<string> inRunningCampaign, ChurnOptions churn, WinBackOptions options, SlaPolicies sla, DateTimeOffset now)
    {
        var zone = churn.Zone();
        var flags = ChurnFlagRules.Evaluate(facts.History, model, at, churn.Flags, zone, sla, facts.Breaches);
        if (flags.Count == 0)
        {
            return null;
        }

        var purchases = facts.History.Where(h => h.Touchpoint is PurchaseMade && h.Touchpoint.OccurredAt <= at).Select(h => (PurchaseMade)h.Touchpoint).ToList();
        var valueAtRisk = EvaluateChurnFlagsHandler.ValueAtRisk(facts.History, model, at, churn);
        var inCurrency = model is null ? [] : purchases.Where(p => p.Currency == model.Currency).Select(p => (p.OccurredAt, p.Amount)).ToList();
        double? pAlive = model is not null && inCurrency.Count > 0 ? ChurnFlagRules.ProbabilityAlive(RfmSummary.FromPurchases(inCurrency, at, zone), model) : null;
        var purchaseDays = purchases.Select(p => RfmSummary.DayIn(p.OccurredAt, zone)).Distinct().Count();
        var inSegment = filter.Segment switch
        {
            null => true,
            "one-time-buyer" => purchaseDays == 1,
            "repeat-buyer" => purchaseDays > 1,
            var reason => flags.Any(f => f.Reason == reason),
        };
        if (!inSegment || valueAtRisk < (filter.MinValue ?? 0) || filter.MaxPAlive is { } max && (pAlive is null || pAlive > max))
        {
            return null;
        }

        var exclusions = new List<string>();
        if (facts.Erased)
        {
            exclusions.Add(ExclusionReasons.Erased);
        }

        if (facts.Cases.Any(c => c.IsOpenAt(at)))
        {
            exclusions.Add(ExclusionReasons.OpenComplaint);
        }

        var purpose = ConsentPurpose(channel);
        // As of the campaign's instant; a withdrawal after it is caught by the send decision, which reads the latest consent.
        if (!Consent.IsGiven(facts.History.Select(h => h.Touchpoint), purpose, at))
        {
            exclusions.Add(ExclusionReasons.NoConsent);
        }

        // Offers count by when they were really sent (a mail today blocks another today, whatever instant its campaign
        // was run at), and, for a campaign replaying a past instant, by the instants their campaigns were run at.
        var offers = facts.History.Select(h => h.Touchpoint).OfType<WinBackOfferSent>().ToList();
        if (SentWithinCap(offers, now, options.FrequencyCap) || offers.Any(s => s.OccurredAt <= at && s.OccurredAt > at - options.FrequencyCap))
        {
            exclusions.Add(ExclusionReasons.ContactedRecently);
        }

        if (facts.People().Any(inRunningCampaign.Contains))
        {
            exclusions.Add(ExclusionReasons.InRunningCampaign);
        }

        return new Candidate(facts.CustomerId, facts.Profile(), facts.People(), Math.Round(valueAtRisk, 2), Math.Round(valueAtRisk * options.ResponseRate, 2),
            pAlive is { } p ? Math.Round(p, 4) : null, flags, exclusions);
    }

    /// <summary>Ranked by the value a win-back would recover, then by id so that equal values keep one order.</summary>
    public static IReadOnlyList<Candidate> Rank(IEnumerable<Candidate> candidates) =>
        candidates.OrderByDescending(c => c.ExpectedRecovery).ThenBy(c => c.CustomerId, StringComparer.Ordinal).ToList();

    /// <summary>
    /// Splits the eligible customers: the <paramref name="controlShare"/> whose seeded hashes sort first form the control
    /// group. The same audience and seed always give the same split, whatever order the customers come in.
    /// </summary>
    public static IReadOnlySet<string> ControlGroup(IEnumerable<string> customerIds, double controlShare, int seed)
    {
        var ordered = customerIds.Distinct(StringComparer.Ordinal).OrderBy(id => Hash($"{seed}:{id}"), StringComparer.Ordinal)
            .ThenBy(id => id, StringComparer.Ordinal).ToList();
        var size = (int)Math.Round(ordered.Count * controlShare, MidpointRounding.AwayFromZero);
        return ordered.Take(size).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The audience of a campaign from its ranked, assessed candidates: the eligible ones, split.</summary>
    public static (IReadOnlyList<AudienceMember> Members, IReadOnlyList<ExcludedCustomer> Excluded) Audience(
        string campaignId, IReadOnlyList<Candidate> ranked, double controlShare, int seed)
    {
        var eligible = ranked.Where(c => c.Exclusions.Count == 0).ToList();
        var control = ControlGroup(eligible.Select(c => c.CustomerId), controlShare, seed);
        var members = eligible.Select(c => new AudienceMember(c.CustomerId, control.Contains(c.CustomerId) ? AudienceGroup.Control : AudienceGroup.Treatment,
            c.ValueAtRisk, c.ExpectedRecovery, c.PAlive, c.Flags.Select(f => f.Reason).ToList(), OfferCode(campaignId, c.CustomerId), c.ProfileId, c.Members)).ToList();
        var excluded = ranked.Where(c => c.Exclusions.Count > 0).Select(c => new ExcludedCustomer(c.CustomerId, c.Exclusions)).ToList();
        return (members, excluded);
    }

    /// <summary>A code the customer types at checkout; derived, so a retried launch hands out the same one.</summary>
    public static string OfferCode(string campaignId, string customerId) => "WB-" + Hash($"{campaignId}\n{customerId}")[..10].ToUpperInvariant();

    /// <summary>The key every delivery attempt of one offer carries (an RFC 5322 Message-ID), which the receiver de-duplicates on.</summary>
    public static string DeliveryKey(string campaignId, string offerCode) => $"{offerCode}.{campaignId}@winback.customerjourney";

    /// <summary>Whether an offer was really sent (by the wall clock) within the cap before <paramref name="now"/>.</summary>
    public static bool SentWithinCap(IEnumerable<WinBackOfferSent> offers, DateTimeOffset now, TimeSpan cap) =>
        offers.Any(s => (s.SentAt ?? s.OccurredAt) is var sent && sent <= now && sent > now - cap);

    /// <summary>
    /// The one rule of whether a campaign may write to a person now, asked by the send decision and again by every
    /// delivery attempt (before it starts, under the locks of all the person's members), over the events of all their
    /// members in record order and all their complaint cases: null when it may, otherwise why not. Erasure, consent
    /// for the channel's purpose (the latest statement, by <see cref="Consent"/>), a complaint open now
    /// (<see cref="ComplaintCase.IsOpenAt"/>), an offer past its validity (whatever instant the campaign was run at), and
    /// an offer of another campaign really sent within the frequency cap before this one's.
    /// </summary>
    public static string? MayNotSendBecause(IReadOnlyList<object> customerEvents, IReadOnlyList<ComplaintCase> cases, WinBackCampaign campaign, DateTimeOffset now,
        TimeSpan frequencyCap)
    {
        var touchpoints = customerEvents.OfType<Touchpoint>().ToList();
        var at = campaign.AudienceAt ?? now;
        // Offers of other campaigns recorded before this one's own (at the decision there is none yet).
        var earlierOffers = touchpoints.TakeWhile(t => !(t is WinBackOfferSent own && own.CampaignId == campaign.CampaignId))
            .OfType<WinBackOfferSent>().Where(s => s.CampaignId != campaign.CampaignId);
        return customerEvents.Any(e => e is CustomerErased) ? SuppressionReasons.Erased
            : !Consent.IsGiven(touchpoints, ConsentPurpose(campaign.Channel), null) ? SuppressionReasons.ConsentWithdrawn
            : cases.Any(c => c.IsOpenAt(now)) ? SuppressionReasons.OpenComplaint
            // An offer that could only go out after it expired would be a broken promise, also for a campaign run at a past instant.
            : now > at.AddDays(campaign.Offer.ValidDays) ? SuppressionReasons.OfferExpired
            : SentWithinCap(earlierOffers, now, frequencyCap) ? SuppressionReasons.ContactedRecently
            : null;
    }

    /// <summary>
    /// The send decision for one treated person, read at send time from the streams of all the profile's members: nothing
    /// when the campaign already wrote or suppressed for any of them, otherwise the offer (sent now, for the campaign's
    /// instant) or the reason it is suppressed, for the stream of <paramref name="recordOn"/> (the member whose address is
    /// used; the audience member when none is).
    /// </summary>
    public static Touchpoint? DecideSend(IReadOnlyList<object> customerEvents, IReadOnlyList<ComplaintCase> cases, WinBackCampaign campaign, AudienceMember member,
        bool hasAddress, DateTimeOffset now, TimeSpan? frequencyCap = null, string? recordOn = null)
    {
        var recipient = recordOn ?? member.CustomerId;
        var touchpoints = customerEvents.OfType<Touchpoint>().ToList();
        if (touchpoints.Any(t => t is WinBackOfferSent s && s.CampaignId == campaign.CampaignId || t is WinBackOfferSuppressed x && x.CampaignId == campaign.CampaignId))
        {
            return null;
        }

        var at = campaign.AudienceAt ?? now;
        var reason = MayNotSendBecause(customerEvents, cases, campaign, now, frequencyCap ?? new WinBackOptions().FrequencyCap) ?? (!hasAddress ? SuppressionReasons.NoAddress : null);
        return reason is null
            ? new WinBackOfferSent
            {
                CustomerId = recipient, OccurredAt = at, Channel = campaign.Channel, Source = Source, SourceId = $"{campaign.CampaignId}/offer",
                CampaignId = campaign.CampaignId, OfferCode = member.OfferCode, Offer = campaign.Offer, DeliveryKey = DeliveryKey(campaign.CampaignId, member.OfferCode),
                SentAt = now,
            }
            : Suppressed(campaign, recipient, reason, at);
    }

    /// <summary>
    /// A person's current address on <paramref name="channel"/>: the latest value of the channel's field (e-mail, phone)
    /// by business time across all the members' contact details (a later record wins a tie), with the member who gave
    /// it, whose key opens it. Null when none was given, when the latest was erased, or for the app channel, which has none.
    /// </summary>
    public static (string CustomerId, string Stored)? CurrentAddress(IEnumerable<object> personEvents, Channel channel)
    {
        Func<ContactDetailsChanged, string?>? field = channel switch
        {
            Channel.Email => d => d.Email,
            Channel.Phone => d => d.Phone,
            _ => null,
        };
        var latest = field is null ? null : personEvents.OfType<ContactDetailsChanged>().Where(d => field(d) is not null).OrderBy(d => d.OccurredAt).LastOrDefault();
        return latest is not null && field!(latest) is { } stored && stored != PersonalFields.Erased ? (latest.CustomerId, stored) : null;
    }

    /// <summary>An offer not sent (or no longer delivered), with why.</summary>
    public static WinBackOfferSuppressed Suppressed(WinBackCampaign campaign, string customerId, string reason, DateTimeOffset at) => new()
    {
        CustomerId = customerId, OccurredAt = at, Channel = campaign.Channel, Source = Source, SourceId = $"{campaign.CampaignId}/offer",
        CampaignId = campaign.CampaignId, Reason = reason,
    };

    /// <summary>
    /// Where one campaign's offer to a customer stands: the latest of sent, suppressed, undeliverable and delivered (after
    /// a re-drive), in stream order; null when the campaign never decided for them.
    /// </summary>
    public static Touchpoint? OfferOutcome(IEnumerable<Touchpoint> history, string campaignId) =>
        history.LastOrDefault(t => CampaignOf(t) == campaignId && t is WinBackOfferSent or WinBackOfferSuppressed or WinBackOfferUndeliverable or WinBackOfferDelivered);

    /// <summary>Source of the touchpoints the win-back capability records itself.</summary>
    public const string Source = "winback";

    /// <summary>
    /// What a member's purchases mean for a campaign: the first purchase in its window reactivates them (either group),
    /// a treated member's purchase with their code redeems the offer. Each is recorded once. <paramref name="history"/> is
    /// the whole person's (every member's touchpoints), so a purchase by any member counts; the outcomes are for the
    /// audience member's own stream.
    /// </summary>
    public static IReadOnlyList<Touchpoint> Attribute(IReadOnlyList<Touchpoint> history, WinBackCampaign campaign, AudienceMember member)
    {
        if (campaign.Window is not { } window)
        {
            return [];
        }

        var inWindow = history.OfType<PurchaseMade>().Where(p => p.OccurredAt > window.From && p.OccurredAt <= window.To)
            .OrderBy(p => p.OccurredAt).ThenBy(p => p.OrderId, StringComparer.Ordinal).ToList();
        var outcomes = new List<Touchpoint>();
        var mine = history.Where(t => t is CustomerReactivated r && r.CampaignId == campaign.CampaignId || t is WinBackOfferRedeemed d && d.CampaignId == campaign.CampaignId).ToList();
        if (!mine.OfType<CustomerReactivated>().Any() && inWindow.FirstOrDefault() is { } first)
        {
            outcomes.Add(new CustomerReactivated
            {
                CustomerId = member.CustomerId, OccurredAt = first.OccurredAt, Channel = first.Channel, Source = Source, SourceId = $"{campaign.CampaignId}/reactivated",
                CampaignId = campaign.CampaignId, Group = member.Group, OrderId = first.OrderId, Amount = first.Amount, Currency = first.Currency,
            });
        }

        var sent = history.Any(t => t is WinBackOfferSent s && s.CampaignId == campaign.CampaignId);
        if (member.Group == AudienceGroup.Treatment && sent && !mine.OfType<WinBackOfferRedeemed>().Any() &&
            inWindow.FirstOrDefault(p => string.Equals(p.OfferCode, member.OfferCode, StringComparison.OrdinalIgnoreCase)) is { } redeemed)
        {
            outcomes.Add(new WinBackOfferRedeemed
            {
                CustomerId = member.CustomerId, OccurredAt = redeemed.OccurredAt, Channel = redeemed.Channel, Source = Source, SourceId = $"{campaign.CampaignId}/redeemed",
                CampaignId = campaign.CampaignId, OfferCode = member.OfferCode, OrderId = redeemed.OrderId, Amount = redeemed.Amount, Currency = redeemed.Currency,
            });
        }

        return outcomes;
    }

    public static string? CampaignOf(Touchpoint touchpoint) => touchpoint switch
    {
        WinBackOfferSent s => s.CampaignId,
        WinBackOfferSuppressed s => s.CampaignId,
        WinBackOfferUndeliverable u => u.CampaignId,
        WinBackOfferDelivered d => d.CampaignId,
        WinBackOfferRedeemed r => r.CampaignId,
        CustomerReactivated r => r.CampaignId,
        _ => null,
    };

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
