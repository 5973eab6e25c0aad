using CustomerJourney.Touchpoints;
using JasperFx.Events;
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
