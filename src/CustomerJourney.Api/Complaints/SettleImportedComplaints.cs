using CustomerJourney.Infrastructure;
using Marten;
using Wolverine.Marten;

namespace CustomerJourney.Complaints;

/// <summary>
/// A case an import appended steps to whose promises have not been judged yet. Written in the ledger's transaction with
/// the steps, deleted in the transaction that judges them, so a crash in between leaves it to the next settlement.
/// </summary>
public sealed class UnsettledComplaint
{
    public string Id { get; set; } = "";
}

/// <summary>Judge the promises of every imported case, now that its whole history is in.</summary>
public sealed record SettleImportedComplaints;

/// <summary>
/// An imported history's cases are judged once, after the import appended everything: the promises it broke long ago are
/// recorded as <see cref="ComplaintSlaBreached"/> now (by <see cref="SlaClocks.Check"/>, the timer's own decision, so a
/// breach is recorded once however often this runs), and only a promise still running gets a timer. Judging each chunk
/// as it came in would record breaches that a later chunk's steps show were kept, and would schedule one timer per
/// historic case.
/// </summary>
public static class SettleImportedComplaintsHandler
{
    private const int Page = 200;

    public static async Task Handle(SettleImportedComplaints _, IDocumentStore store, SlaPolicies policies, TimeProvider clock,
        IServiceScopeFactory scopes, ILogger<SettleImportedComplaints> logger, CancellationToken cancellation)
    {
        while (true)
        {
            IReadOnlyList<string> cases;
            await using (var query = store.QuerySession())
            {
                cases = await query.Query<UnsettledComplaint>().OrderBy(u => u.Id).Take(Page).Select(u => u.Id).ToListAsync(cancellation);
            }

            if (cases.Count == 0)
            {
                return;
            }

            foreach (var complaintId in cases)
            {
                await TransientConflicts.RetryAsync(() => SettleAsync(store, policies, clock, scopes, complaintId, cancellation), logger,
                    "Settling an imported complaint", cancellation);
            }
        }
    }

    private static async Task<bool> SettleAsync(IDocumentStore store, SlaPolicies policies, TimeProvider clock, IServiceScopeFactory scopes,
        string complaintId, CancellationToken cancellation)
    {
        await using var session = store.LightweightSession();
        session.LastModifiedBy = CheckComplaintSlaHandler.Actor;
        session.SetHeader(AuditHeaders.Command, "settle-imported-complaints");
        await using var scope = scopes.CreateAsyncScope();
        var outbox = scope.ServiceProvider.GetRequiredService<IMartenOutbox>();
        outbox.Enroll(session);

        var stream = await session.Events.FetchForWriting<ComplaintCase>(ComplaintCase.StreamKey(complaintId), cancellation);
        var now = clock.GetUtcNow();
        var (breaches, next) = stream.Aggregate is null ? ([], null) : SlaClocks.Check(stream.Aggregate, policies, now);
        if (breaches.Count > 0)
        {
            stream.AppendMany(breaches.Cast<object>().ToArray());
        }

        await ComplaintSla.RescheduleAsync(session, outbox, complaintId, next, now, cancellation);
        session.Delete<UnsettledComplaint>(complaintId);
        await session.SaveChangesAsync(cancellation);
        return true;
    }
}
