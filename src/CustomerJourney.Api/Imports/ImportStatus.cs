using CustomerJourney.Infrastructure;
using Marten;
using Npgsql;

namespace CustomerJourney.Imports;

/// <summary>What GET /api/imports/{id} answers.</summary>
/// <param name="Progress">"importing", "catching up, N events behind", "completed" or "interrupted".</param>
/// <param name="EventsBehind">How far the slowest async projection is behind the store's high-water mark at the end of the import.</param>
/// <param name="ReactionsPending">Reactions (flag evaluation, attribution, identity matching, promise checks) not yet handled, and imported cases not yet judged.</param>
public sealed record ImportStatus(
    string Id,
    string State,
    string Progress,
    long Items,
    long Appended,
    long BulkAppended,
    long Duplicates,
    long Rejected,
    long EventsBehind,
    long ReactionsPending,
    IReadOnlyList<ImportRejection> RejectedItems,
    DateTimeOffset StartedAt,
    DateTimeOffset? AppendedAt);

/// <summary>Reads how far the async projections and the reactions are behind an appended import.</summary>
public sealed class ImportStatusReader(IDocumentStore store)
{
    public const string CatchingUp = "catching up";
    public const string Completed = "completed";

    public async Task<ImportStatus> ReadAsync(ImportRun run, CancellationToken cancellation)
    {
        var behind = 0L;
        var pending = 0L;
        var state = run.State;
        var progress = run.State;
        if (run.State == ImportStates.Appended)
        {
            (behind, pending) = await LagAsync(run.HighWater, cancellation);
            state = behind > 0 || pending > 0 ? CatchingUp : Completed;
            progress = state == CatchingUp ? $"catching up, {behind} events behind, {pending} reactions pending" : Completed;
        }

        return new ImportStatus(run.Id, state, progress, run.Items, run.Appended, run.BulkAppended, run.Duplicates, run.RejectedCount, behind,
            pending, run.Rejected, run.StartedAt, run.AppendedAt);
    }

    private async Task<(long Behind, long Pending)> LagAsync(long highWater, CancellationToken cancellation)
    {
        // Which rows of the daemon's progress table are projections that must catch up is ProjectionStatus's to say:
        // the table also holds the high-water detector's own marks, which may stay below the import's high water for good.
        var (_, shards) = await ProjectionStatus.ReadAsync(store, cancellation);
        var behind = shards.Count == 0 ? 0 : Math.Max(0, highWater - shards.Min(s => s.Sequence));
        var schema = store.Options.Events.DatabaseSchemaName;
        var wolverine = CritterStackSetup.WolverineSchema(schema);
        await using var session = store.QuerySession();
        var connection = (NpgsqlConnection)session.Connection!;
        if (connection.State != System.Data.ConnectionState.Open)
        {
            await connection.OpenAsync(cancellation);
        }

        await using var query = new NpgsqlCommand(
            $"""
             select (select count(*) from {wolverine}.wolverine_incoming_envelopes where status = 'Incoming')
                  + (select count(*) from {wolverine}.wolverine_outgoing_envelopes)
                  + (select count(*) from {schema}.mt_doc_unsettledcomplaint)
             """, connection);
        return (behind, (long)(await query.ExecuteScalarAsync(cancellation))!);
    }
}
