using Marten;
using Npgsql;
using NpgsqlTypes;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace CustomerJourney.Touchpoints;

/// <summary>
/// Appends touchpoints to their customers' streams exactly once per (source, sourceId).
/// <para>
/// The register of seen source ids is a table Marten manages beside the event store. In the same transaction
/// as the append, one multi-row <c>INSERT ... ON CONFLICT DO NOTHING RETURNING</c> claims the keys: whatever
/// it returns is new and gets appended, the rest are duplicates. PostgreSQL's unique index makes concurrent
/// claims of the same key wait for each other, so overlapping batches append each touchpoint once, and the
/// check costs one round trip per batch, not one per item.
/// </para>
/// </summary>
public sealed class TouchpointLedger(IDocumentStore store, TouchpointMetrics metrics, ILogger<TouchpointLedger> logger)
{
    public const string TableName = "cj_touchpoint_sources";

    private const int MaxAttempts = 5;

    public static Table DefineTable(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, TableName, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<string>("source").AsPrimaryKey();
        table.AddColumn<string>("source_id").AsPrimaryKey();
        table.AddColumn<string>("customer_id").NotNull();
        table.AddColumn("recorded_at", "timestamp with time zone").NotNull().DefaultValueByExpression("now()");
        return table;
    }

    /// <summary>Records the touchpoints; the result says, per input, whether it was appended (false: a duplicate).</summary>
    public async Task<bool[]> RecordAsync(IReadOnlyList<Touchpoint> touchpoints, CancellationToken cancellation)
    {
        var appended = new bool[touchpoints.Count];
        if (touchpoints.Count == 0)
        {
            return appended;
        }

        // A repeat inside the same batch is a duplicate of its first occurrence.
        var firstByKey = new Dictionary<(string Source, string SourceId), int>();
        for (var i = 0; i < touchpoints.Count; i++)
        {
            firstByKey.TryAdd((touchpoints[i].Source, touchpoints[i].SourceId), i);
        }

        // Claiming keys and streams in one global order keeps overlapping batches from deadlocking.
        var keys = firstByKey.OrderBy(k => k.Key.Source, StringComparer.Ordinal)
            .ThenBy(k => k.Key.SourceId, StringComparer.Ordinal).ToArray();

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var claimed = await AppendNewAsync(touchpoints, keys, cancellation);
                foreach (var index in claimed)
                {
                    appended[index] = true;
                }

                break;
            }
            catch (Exception e) when (attempt < MaxAttempts && IsTransient(e))
            {
                logger.LogWarning("Touchpoint append attempt {Attempt} hit a transient conflict ({SqlState}); retrying", attempt,
                    (e as PostgresException ?? e.InnerException as PostgresException)?.SqlState);
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 50) * attempt), cancellation);
            }
        }

        for (var i = 0; i < touchpoints.Count; i++)
        {
            var kind = TouchpointCatalogue.KindOf(touchpoints[i]);
            if (appended[i])
            {
                metrics.Appended(kind, touchpoints[i].Source);
            }
            else
            {
                metrics.Duplicate(kind, touchpoints[i].Source);
            }
        }

        return appended;
    }

    private async Task<List<int>> AppendNewAsync(IReadOnlyList<Touchpoint> touchpoints,
        KeyValuePair<(string Source, string SourceId), int>[] keys, CancellationToken cancellation)
    {
        await using var session = store.LightweightSession();
        await session.BeginTransactionAsync(cancellation);

        var schema = store.Options.Events.DatabaseSchemaName;
        await using var claim = new NpgsqlCommand(
            $"""
             insert into {schema}.{TableName} (source, source_id, customer_id)
             select s, i, c from unnest(@sources, @ids, @customers) as k(s, i, c) order by s, i
             on conflict do nothing
             returning source, source_id
             """,
            session.Connection);
        claim.Parameters.Add(new NpgsqlParameter<string[]>("sources", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = keys.Select(k => k.Key.Source).ToArray() });
        claim.Parameters.Add(new NpgsqlParameter<string[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = keys.Select(k => k.Key.SourceId).ToArray() });
        claim.Parameters.Add(new NpgsqlParameter<string[]>("customers", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = keys.Select(k => touchpoints[k.Value].CustomerId).ToArray() });

        var claimedKeys = new HashSet<(string, string)>();
        await using (var reader = await claim.ExecuteReaderAsync(cancellation))
        {
            while (await reader.ReadAsync(cancellation))
            {
                claimedKeys.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        var claimed = keys.Where(k => claimedKeys.Contains(k.Key)).Select(k => k.Value).Order().ToList();
        foreach (var stream in claimed.GroupBy(i => touchpoints[i].CustomerId).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            session.Events.Append(stream.Key, stream.Select(i => (object)touchpoints[i]));
        }

        await session.SaveChangesAsync(cancellation);
        return claimed;
    }

    private static bool IsTransient(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is PostgresException { SqlState: PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure })
            {
                return true;
            }
        }

        return false;
    }
}
