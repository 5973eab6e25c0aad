using CustomerJourney.Complaints;

namespace CustomerJourney.WebConsole.Complaints;

/// <summary>A step of a case's lifecycle as the case file shows it, with the service promise it keeps (if any).</summary>
/// <param name="At">When the step happened (business time); null while it is still to come.</param>
/// <param name="Promise">The promise clock this step stops, as <see cref="SlaClocks.Evaluate"/> computed it for the API's answer.</param>
/// <param name="Recorded">The breach the service recorded for that promise, if it did.</param>
public sealed record LifecycleStep(string Name, DateTimeOffset? At, string? Note, PromiseClock? Promise, RecordedBreach? Recorded);

/// <summary>
/// Lays out the API's answer for a case (its state and its promise clocks) as the steps of its lifecycle. It computes no
/// clock and judges no promise: each step carries the clock the API answered, from the same <see cref="SlaClocks"/> code.
/// </summary>
public static class CaseLifecycle
{
    public static IReadOnlyList<LifecycleStep> Steps(ComplaintView view)
    {
        var c = view.Case;
        PromiseClock? Clock(SlaPromise promise, int cycle) => view.Promises.FirstOrDefault(k => k.Promise == promise && k.Cycle == cycle);
        RecordedBreach? Breach(SlaPromise promise, int cycle) => c.Breaches.FirstOrDefault(b => b.Promise == promise && b.Cycle == cycle);
        LifecycleStep Kept(string name, DateTimeOffset? at, string? note, SlaPromise promise, int cycle) =>
            new(name, at, note, Clock(promise, cycle), Breach(promise, cycle));

        var steps = new List<LifecycleStep>
        {
            new("Logged", c.LoggedAt, $"{c.Category}, {c.Severity.ToString().ToLowerInvariant()} severity, via {c.Channel.ToString().ToLowerInvariant()}", null, null),
            Kept("Acknowledged", c.AcknowledgedAt, null, SlaPromise.Acknowledge, 0),
        };
        if (c.EscalatedAt is { } escalated)
        {
            steps.Add(new("Escalated", escalated, c.EscalatedTo is null ? null : $"to {c.EscalatedTo}", null, null));
        }

        foreach (var pause in c.Pauses)
        {
            steps.Add(new("Waiting for the customer", pause.From, "the acknowledge and resolve clocks pause", null, null));
            if (pause.To is { } resumed)
            {
                steps.Add(new("Customer responded", resumed, "the clocks run again", null, null));
            }
        }

        foreach (var remedy in c.Remedies)
        {
            steps.Add(new("Remedy offered", remedy.OfferedAt, $"{remedy.Remedy} {remedy.Amount} {remedy.Currency}: {remedy.Answer.ToString().ToLowerInvariant()}", null, null));
        }

        for (var cycle = 0; cycle < c.Cycles.Count; cycle++)
        {
            var pass = c.Cycles[cycle];
            var round = cycle == 0 ? null : $"reopening {cycle}";
            if (cycle > 0)
            {
                steps.Add(new("Reopened", pass.OpenedAt, round, null, null));
            }

            steps.Add(Kept("Resolved", pass.ResolvedAt, round, SlaPromise.Resolve, cycle));
            if (pass.ResolvedAt is not null || c.ClosedAt is null)
            {
                steps.Add(Kept("Follow-up call", pass.FollowUpAt, pass.ResolvedAt is null ? "its clock starts at resolution" : round, SlaPromise.FollowUp, cycle));
            }
        }

        if (c.ClosedAt is { } closed)
        {
            steps.Add(new("Closed", closed, null, null, null));
        }

        // Done steps in business-time order, then those still to come in lifecycle order.
        return [.. steps.Where(s => s.At is not null).OrderBy(s => s.At), .. steps.Where(s => s.At is null)];
    }
}
