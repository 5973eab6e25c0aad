using Marten;
using Wolverine;
using Wolverine.Marten;

namespace CustomerJourney.Complaints;

public enum PromiseState
{
    Running,
    Paused,
    Met,
    Breached,

    /// <summary>The case was closed, or reopened, before the promise fell due: it no longer applies.</summary>
    Withdrawn,
}

/// <summary>One service promise of one cycle of a case, as its clock stands at an instant.</summary>
public sealed record PromiseClock(
    SlaPromise Promise,
    int Cycle,
    DateTimeOffset StartedAt,
    TimeSpan Budget,
    DateTimeOffset? DueAt,
    DateTimeOffset? MetAt,
    PromiseState State,
    TimeSpan Counted,
    TimeSpan? OverdueBy);

/// <summary>
/// Pure: the promise clocks of a case, derived from its events alone, so they can be recomputed under any policy.
/// Each cycle (the first pass, then each reopening) has a resolve promise and, once resolved, a follow-up promise;
/// the first cycle also has the acknowledge promise. Waiting on the customer pauses the acknowledge and resolve clocks.
/// </summary>
public static class SlaClocks
{
    public static IReadOnlyList<PromiseClock> Evaluate(ComplaintCase c, SlaPromises promises, DateTimeOffset now)
    {
        var stop = c.ClosedAt;
        var clocks = new List<PromiseClock>
        {
            Clock(SlaPromise.Acknowledge, 0, c.LoggedAt, c.AcknowledgedAt, promises.Acknowledge, c.Pauses, stop, null, promises.Clock, now),
        };
        for (var cycle = 0; cycle < c.Cycles.Count; cycle++)
        {
            var pass = c.Cycles[cycle];
            var next = cycle + 1 < c.Cycles.Count ? c.Cycles[cycle + 1].OpenedAt : (DateTimeOffset?)null;
            clocks.Add(Clock(SlaPromise.Resolve, cycle, pass.OpenedAt, pass.ResolvedAt, promises.Resolve, c.Pauses, stop, null, promises.Clock, now));
            if (pass.ResolvedAt is { } resolvedAt)
            {
                clocks.Add(Clock(SlaPromise.FollowUp, cycle, resolvedAt, pass.FollowUpAt, promises.FollowUp, [], stop, next, promises.Clock, now));
            }
        }

        return clocks;
    }

    private static PromiseClock Clock(SlaPromise promise, int cycle, DateTimeOffset start, DateTimeOffset? metAt, TimeSpan budget,
        IReadOnlyList<Pause> pauses, DateTimeOffset? closedAt, DateTimeOffset? reopenedAt, ISlaClock clock, DateTimeOffset now)
    {
        var due = DueAt(start, budget, pauses, clock);
        var end = metAt ?? Min(now, Min(closedAt, reopenedAt));
        var counted = Counted(start, end, pauses, clock);
        if (metAt is { } met)
        {
            return due is { } d && met > d
                ? new PromiseClock(promise, cycle, start, budget, due, met, PromiseState.Breached, counted, met - d)
                : new PromiseClock(promise, cycle, start, budget, due, met, PromiseState.Met, counted, null);
        }

        if (due is { } dueAt && dueAt <= end)
        {
            return new PromiseClock(promise, cycle, start, budget, due, null, PromiseState.Breached, counted, end - dueAt);
        }

        if (Min(closedAt, reopenedAt) is { } withdrawnAt && withdrawnAt <= now)
        {
            return new PromiseClock(promise, cycle, start, budget, due, null, PromiseState.Withdrawn, counted, null);
        }

        var paused = pauses.Any(p => p.From <= now && p.To is null && p.From >= start);
        return new PromiseClock(promise, cycle, start, budget, due, null, paused ? PromiseState.Paused : PromiseState.Running, counted, null);
    }

    /// <summary>When the budget runs out, counting only unpaused time; null while an open pause holds the clock.</summary>
    private static DateTimeOffset? DueAt(DateTimeOffset start, TimeSpan budget, IReadOnlyList<Pause> pauses, ISlaClock clock)
    {
        var remaining = budget;
        var from = start;
        foreach (var pause in pauses.Where(p => (p.To ?? DateTimeOffset.MaxValue) > start).OrderBy(p => p.From))
        {
            var pauseFrom = pause.From < from ? from : pause.From;
            var available = clock.Elapsed(from, pauseFrom);
            if (available >= remaining)
            {
                break;
            }

            remaining -= available;
            if (pause.To is not { } resumed)
            {
                return null;
            }

            from = resumed > from ? resumed : from;
        }

        return clock.Add(from, remaining);
    }

    private static TimeSpan Counted(DateTimeOffset start, DateTimeOffset end, IReadOnlyList<Pause> pauses, ISlaClock clock)
    {
        var total = clock.Elapsed(start, end);
        foreach (var pause in pauses)
        {
            var from = pause.From < start ? start : pause.From;
            var to = pause.To is { } t && t < end ? t : end;
            if (to > from)
            {
                total -= clock.Elapsed(from, to);
            }
        }

        return total < TimeSpan.Zero ? TimeSpan.Zero : total;
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset? b) => b is { } v && v < a ? v : a;

    private static DateTimeOffset? Min(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : Min(a.Value, b);

    /// <summary>A promise whose due time had passed by <paramref name="at"/> without it being met then (met late, or not at all).</summary>
    private static bool IsBreach(PromiseClock k, DateTimeOffset at) => k is { State: PromiseState.Breached, DueAt: { } due } && due <= at;

    /// <summary>
    /// The one meaning of a breached complaint: the promises of <paramref name="c"/> broken by business instant
    /// <paramref name="at"/>, under <paramref name="promises"/>. Judged from the case's steps as they stood then (a step
    /// that occurred later is taken back), so a past instant gets the same answer whether or not the timer had recorded
    /// <see cref="ComplaintSlaBreached"/> by then. Empty when none was broken or the case was not yet logged.
    /// </summary>
    public static IReadOnlyList<PromiseClock> BreachedAt(ComplaintCase c, SlaPromises promises, DateTimeOffset at) =>
        c.LoggedAt > at ? [] : Evaluate(StoodAt(c, at), promises, at).Where(k => IsBreach(k, at)).ToList();

    /// <summary>The case with every step that occurred after <paramref name="at"/> taken back, as far as the clocks read it.</summary>
    private static ComplaintCase StoodAt(ComplaintCase c, DateTimeOffset at)
    {
        DateTimeOffset? By(DateTimeOffset? time) => time <= at ? time : null;
        var cycles = c.Cycles.Where(k => k.OpenedAt <= at).Select(k => k with { ResolvedAt = By(k.ResolvedAt), FollowUpAt = By(k.FollowUpAt) }).ToList();
        return c with
        {
            AcknowledgedAt = By(c.AcknowledgedAt),
            ClosedAt = By(c.ClosedAt),
            Cycles = cycles.Count > 0 ? cycles : [new CaseCycle(c.LoggedAt)],
            Pauses = [.. c.Pauses.Where(p => p.From <= at).Select(p => p with { To = By(p.To) })],
        };
    }

    /// <summary>The breaches to record now: promises past due, or met late, that the case has not recorded yet.</summary>
    public static IReadOnlyList<ComplaintSlaBreached> Breaches(ComplaintCase c, SlaPromises promises, string policy, DateTimeOffset now) =>
        Evaluate(c, promises, now)
            .Where(k => IsBreach(k, now) && !c.Breaches.Any(b => b.Promise == k.Promise && b.Cycle == k.Cycle))
            .Select(k => new ComplaintSlaBreached(c.ComplaintId, c.CustomerId, k.Promise, k.Cycle, policy, k.DueAt!.Value, now, k.OverdueBy!.Value))
            .ToList();

    /// <summary>
    /// The promise check's decision: the breaches to record at <paramref name="now"/> under the policy for the case's
    /// severity, and when the next promise falls due once they are recorded.
    /// </summary>
    public static (IReadOnlyList<ComplaintSlaBreached> Breaches, DateTimeOffset? NextDue) Check(ComplaintCase c, SlaPolicies policies, DateTimeOffset now)
    {
        var promises = policies.For(c.Severity);
        var breaches = Breaches(c, promises, policies.Current, now);
        var after = breaches.Aggregate(c, (state, breach) => ComplaintCase.Fold(state, breach)!);
        return (breaches, NextDue(after, promises, now));
    }

    /// <summary>When the next unkept promise falls due, if any clock is running.</summary>
    public static DateTimeOffset? NextDue(ComplaintCase c, SlaPromises promises, DateTimeOffset now) =>
        Evaluate(c, promises, now)
            .Where(k => k.State == PromiseState.Running && k.DueAt is not null)
            .Select(k => k.DueAt)
            .Min();
}

/// <summary>Check a case's promises now: record what was missed, schedule the next check.</summary>
public sealed record CheckComplaintSla(string ComplaintId)
{
    /// <summary>The case's stream, which the aggregate workflow fetches for writing.</summary>
    [JasperFx.Identity]
    public string CaseStream => ComplaintCase.StreamKey(ComplaintId);
}

/// <summary>The one promise check a case has scheduled, kept so that a met promise can take its timer back.</summary>
public sealed class ComplaintTimer
{
    public string Id { get; set; } = "";
    public Guid EnvelopeId { get; set; }
    public DateTimeOffset DueAt { get; set; }
}

/// <summary>The promises in force, applied to cases: what the ledger and the timer handler share.</summary>
public sealed class ComplaintSla(SlaPolicies policies, TimeProvider clock)
{
    /// <summary>When the case's promises should next be checked; a past due time means "now".</summary>
    public DateTimeOffset? NextCheck(ComplaintCase c)
    {
        var now = clock.GetUtcNow();
        var promises = policies.For(c.Severity);
        return SlaClocks.Breaches(c, promises, policies.Current, now).Count > 0 ? now : SlaClocks.NextDue(c, promises, now);
    }

    /// <summary>Schedules the case's next check (or cancels its timer) after a step changed it.</summary>
    public Task ScheduleNextCheckAsync(IDocumentSession session, IMessageBus context, ComplaintCase c, CancellationToken cancellation) =>
        RescheduleAsync(session, context, c.ComplaintId, NextCheck(c), clock.GetUtcNow(), cancellation);

    /// <summary>
    /// Keeps one scheduled check per case, in the caller's transaction: the check for <paramref name="due"/> replaces the
    /// one scheduled before, and no due time (every promise met or withdrawn) cancels it. Wolverine 6 cancels scheduled
    /// messages only for sagas, so the earlier envelope is deleted from its durable store by id. Should a cancelled
    /// check run anyway (it was already being delivered), it finds nothing due and appends nothing.
    /// </summary>
    public static async Task RescheduleAsync(IDocumentSession session, IMessageBus context, string complaintId, DateTimeOffset? due,
        DateTimeOffset now, CancellationToken cancellation)
    {
        // Inside the timer's own handler its envelope is the current one: it is being handled, not cancelled.
        var running = (context as IMessageContext)?.Envelope?.Id;
        var current = await session.LoadAsync<ComplaintTimer>(complaintId, cancellation);
        if (current is not null && current.DueAt == due && current.EnvelopeId != running)
        {
            return;
        }

        if (current is not null && current.EnvelopeId != running)
        {
            var schema = Infrastructure.CritterStackSetup.WolverineSchema(session.DocumentStore.Options.Events.DatabaseSchemaName);
            session.QueueSqlCommand($"delete from {schema}.wolverine_incoming_envelopes where id = ? and status = 'Scheduled'", current.EnvelopeId);
        }

        if (due is not { } at)
        {
            if (current is not null)
            {
                session.Delete(current);
            }

            return;
        }

        var check = new CheckComplaintSla(complaintId);
        await context.ScheduleAsync(check, at > now ? at : now.AddSeconds(1));
        var envelope = (context as Wolverine.Runtime.MessageBus)?.Outstanding.LastOrDefault(e => ReferenceEquals(e.Message, check))
                       ?? throw new InvalidOperationException($"The promise check of complaint {complaintId} was scheduled, but its envelope is not in this context.");
        session.Store(new ComplaintTimer { Id = complaintId, EnvelopeId = envelope.Id, DueAt = at });
    }
}

/// <summary>
/// Wolverine's aggregate workflow: the case is fetched for writing (optimistic concurrency on its stream), the pure
/// <see cref="SlaClocks.Check"/> decides, and the returned breaches are appended in the handler's transaction with the
/// next check. Two instances, or a timer delivered twice after a restart, record a missed promise once: the second
/// writer retries, sees the breach and appends nothing.
/// </summary>
public static class CheckComplaintSlaHandler
{
    public const string Actor = "system:sla";

    public static async Task<Events> Handle(CheckComplaintSla command, [WriteAggregate(Required = false)] ComplaintCase? complaint,
        IDocumentSession session, IMessageContext context, SlaPolicies policies, TimeProvider clock, CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        var (breaches, next) = complaint is null ? ([], null) : SlaClocks.Check(complaint, policies, now);
        if (breaches.Count > 0)
        {
            session.LastModifiedBy = Actor;
            session.SetHeader(AuditHeaders.Command, "check-complaint-sla");
        }

        await ComplaintSla.RescheduleAsync(session, context, command.ComplaintId, next, now, cancellation);
        return [.. breaches];
    }
}

/// <summary>Headers Marten keeps with each event for the audit trail.</summary>
public static class AuditHeaders
{
    /// <summary>The command that caused the event, e.g. "POST /api/complaints/{complaintId}/acknowledge".</summary>
    public const string Command = "command";
}
