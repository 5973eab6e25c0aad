using CustomerJourney.Touchpoints;
using JasperFx;
using JasperFx.Events;
using Marten;
using Wolverine;

namespace CustomerJourney.Complaints;

/// <summary>What became of the complaint steps handed to <see cref="ComplaintSteps.DecideAsync"/>.</summary>
/// <param name="Refused">By index into the steps: the rule each refused step broke. Nothing of it was stored, and its source id was given back.</param>
/// <param name="Versions">Each case that took a step: its version after the commit.</param>
public sealed record ComplaintStepsDecided(IReadOnlyDictionary<int, ComplaintRuleException> Refused, IReadOnlyDictionary<string, long> Versions);

/// <summary>
/// The write path of a complaint step, whoever sent it: a source system's batch, a customer's touchpoint, or one of
/// the step endpoints. The touchpoint ledger calls <see cref="DecideAsync"/> inside its own transaction, once it has
/// claimed the steps' source ids (exactly once per source + sourceId), and commits whatever this appended to the
/// session together with that claim. Each case is read from its own stream with optimistic concurrency, its steps go
/// through <see cref="ComplaintDecisions"/> in order, the accepted ones are appended, and the case's next
/// service-promise check is scheduled through Wolverine's outbox in the same commit. A refused step leaves no trace:
/// its source id is given back, so a corrected resend is not taken for a duplicate.
/// </summary>
public sealed class ComplaintSteps(ComplaintSla sla)
{
    /// <summary>True when the touchpoint is a step of a complaint case (it goes on the case's stream, not the customer's).</summary>
    public static bool IsStep(Touchpoint touchpoint) => ComplaintCase.CaseOf(touchpoint) is not null;

    /// <param name="session">The ledger's session: its transaction holds the claim of the steps' source ids.</param>
    /// <param name="outbox">Wolverine's outbox, enrolled in that session, for the promise timers.</param>
    /// <param name="steps">The claimed complaint steps, in the order they were sent.</param>
    /// <param name="pending">Purchases and returns claimed in the same transaction: not in the store yet, but a refund decided here must count them.</param>
    /// <param name="expectedVersion">For a single step sent over HTTP, the case version its writer read.</param>
    /// <param name="historic">
    /// Steps of an imported history: instead of a timer per case, the case is marked unsettled and its past breaches are
    /// recorded once when the import has appended everything (<see cref="SettleImportedComplaints"/>).
    /// </param>
    /// <param name="cancellation">Cancels the reads.</param>
    public async Task<ComplaintStepsDecided> DecideAsync(IDocumentSession session, IMessageBus outbox, IReadOnlyList<Touchpoint> steps,
        IReadOnlyList<Touchpoint> pending, long? expectedVersion, bool historic, CancellationToken cancellation)
    {
        var refused = new Dictionary<int, ComplaintRuleException>();
        var versions = new Dictionary<string, long>(StringComparer.Ordinal);
        // Cases in one global order, as the ledger claims its keys, so overlapping batches do not deadlock.
        foreach (var @case in Enumerable.Range(0, steps.Count).GroupBy(i => ComplaintCase.CaseOf(steps[i])!).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            if (await DecideCaseAsync(session, outbox, @case.Key, @case.ToList(), steps, pending, expectedVersion, historic, refused, cancellation) is { } version)
            {
                versions[@case.Key] = version;
            }
        }

        if (refused.Count > 0)
        {
            await TouchpointLedger.GiveBackAsync(session, refused.Keys.Select(i => steps[i]).ToList(), cancellation);
        }

        return new ComplaintStepsDecided(refused, versions);
    }

    /// <summary>Runs a case's steps through its rules in order; returns the case's version after the append, if anything was appended.</summary>
    private async Task<long?> DecideCaseAsync(IDocumentSession session, IMessageBus outbox, string complaintId, List<int> indexes,
        IReadOnlyList<Touchpoint> steps, IReadOnlyList<Touchpoint> pending, long? expectedVersion, bool historic,
        Dictionary<int, ComplaintRuleException> refused, CancellationToken cancellation)
    {
        var key = ComplaintCase.StreamKey(complaintId);
        IEventStream<ComplaintCase> stream;
        try
        {
            stream = expectedVersion is { } expected
                ? await session.Events.FetchForWriting<ComplaintCase>(key, expected, cancellation)
                : await session.Events.FetchForWriting<ComplaintCase>(key, cancellation);
        }
        catch (ConcurrencyException) when (expectedVersion is { } expected)
        {
            var actual = (await session.Events.FetchStreamStateAsync(key, cancellation))?.Version ?? 0;
            foreach (var i in indexes)
            {
                refused[i] = ComplaintRuleException.StaleVersion(complaintId, expected, actual);
            }

            return null;
        }

        var state = stream.Aggregate;
        OrderPayments? payments = null;
        var appended = new List<object>();
        foreach (var i in indexes)
        {
            // Read when the first refund is decided, not up front: the case may be logged earlier in this same batch.
            if (payments is null && state is not null && steps[i] is RemedyOffered { Remedy: Remedy.Refund })
            {
                payments = await PaymentsAsync(session, state, pending, cancellation);
            }

            try
            {
                foreach (var @event in ComplaintDecisions.Decide(state, steps[i], payments ?? OrderPayments.None))
                {
                    state = ComplaintCase.Fold(state, @event);
                    appended.Add(@event);
                }
            }
            catch (ComplaintRuleException rule)
            {
                refused[i] = rule;
            }
        }

        if (appended.Count == 0 || state is null)
        {
            return null;
        }

        stream.AppendMany(appended);
        if (historic)
        {
            // A later part of the same import may still meet the promise: judge it once the whole history is in.
            session.Store(new UnsettledComplaint { Id = complaintId });
        }
        else
        {
            await sla.ScheduleNextCheckAsync(session, outbox, state, cancellation);
        }

        return (stream.StartingVersion ?? 0) + appended.Count;
    }

    /// <summary>What the customer paid and returned on the case's orders, read from the customer's own stream.</summary>
    private static async Task<OrderPayments> PaymentsAsync(IDocumentSession session, ComplaintCase state, IReadOnlyList<Touchpoint> pending,
        CancellationToken cancellation)
    {
        var orders = state.OrderIds.ToHashSet(StringComparer.Ordinal);
        var stored = await session.Events.FetchStreamAsync(state.CustomerId, token: cancellation);
        var events = stored.Select(e => e.Data).Concat(pending.Where(t => t.CustomerId == state.CustomerId)).ToList();
        return new OrderPayments(
            events.OfType<PurchaseMade>().Where(p => orders.Contains(p.OrderId)).Select(p => new OrderMoney(p.OrderId, p.Amount, p.Currency)).ToList(),
            events.OfType<PurchaseReturned>().Where(r => orders.Contains(r.OrderId)).Select(r => new OrderMoney(r.OrderId, r.Amount, r.Currency)).ToList());
    }
}
