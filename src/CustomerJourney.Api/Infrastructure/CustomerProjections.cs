using JasperFx.Events.Projections;
using Marten;

namespace CustomerJourney.Infrastructure;

/// <summary>
/// The async projections kept per customer stream (the customer summary, the purchase history) run together as one
/// composite projection: the daemon reads each range of events once for both and writes every document they change in one
/// batch, where two projections each read the range and wrote apart (under batch ingest the daemon's reads and document
/// writes were a third of PostgreSQL's statement time). The price: an event one of them cannot apply stops both.
/// </summary>
public static class CustomerProjections
{
    /// <summary>The composite's name, and so its shard's in the daemon's progress (<c>Customers:All</c>).</summary>
    public const string Name = "Customers";

    /// <summary>The composite's one shard, as the daemon names it in <c>mt_event_progression</c> and in its health.</summary>
    public const string Shard = Name + ":All";

    /// <summary>
    /// Whether a member may take part in Marten's single-pass composite replay: never. On the composite's first start on a
    /// store that already has events (an import on a new store holds the projections while it appends; a new deployment),
    /// that replay reads up to the event sequence's last reserved number, not to the high-water mark, and records its
    /// progress there: a live write that had taken its numbers but not committed yet was passed over for good (13
    /// customers' purchases in one test run; SlowTransactionTests). Without it the daemon starts as it runs, from the
    /// high-water mark, which waits for such a write. Every member answers this (the composite replays when all may).
    /// </summary>
    public const bool JoinsSinglePassReplay = false;

    public static void Add(StoreOptions options, IProjectionSource<IDocumentOperations, IQuerySession> projection)
    {
        if (projection.CanParticipateInCompositeReplay != JoinsSinglePassReplay)
        {
            throw new InvalidOperationException(
                $"{projection.GetType().Name} must answer CanParticipateInCompositeReplay with CustomerProjections.{nameof(JoinsSinglePassReplay)}.");
        }

        options.Projections.CompositeProjectionFor(Name, composite =>
        {
            // Events per read of the daemon (Marten's default 500): under batch ingest 2,000 took the reads from 10.9 to
            // 2.9 per 5,000 events and their PostgreSQL time from 197 to 93 ms, the projection lag unchanged (bench/README.md).
            composite.Options.BatchSize = 2_000;
            composite.Add(projection);
        });
    }
}
