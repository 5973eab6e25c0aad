using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using JasperFx.Events;
using Marten.Events.Aggregation;

namespace CustomerJourney.Journeys;

/// <summary>
/// What the business asks first about a customer. Touchpoints may arrive out of business-time order, so every
/// "first", "last" and "latest" here compares business times instead of trusting arrival order.
/// </summary>
public sealed class CustomerSummary
{
    public string Id { get; set; } = "";
    public DateTimeOffset? FirstPurchaseAt { get; set; }
    public DateTimeOffset? LastPurchaseAt { get; set; }
    public int PurchaseCount { get; set; }
    public Dictionary<string, decimal> TotalSpend { get; set; } = [];
    public int ReturnCount { get; set; }
    public Dictionary<string, decimal> TotalReturned { get; set; } = [];
    public int? LastCsat { get; set; }
    public DateTimeOffset? LastCsatAt { get; set; }
    public int? LastNps { get; set; }
    public DateTimeOffset? LastNpsAt { get; set; }
    public Dictionary<string, ConsentStatus> Consents { get; set; } = [];
    public int LoyaltyPoints { get; set; }
    public int TouchpointCount { get; set; }
    public DateTimeOffset? LastTouchpointAt { get; set; }
    public DateTimeOffset? ErasedAt { get; set; }

    /// <summary>The stream version this copy was built to; lets FetchLatest apply only what came after.</summary>
    public long Version { get; set; }

    /// <summary>Whether any marketing purpose (marketing-email, marketing-sms, ...) is currently consented; null if never asked.</summary>
    public bool? MarketingConsent
    {
        get
        {
            var marketing = Consents.Where(c => Consent.IsMarketing(c.Key)).ToList();
            return marketing.Count == 0 ? null : marketing.Any(c => c.Value.Given);
        }
    }
}

/// <summary>
/// Async, so ingestion writes only events. Reads still see every acknowledged touchpoint: FetchLatest applies whatever
/// the daemon has not yet (ProjectionReads).
/// </summary>
public sealed partial class CustomerSummaryProjection : SingleStreamProjection<CustomerSummary, string>
{
    /// <summary>Never in Marten's single-pass replay: see <see cref="CustomerProjections.JoinsSinglePassReplay"/>.</summary>
    public override bool CanParticipateInCompositeReplay => CustomerProjections.JoinsSinglePassReplay;

    public override CustomerSummary Evolve(CustomerSummary? snapshot, string id, IEvent e) => e.Data switch
    {
        Touchpoint touchpoint => Fold(snapshot ?? new CustomerSummary { Id = id }, touchpoint),
        CustomerErased erased when snapshot is not null => Erase(snapshot, erased),
        _ => snapshot!,
    };

    public static CustomerSummary Erase(CustomerSummary summary, CustomerErased erased)
    {
        summary.ErasedAt ??= erased.ErasedAt;
        return summary;
    }

    /// <summary>Folds one touchpoint into the summary; also what tests use to replay given events.</summary>
    public static CustomerSummary Fold(CustomerSummary summary, Touchpoint touchpoint)
    {
        var at = touchpoint.OccurredAt;
        summary.TouchpointCount++;
        summary.LastTouchpointAt = Max(summary.LastTouchpointAt, at);
        switch (touchpoint)
        {
            case PurchaseMade p:
                summary.PurchaseCount++;
                summary.FirstPurchaseAt = summary.FirstPurchaseAt is { } first && first <= at ? first : at;
                summary.LastPurchaseAt = Max(summary.LastPurchaseAt, at);
                summary.TotalSpend[p.Currency] = summary.TotalSpend.GetValueOrDefault(p.Currency) + p.Amount;
                break;
            case PurchaseReturned r:
                summary.ReturnCount++;
                summary.TotalReturned[r.Currency] = summary.TotalReturned.GetValueOrDefault(r.Currency) + r.Amount;
                break;
            case SurveyAnswered s:
                if (s.Csat is { } csat && (summary.LastCsatAt is not { } csatAt || csatAt <= at))
                {
                    (summary.LastCsat, summary.LastCsatAt) = (csat, at);
                }

                if (s.Nps is { } nps && (summary.LastNpsAt is not { } npsAt || npsAt <= at))
                {
                    (summary.LastNps, summary.LastNpsAt) = (nps, at);
                }

                break;
            case LoyaltyPointsEarned l:
                summary.LoyaltyPoints += l.Points;
                break;
            case LoyaltyPointsRedeemed l:
                summary.LoyaltyPoints -= l.Points;
                break;
            case ConsentGiven c:
                SetConsent(summary, c.Purpose, true, at);
                break;
            case ConsentWithdrawn c:
                SetConsent(summary, c.Purpose, false, at);
                break;
        }

        return summary;
    }

    /// <summary>
    /// One person's summary from their profile's members' (<paramref name="id"/> names the profile): counts, sums and
    /// points add up, firsts and lasts compare business times (on a tie the later member in id order), and each purpose's
    /// consent is the one consent rule over every member's statements, so a withdrawal by any member stands against an
    /// earlier grant by another.
    /// </summary>
    public static CustomerSummary Combine(string id, IEnumerable<CustomerSummary> members)
    {
        var person = new CustomerSummary { Id = id };
        foreach (var m in members.OrderBy(m => m.Id, StringComparer.Ordinal))
        {
            person.PurchaseCount += m.PurchaseCount;
            person.ReturnCount += m.ReturnCount;
            person.TouchpointCount += m.TouchpointCount;
            person.LoyaltyPoints += m.LoyaltyPoints;
            person.FirstPurchaseAt = Min(person.FirstPurchaseAt, m.FirstPurchaseAt);
            person.LastPurchaseAt = Max(person.LastPurchaseAt, m.LastPurchaseAt);
            person.LastTouchpointAt = Max(person.LastTouchpointAt, m.LastTouchpointAt);
            person.ErasedAt = Min(person.ErasedAt, m.ErasedAt);
            Add(person.TotalSpend, m.TotalSpend);
            Add(person.TotalReturned, m.TotalReturned);
            if (m is { LastCsat: { } csat, LastCsatAt: { } csatAt } && (person.LastCsatAt is not { } at || at <= csatAt))
            {
                (person.LastCsat, person.LastCsatAt) = (csat, csatAt);
            }

            if (m is { LastNps: { } nps, LastNpsAt: { } npsAt } && (person.LastNpsAt is not { } npsSoFar || npsSoFar <= npsAt))
            {
                (person.LastNps, person.LastNpsAt) = (nps, npsAt);
            }

            foreach (var (purpose, status) in m.Consents)
            {
                person.Consents[purpose] = Consent.Standing(person.Consents.GetValueOrDefault(purpose), status);
            }
        }

        return person;

        static void Add(Dictionary<string, decimal> total, Dictionary<string, decimal> more)
        {
            foreach (var (currency, amount) in more)
            {
                total[currency] = total.GetValueOrDefault(currency) + amount;
            }
        }
    }

    private static DateTimeOffset? Min(DateTimeOffset? a, DateTimeOffset? b) => a is { } x && (b is not { } y || x <= y) ? a : b;

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) => a is { } x && (b is not { } y || x >= y) ? a : b;

    private static void SetConsent(CustomerSummary summary, string purpose, bool given, DateTimeOffset at) =>
        summary.Consents[purpose] = Consent.Standing(summary.Consents.GetValueOrDefault(purpose), new ConsentStatus(given, at));

    private static DateTimeOffset Max(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x > b ? x : b;
}
