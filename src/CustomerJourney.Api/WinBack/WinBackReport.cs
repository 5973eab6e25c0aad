using CustomerJourney.Touchpoints;

namespace CustomerJourney.WinBack;

/// <summary>
/// One group's outcome. Each treated member counts once, by where their offer stands last: sent (or delivered after a
/// re-drive), suppressed (also when a withdrawal stopped its delivery) or undeliverable. Revenue is per currency.
/// </summary>
public sealed record GroupOutcome(int Assigned, int Sent, int Suppressed, int Undeliverable, int Redeemed, int Reactivated, double ReactivationRate,
    IReadOnlyDictionary<string, decimal> Revenue);

/// <summary>Difference of reactivation rates (treatment minus control) with its 95% interval.</summary>
public sealed record Uplift(double Difference, double Lower, double Upper, string Method);

/// <summary>
/// The outcome; <see cref="FirstSentAt"/> and <see cref="LastSentAt"/> are when offers were really sent (wall clock),
/// whatever instant the campaign was run at. <see cref="Days"/> is the same outcome per day of the offer window.
/// </summary>
public sealed record CampaignOutcome(GroupOutcome Treatment, GroupOutcome Control, Uplift? Uplift, decimal OfferCost, IReadOnlyDictionary<string, int> Suppressions,
    IReadOnlyDictionary<string, int> Undeliverable, DateTimeOffset? FirstSentAt, DateTimeOffset? LastSentAt, IReadOnlyList<CampaignDay> Days);

/// <summary>What one group's counted events add up to over a span of days (one day, or the window so far).</summary>
public sealed record DayCounts(int Sent, int Suppressed, int Undeliverable, int Redeemed, int Reactivated, IReadOnlyDictionary<string, decimal> Revenue);

/// <summary>
/// Day <see cref="Day"/> (0 is the campaign's instant) of the offer window, starting at <see cref="From"/> (business
/// time): what each group's counted events add on that day, and up to its end. An offer is dated by where it stands
/// (sent and suppressed carry the campaign's instant, so they fall on day 0), a redemption and a reactivation by their
/// purchase, revenue by each purchase; the last day also takes what happens at the window's very end.
/// </summary>
public sealed record CampaignDay(int Day, DateTimeOffset From, DayCounts Treatment, DayCounts Control, DayCounts TreatmentToDate, DayCounts ControlToDate);

/// <summary>A purchase of an audience member inside the campaign's window, for its revenue (dated for the daily series).</summary>
public sealed record MemberPurchase(string CustomerId, decimal Amount, string Currency, DateTimeOffset? OccurredAt = null);

public static class WinBackReport
{
    /// <summary>
    /// Counts the members' win-back touchpoints (in stream order) per group, each person once; revenue is every purchase
    /// of a reactivated person in the window, summed per currency. <paramref name="personOf"/> names the audience member
    /// a customer id counts for (an offer recorded on the member whose address was used, a purchase by any member);
    /// an id it does not name counts for itself.
    /// </summary>
    public static CampaignOutcome Measure(WinBackCampaign campaign, IReadOnlyList<Touchpoint> outcomes, IReadOnlyList<MemberPurchase> purchases, decimal shippingCost,
        IReadOnlyDictionary<string, string>? personOf = null)
    {
        string Person(string customerId) => personOf?.GetValueOrDefault(customerId) ?? customerId;
        var groupOf = campaign.Members.ToDictionary(m => m.CustomerId, m => m.Group, StringComparer.Ordinal);
        var mine = outcomes.Where(t => groupOf.ContainsKey(Person(t.CustomerId)) && WinBackRules.CampaignOf(t) == campaign.CampaignId).ToList();
        var standing = mine.GroupBy(t => Person(t.CustomerId), StringComparer.Ordinal)
            .Select(g => WinBackRules.OfferOutcome(g, campaign.CampaignId)).OfType<Touchpoint>().ToList();

        GroupOutcome Of(AudienceGroup group)
        {
            bool In(Touchpoint t) => groupOf[Person(t.CustomerId)] == group;
            var assigned = campaign.Members.Count(m => m.Group == group);
            var reactivated = mine.OfType<CustomerReactivated>().Where(In).Select(r => Person(r.CustomerId)).ToHashSet(StringComparer.Ordinal);
            var revenue = purchases.Where(p => reactivated.Contains(Person(p.CustomerId))).GroupBy(p => p.Currency, StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(p => p.Amount), StringComparer.Ordinal);
            return new GroupOutcome(assigned,
                standing.Where(In).Count(t => t is WinBackOfferSent or WinBackOfferDelivered),
                standing.Where(In).Count(t => t is WinBackOfferSuppressed),
                standing.Where(In).Count(t => t is WinBackOfferUndeliverable),
                mine.OfType<WinBackOfferRedeemed>().Where(In).Select(s => Person(s.CustomerId)).Distinct().Count(),
                reactivated.Count,
                assigned == 0 ? 0 : Math.Round((double)reactivated.Count / assigned, 4),
                revenue);
        }

        var treatment = Of(AudienceGroup.Treatment);
        var control = Of(AudienceGroup.Control);
        var cost = mine.OfType<WinBackOfferRedeemed>().Sum(r => campaign.Offer.Kind switch
        {
            OfferKind.DiscountPercent => Math.Round(r.Amount * campaign.Offer.Value / 100m, 2),
            OfferKind.FreeShipping => shippingCost,
            _ => campaign.Offer.Value,
        });
        var suppressions = standing.OfType<WinBackOfferSuppressed>().GroupBy(s => s.Reason).OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var undeliverable = standing.OfType<WinBackOfferUndeliverable>().GroupBy(s => s.Permanent ? "rejected" : "retries-exhausted").OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var sentAt = mine.OfType<WinBackOfferSent>().Select(s => s.SentAt).OfType<DateTimeOffset>().ToList();
        return new CampaignOutcome(treatment, control, UpliftOf(treatment.Reactivated, treatment.Assigned, control.Reactivated, control.Assigned), cost, suppressions,
            undeliverable, sentAt.Count == 0 ? null : sentAt.Min(), sentAt.Count == 0 ? null : sentAt.Max(), Daily(campaign, standing, mine, purchases, Person, groupOf));
    }

    /// <summary>
    /// The daily series over the offer window, from exactly what the totals count (each person's standing offer, the
    /// redemptions and reactivations, the reactivated people's purchases), so its days sum to the totals. Empty before
    /// the launch (no window yet).
    /// </summary>
    private static List<CampaignDay> Daily(WinBackCampaign campaign, IReadOnlyList<Touchpoint> standing, IReadOnlyList<Touchpoint> mine,
        IReadOnlyList<MemberPurchase> purchases, Func<string, string> person, Dictionary<string, AudienceGroup> groupOf)
    {
        if (campaign.Window is not { } window)
        {
            return [];
        }

        var days = Math.Max(1, (int)Math.Ceiling((window.To - window.From).TotalDays));
        int DayOf(DateTimeOffset? t) => t is { } at ? Math.Clamp((int)Math.Floor((at - window.From).TotalDays), 0, days - 1) : 0;
        var redeemers = mine.OfType<WinBackOfferRedeemed>().GroupBy(r => person(r.CustomerId), StringComparer.Ordinal).Select(g => g.First()).ToList();
        var reactivations = mine.OfType<CustomerReactivated>().GroupBy(r => person(r.CustomerId), StringComparer.Ordinal).Select(g => g.First()).ToList();
        var reactivated = reactivations.Select(r => person(r.CustomerId)).ToHashSet(StringComparer.Ordinal);
        var revenue = purchases.Where(p => reactivated.Contains(person(p.CustomerId))).ToList();

        DayCounts Counts(AudienceGroup group, Func<DateTimeOffset?, bool> on)
        {
            bool In(string customerId) => groupOf[person(customerId)] == group;
            return new DayCounts(
                standing.Count(t => In(t.CustomerId) && on(t.OccurredAt) && t is WinBackOfferSent or WinBackOfferDelivered),
                standing.Count(t => In(t.CustomerId) && on(t.OccurredAt) && t is WinBackOfferSuppressed),
                standing.Count(t => In(t.CustomerId) && on(t.OccurredAt) && t is WinBackOfferUndeliverable),
                redeemers.Count(r => In(r.CustomerId) && on(r.OccurredAt)),
                reactivations.Count(r => In(r.CustomerId) && on(r.OccurredAt)),
                revenue.Where(p => In(p.CustomerId) && on(p.OccurredAt)).GroupBy(p => p.Currency, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
                    .ToDictionary(g => g.Key, g => g.Sum(p => p.Amount), StringComparer.Ordinal));
        }

        return Enumerable.Range(0, days).Select(d => new CampaignDay(d, window.From.AddDays(d),
            Counts(AudienceGroup.Treatment, t => DayOf(t) == d), Counts(AudienceGroup.Control, t => DayOf(t) == d),
            Counts(AudienceGroup.Treatment, t => DayOf(t) <= d), Counts(AudienceGroup.Control, t => DayOf(t) <= d))).ToList();
    }

    /// <summary>
    /// Newcombe's hybrid score interval (method 10) for a difference of two proportions: built from each group's Wilson
    /// interval, it stays inside [-1, 1] and keeps its coverage with small groups and rates near 0, where the Wald
    /// interval does not. Null when a group is empty.
    /// </summary>
    public static Uplift? UpliftOf(int treatedHits, int treated, int controlHits, int control, double z = 1.959963984540054)
    {
        if (treated == 0 || control == 0)
        {
            return null;
        }

        var p1 = (double)treatedHits / treated;
        var p2 = (double)controlHits / control;
        var (l1, u1) = Wilson(treatedHits, treated, z);
        var (l2, u2) = Wilson(controlHits, control, z);
        var difference = p1 - p2;
        var lower = difference - Math.Sqrt(Math.Pow(p1 - l1, 2) + Math.Pow(u2 - p2, 2));
        var upper = difference + Math.Sqrt(Math.Pow(u1 - p1, 2) + Math.Pow(p2 - l2, 2));
        return new Uplift(Math.Round(difference, 4), Math.Round(lower, 4), Math.Round(upper, 4), "newcombe-wilson-95");
    }

    /// <summary>The Wilson score interval of a proportion.</summary>
    public static (double Lower, double Upper) Wilson(int hits, int n, double z)
    {
        var p = (double)hits / n;
        var z2 = z * z;
        var centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        var half = z * Math.Sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / (1 + z2 / n);
        return (Math.Max(0, centre - half), Math.Min(1, centre + half));
    }
}
