using System.Runtime.InteropServices;
using CustomerJourney.Identity;
using CustomerJourney.Infrastructure;
using CustomerJourney.Models.Churn;
using CustomerJourney.Touchpoints;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using JasperFx.Events.Grouping;
using JasperFx.MultiTenancy;
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
    /// from the caught-up purchase histories, all held at once (a model's evaluation compares each person's purchases
    /// with the forecast; a fit needs only their summaries: <see cref="SummariesAsync"/>).
    /// </summary>
    public static async Task<IReadOnlyList<PurchaseHistory>> LoadAsync(IQuerySession session, DateTimeOffset? asOf, CancellationToken cancellation)
    {
        var histories = await ProjectionReads.CaughtUpAsync<PurchaseHistory>(session, cancellation);
        var graph = await ProfileGraph.MapAsync(session, asOf, cancellation);
        return Of(histories, graph);
    }

    /// <summary>
    /// The fit's cohort (<see cref="CohortSummaries"/>) from the caught-up purchase histories streamed one by one, with the
    /// profile graph as of the fit's asOf; <paramref name="read"/>, when given, hears how far the read has come.
    /// </summary>
    public static async Task<List<RfmSummary>> SummariesAsync(IQuerySession session, FitRequest fit, TimeZoneInfo zone, Action<int, int>? read,
        CancellationToken cancellation)
    {
        var cohort = new CohortSummaries(await ProfileGraph.MapAsync(session, fit.AsOf, cancellation), fit, zone);
        await foreach (var history in ProjectionReads.CaughtUpStreamedAsync<PurchaseHistory>(session, read, cancellation))
        {
            cohort.Add(history);
        }

        return cohort.Complete();
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
/// <remarks>
/// It runs in one composite with the customer summary (<see cref="CustomerProjections"/>), which reads every event of
/// every touched stream for both: its slices hold only purchases and returns, so the daemon neither loads nor writes the
/// history of a customer whose events in a range are something else (FetchLatest applies the events after the stored
/// <see cref="PurchaseHistory.Version"/>, which change nothing).
/// </remarks>
public sealed partial class PurchaseHistoryProjection : SingleStreamProjection<PurchaseHistory, string>
{
    /// <summary>Never in Marten's single-pass replay: see <see cref="CustomerProjections.JoinsSinglePassReplay"/>.</summary>
    public override bool CanParticipateInCompositeReplay => CustomerProjections.JoinsSinglePassReplay;

    public override IEventSlicer BuildSlicer(IQuerySession session) =>
        new TenantedEventSlicer<PurchaseHistory, string>(new PurchasesAndReturns())
        {
            ForceSingleTenancy = session.DocumentStore.Options.Events.TenancyStyle == TenancyStyle.Single,
        };

    /// <summary>A range's purchases and returns, by stream: Marten's own slicer, less every other kind.</summary>
    private sealed class PurchasesAndReturns : IEventSlicer<PurchaseHistory, string>
    {
        public ValueTask SliceAsync(IReadOnlyList<IEvent> events, SliceGroup<PurchaseHistory, string> grouping)
        {
            foreach (var e in events.Where(Folds))
            {
                grouping.AddEvent(e.StreamKey!, e);
            }

            return ValueTask.CompletedTask;
        }
    }

    /// <summary>What moves a history: its purchases and returns, nothing else.</summary>
    private static bool Folds(IEvent e) => e.Data is PurchaseMade or PurchaseReturned;

    /// <summary>The live fold (FetchLatest, AggregateStream) meets every kind: a slice without a purchase or a return stores nothing.</summary>
    public override (PurchaseHistory?, ActionType) DetermineAction(PurchaseHistory? snapshot, string identity, IReadOnlyList<IEvent> events)
    {
        var folded = events.Where(Folds).ToList();
        if (folded.Count == 0)
        {
            return (snapshot, ActionType.Nothing);
        }

        snapshot ??= new PurchaseHistory { Id = identity };
        foreach (var e in folded)
        {
            switch (e.Data)
            {
                case PurchaseMade p:
                    snapshot.Purchases.Add(new PurchaseRecord(p.OccurredAt, p.Amount, p.Currency, e.Timestamp));
                    break;
                case PurchaseReturned r:
                    snapshot.Returns.Add(new ReturnRecord(r.OccurredAt, r.Amount, r.Currency, e.Timestamp));
                    break;
            }
        }

        return (snapshot, ActionType.Store);
    }
}

/// <summary>
/// A fit's cohort gathered from customers' histories read one at a time, in any order: a person of one customer (almost
/// everyone) is summarised as soon as their history arrives, a merged profile once every member's has. Only summaries are
/// held, never the histories (a million held at once took 2.4 GiB). Gives what <see cref="ChurnFitting.Cohort"/> over
/// <see cref="PeoplesPurchases.Of"/> gives, summarised, in the same profile id order.
/// </summary>
public sealed class CohortSummaries(ProfileMap graph, FitRequest fit, TimeZoneInfo zone)
{
    private readonly List<(string Person, RfmSummary Summary)> _people = [];
    private readonly Dictionary<string, List<PurchaseHistory>> _gathering = new(StringComparer.Ordinal);

    public void Add(PurchaseHistory history)
    {
        var person = graph.ProfileOf(history.Id);
        if (graph.HasJoinedMembers(person))
        {
            (CollectionsMarshal.GetValueRefOrAddDefault(_gathering, person, out _) ??= []).Add(history);
        }
        else
        {
            Summarise(person, [history]);
        }
    }

    /// <summary>Every person the fit covers, summarised, in profile id order.</summary>
    public List<RfmSummary> Complete()
    {
        foreach (var (person, members) in _gathering)
        {
            Summarise(person, members);
        }

        _gathering.Clear();
        _people.Sort((a, b) => string.CompareOrdinal(a.Person, b.Person));
        return [.. _people.Select(p => p.Summary)];
    }

    private void Summarise(string person, IReadOnlyCollection<PurchaseHistory> members)
    {
        if (ChurnFitting.Summary(PurchaseHistory.OfPerson(person, members), fit, zone) is { } summary)
        {
            _people.Add((person, summary));
        }
    }
}
