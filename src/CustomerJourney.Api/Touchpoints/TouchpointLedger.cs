using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using Marten;
using Npgsql;
using NpgsqlTypes;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace CustomerJourney.Touchpoints;

/// <summary>What became of a touchpoint handed to the ledger.</summary>
public enum TouchpointOutcome
{
    Appended,
    Duplicate,
    CustomerErased,
}

/// <summary>
/// Appends touchpoints to their customers' streams exactly once per (source, sourceId).
/// <para>
/// The register of seen source ids is a table Marten manages beside the event store. In the same transaction
/// as the append, one multi-row <c>INSERT ... ON CONFLICT DO NOTHING RETURNING</c> claims the keys: whatever
/// it returns is new and gets appended, the rest are duplicates. PostgreSQL's unique index makes concurrent
/// claims of the same key wait for each other, so overlapping batches append each touchpoint once, and the
/// check costs one round trip per batch, not one per item. The same round trip reads the register of erased
/// customers, whose touchpoints are never appended.
/// </para>
/// </summary>
public sealed class TouchpointLedger(IDocumentStore store, TouchpointMetrics metrics, ILogger<TouchpointLedger> logger)
{
    public const string TableName = "cj_touchpoint_sources";

    public static Table DefineTable(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, TableName, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<string>("source").AsPrimaryKey();
        table.AddColumn<string>("source_id").AsPrimaryKey();
        table.AddColumn<string>("customer_id").NotNull();
        table.AddColumn("recorded_at", "timestamp with time zone").NotNull().DefaultValueByExpression("now()");
        return table;
    }

    /// <summary>Records the touchpoints on behalf of <paramref name="recordedBy"/> (kept as Marten's user_name); one outcome per input.</summary>
    public async Task<TouchpointOutcome[]> RecordAsync(IReadOnlyList<Touchpoint> touchpoints, string recordedBy, CancellationToken cancellation)
    {
        var outcomes = new TouchpointOutcome[touchpoints.Count];
        if (touchpoints.Count == 0)
        {
            return outcomes;
        }

        // A repeat inside the same batch is a duplicate of its first occurrence.
        var firstByKey = new Dictionary<(string Source, string SourceId), int>();
        for (var i = 0; i < touchpoints.Count; i++)
        {
            outcomes[i] = TouchpointOutcome.Duplicate;
            firstByKey.TryAdd((touchpoints[i].Source, touchpoints[i].SourceId), i);
        }

        // Claiming keys and streams in one global order keeps overlapping batches from deadlocking.
        var keys = firstByKey.OrderBy(k => k.Key.Source, StringComparer.Ordinal)
            .ThenBy(k => k.Key.SourceId, StringComparer.Ordinal).ToArray();

        var (claimed, erased) = await TransientConflicts.RetryAsync(
            () => AppendNewAsync(touchpoints, keys, recordedBy, cancellation), logger, "Touchpoint append", cancellation);
        foreach (var index in claimed)
        {
            outcomes[index] = TouchpointOutcome.Appended;
        }

        for (var i = 0; i < touchpoints.Count; i++)
        {
            if (erased.Contains(touchpoints[i].CustomerId))
            {
                outcomes[i] = TouchpointOutcome.CustomerErased;
            }
        }

        for (var i = 0; i < touchpoints.Count; i++)
        {
            var kind = TouchpointCatalogue.KindOf(touchpoints[i]);
            switch (outcomes[i])
            {
                case TouchpointOutcome.Appended:
                    metrics.Appended(kind, touchpoints[i].Source);
                    break;
                case TouchpointOutcome.Duplicate:
                    metrics.Duplicate(kind, touchpoints[i].Source);
                    break;
                default:
                    metrics.Rejected(kind);
                    break;
            }
        }

        return outcomes;
    }

    private async Task<(List<int> Claimed, HashSet<string> Erased)> AppendNewAsync(IReadOnlyList<Touchpoint> touchpoints,
        KeyValuePair<(string Source, string SourceId), int>[] keys, string recordedBy, CancellationToken cancellation)
    {
        await using var session = store.LightweightSession();
        session.LastModifiedBy = recordedBy;
        await session.BeginTransactionAsync(cancellation);

        var schema = store.Options.Events.DatabaseSchemaName;
        var customers = keys.Select(k => touchpoints[k.Value].CustomerId).ToArray();
        await using var batch = new NpgsqlBatch(session.Connection);
        var erasedQuery = new NpgsqlBatchCommand($"select customer_id from {schema}.{ErasedCustomers.TableName} where customer_id = any(@customers)");
        erasedQuery.Parameters.Add(new NpgsqlParameter<string[]>("customers", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = customers });
        var claim = new NpgsqlBatchCommand(
            $"""
             insert into {schema}.{TableName} (source, source_id, customer_id)
             select s, i, c from unnest(@sources, @ids, @customers) as k(s, i, c)
             where not exists (select 1 from {schema}.{ErasedCustomers.TableName} e where e.customer_id = k.c)
             order by s, i
             on conflict do nothing
             returning source, source_id
             """);
        claim.Parameters.Add(new NpgsqlParameter<string[]>("sources", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = keys.Select(k => k.Key.Source).ToArray() });
        claim.Parameters.Add(new NpgsqlParameter<string[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = keys.Select(k => k.Key.SourceId).ToArray() });
        claim.Parameters.Add(new NpgsqlParameter<string[]>("customers", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = customers });
        batch.BatchCommands.Add(erasedQuery);
        batch.BatchCommands.Add(claim);

        var erased = new HashSet<string>(StringComparer.Ordinal);
        var claimedKeys = new HashSet<(string, string)>();
        await using (var reader = await batch.ExecuteReaderAsync(cancellation))
        {
            while (await reader.ReadAsync(cancellation))
            {
                erased.Add(reader.GetString(0));
            }

            await reader.NextResultAsync(cancellation);
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
        return (claimed, erased);
    }
}
