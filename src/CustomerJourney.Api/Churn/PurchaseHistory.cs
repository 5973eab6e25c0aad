using CustomerJourney.Identity;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using JasperFx.Events;
using Marten;
using Marten.Events.Aggregation;

namespace CustomerJourney.Churn;

/// <summary>One purchase as the models need it: business time, value, and when we learned of it.</summary>
public sealed record PurchaseRecord(DateTimeOffset OccurredAt, decimal Amount, string Currency, DateTimeOffset RecordedAt);

/// <summary>One return, reported beside the model inputs (net value), never mixed into x, t_x or T.</summary>
public sealed record ReturnRecord(DateTimeOffset OccurredAt, decimal Amount, string Currency, DateTimeOffset RecordedAt);

/// <summary>
/// A customer's purchases and returns with both times, so a fit can use "what occurred by the calibration
/// end" and, with asOf, "what we had recorded by then" without reading the event store row by row.
/// </summary>
public sealed class PurchaseHistory
{
    public string Id { get; set; } = "";
    public List<PurchaseRecord> Purchases { get; set; } = [];
    public List<ReturnRecord> Returns { get; set; } = [];

    /// <summary>The stream version this copy was built to; lets FetchLatest apply only what came after.</summary>
    public long Version { get; set; }

    /// <summary>
    /// A person's purchases and returns: every member's of their profile, under the profile's id. Same-day purchases of
    /// two members become one transaction where the models count days (<see cref="Models.Churn.RfmSummary"/>).
    /// </summary>
    public static PurchaseHistory OfPerson(string profileId, IReadOnlyCollection<PurchaseHistory> members) => new()
    {
        Id = profileId,
        Purchases = members.Count == 1 ? members.First().Purchases : [.. members.SelectMany(m => m.Purchases)],
        Returns = members.Count == 1 ? members.First().Returns : [.. members.SelectMany(m => m.Returns)],
    };
}

/// <summary>What fits and evaluations count: people (profiles), not customer ids, so one person with three ids is one customer of the model.</summary>
public static class PeoplesPurchases
{
    /// <summary>
    /// Every person's purchase history, with the profile graph as it stood at <paramref name="asOf"/> (now when null),
    /// from the caught-up purchase histories; <paramref name="read"/>, when given, hears (histories read, histories there are)
    /// as they arrive.
    /// </summary>
    public static async Task<IReadOnlyList<PurchaseHistory>> LoadAsync(IQuerySession session, DateTimeOffset? asOf, CancellationToken cancellation,
        Action<int, int>? read = null)
    {
        var histories = read is null
            ? await ProjectionReads.CaughtUpAsync<PurchaseHistory>(session, cancellation)
            : await ProjectionReads.CaughtUpCountedAsync<PurchaseHistory>(session, read, cancellation);
        var graph = await ProfileGraph.MapAsync(session, asOf, cancellation);
        return Of(histories, graph);
    }

    public static IReadOnlyList<PurchaseHistory> Of(IEnumerable<PurchaseHistory> histories, ProfileMap graph) =>
        [.. graph.GroupByProfile(histories, h => h.Id).Select(person => PurchaseHistory.OfPerson(person.Key, [.. person]))];

    /// <summary>One person's history (their profile's members' as known by <paramref name="asOf"/>), or null when no member has one.</summary>
    public static async Task<PurchaseHistory?> OfPersonAsync(IDocumentSession session, string profileId, IReadOnlyList<string> members, DateTimeOffset? asOf,
        CancellationToken cancellation)
    {
        var histories = new List<PurchaseHistory>();
        foreach (var member in members)
        {
            var history = asOf is null
                ? await ProjectionReads.LatestAsync<PurchaseHistory>(session, member, cancellation)
                : await session.Events.AggregateStreamAsync<PurchaseHistory>(member, timestamp: asOf, token: cancellation);
            if (history is not null)
            {
                histories.Add(history);
            }
        }

        return histories.Count == 0 ? null : PurchaseHistory.OfPerson(profileId, histories);
    }
}

/// <summary>
/// Async: written once per purchase, the busiest document there is. Single reads use FetchLatest (the stored copy
/// plus any events the daemon has not applied yet); fits wait for the daemon to catch up.
/// </summary>
public sealed partial class PurchaseHistoryProjection : SingleStreamProjection<PurchaseHistory, string>
{
    public override PurchaseHistory? Evolve(PurchaseHistory? snapshot, string id, IEvent e)
    {
        switch (e.Data)
        {
            case PurchaseMade p:
                snapshot ??= new PurchaseHistory { Id = id };
                snapshot.Purchases.Add(new PurchaseRecord(p.OccurredAt, p.Amount, p.Currency, e.Timestamp));
                return snapshot;
            case PurchaseReturned r:
                snapshot ??= new PurchaseHistory { Id = id };
                snapshot.Returns.Add(new ReturnRecord(r.OccurredAt, r.Amount, r.Currency, e.Timestamp));
                return snapshot;
            default:
                return snapshot;
        }
    }
}
