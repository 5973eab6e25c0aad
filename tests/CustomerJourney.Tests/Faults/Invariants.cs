using System.Globalization;
using CustomerJourney.Infrastructure;
using CustomerJourney.Tests.Support;
using Npgsql;

namespace CustomerJourney.Tests.Faults;

/// <summary>
/// What must hold after every fault: no acknowledged touchpoint lost, one event per source id, no stream-version gap,
/// the async projections caught up, and every projected document equal to what a full rebuild writes.
/// </summary>
public static class Invariants
{
    public static async Task AssertAsync(ServiceProcess service, string connectionString, string schema, string source,
        IReadOnlySet<string> acknowledged, int expectedTotal)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);

        // Which acknowledged touchpoints are missing, if any, says more than a count.
        var stored = (await Rows(connection, $"select data->>'sourceId' from {schema}.mt_events where data->>'source' = '{source}'")).ToHashSet(StringComparer.Ordinal);
        var lost = acknowledged.Except(stored).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged touchpoint(s) lost, e.g. {string.Join(", ", lost.Take(5))}");

        var unregistered = await Rows(connection,
            $"select e.data->>'sourceId' || ' (seq ' || e.seq_id || ', ' || e.timestamp || ')' from {schema}.mt_events e where e.data->>'source' = '{source}' and not exists " +
            $"(select 1 from {schema}.cj_touchpoint_sources r where r.source = '{source}' and r.source_id = e.data->>'sourceId')");
        Assert.True(unregistered.Count == 0, $"{unregistered.Count} stored touchpoint(s) not in the source-id register: {string.Join(", ", unregistered.Take(5))}");

        Assert.Equal(expectedTotal, await Scalar(connection, $"select count(*) from {schema}.mt_events where data->>'source' = '{source}'"));
        Assert.Equal(expectedTotal, await Scalar(connection, $"select count(distinct data->>'sourceId') from {schema}.mt_events where data->>'source' = '{source}'"));
        Assert.Equal(expectedTotal, await Scalar(connection, $"select count(*) from {schema}.cj_touchpoint_sources where source = '{source}'"));

        var gaps = await Rows(connection,
            $"select stream_id || ': ' || string_agg(version::text || '/' || type, ',' order by seq_id) from {schema}.mt_events " +
            // Marten's own 'mt_tombstone' stream marks sequence numbers of rolled-back appends: not a customer's.
            $"where stream_id in (select stream_id from {schema}.mt_events where stream_id <> 'mt_tombstone' group by stream_id having max(version) <> count(*) or min(version) <> 1) group by stream_id");
        Assert.True(gaps.Count == 0, "streams with a version gap: " + string.Join(" | ", gaps.Take(5)));

        await CaughtUp(connection, schema);
        Assert.Equal(0, await Scalar(connection,
            $"""
             select count(*) from {schema}.mt_doc_customersummary s
             where (s.data->>'touchpointCount')::int <> (select count(*) from {schema}.mt_events e where e.stream_id = s.id and e.data ? 'sourceId')
             """));

        // The daemon's documents against Marten's own rebuild, with the service stopped so nothing moves meanwhile.
        await service.StopAsync();
        var before = await Documents(connection, schema);
        var rebuildStarted = await Scalar(connection, "select (extract(epoch from clock_timestamp()) * 1000000)::bigint");
        var (exit, output) = await service.RunCommandAsync("projections", "rebuild");
        Assert.True(exit == 0, $"projections rebuild exited with {exit}: {output}");
        // The rebuild really rewrote the async documents (else the comparison below would prove nothing).
        Assert.Equal(0, await Scalar(connection,
            $"select count(*) from {schema}.mt_doc_customersummary where (extract(epoch from mt_last_modified) * 1000000)::bigint < {rebuildStarted}"));
        var after = await Documents(connection, schema);
        Assert.Equal(after.Keys.Order(StringComparer.Ordinal), before.Keys.Order(StringComparer.Ordinal));
        foreach (var (table, rows) in after)
        {
            var differing = rows.Except(before[table]).Take(3).ToList();
            Assert.True(differing.Count == 0 && rows.Count == before[table].Count,
                $"{table}: {before[table].Count} documents before the rebuild, {rows.Count} after; rebuilt and different: {string.Join(" | ", differing)}");
        }
    }

    /// <summary>
    /// Every async shard ("Projection:Shard"; the other rows are the daemon's own marks) has reached the highest
    /// event sequence (bounded wait).
    /// </summary>
    public static async Task CaughtUp(NpgsqlConnection connection, string schema)
    {
        var head = 0L;
        await Waiting.Until(async () =>
        {
            head = await Scalar(connection, $"select coalesce(max(seq_id), 0) from {schema}.mt_events");
            var behind = await Scalar(connection, $"select count(*) from {schema}.mt_event_progression where name like '%:%' and last_seq_id < {head}");
            var shards = await Scalar(connection, $"select count(*) from {schema}.mt_event_progression where name like '%:%'");
            return behind == 0 && (head == 0 || shards > 0);
        }, TimeSpan.FromSeconds(60), $"the async projections of {schema} to catch up with the event store");
    }

    /// <summary>Every document table of the schema: id and body, as text (jsonb prints keys in one order).</summary>
    private static async Task<Dictionary<string, HashSet<string>>> Documents(NpgsqlConnection connection, string schema)
    {
        var tables = await Rows(connection,
            $"select table_name from information_schema.tables where table_schema = '{schema}' and table_name like 'mt_doc_%' order by table_name");
        var documents = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            documents[table] = (await Rows(connection, $"select id::text || ' ' || data::text from {schema}.{table}")).ToHashSet(StringComparer.Ordinal);
        }

        return documents;
    }

    /// <summary>
    /// Another tool writes, at the end of <paramref name="stream"/>, a copy of its first event of <paramref name="type"/>
    /// that no reader can parse (its business time is not a time); answers the copy's sequence number. It holds the
    /// customer's lock as the service's writers do, so a flag evaluation appending to the stream meanwhile waits rather
    /// than taking the same version.
    /// </summary>
    public static async Task<long> AppendUnreadableCopy(NpgsqlConnection connection, string schema, string stream, string type)
    {
        var events = $"{schema}.mt_events";
        await using var transaction = await connection.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await using (var take = new NpgsqlCommand($"select pg_advisory_xact_lock({CustomerLocks.KeyOf("@stream")})", connection, transaction))
        {
            take.Parameters.AddWithValue("stream", stream);
            await take.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var sequence = await Scalar(connection,
            $"with source as (select * from {events} where stream_id = '{stream}' and type = '{type}' limit 1), " +
            $"bumped as (update {schema}.mt_streams set version = version + 1 where id = '{stream}') " +
            $"insert into {events} (seq_id, id, stream_id, version, data, type, timestamp, tenant_id, mt_dotnet_type, is_archived) " +
            $"select nextval('{schema}.mt_events_sequence'), gen_random_uuid(), stream_id, (select max(version) + 1 from {events} where stream_id = '{stream}'), " +
            "jsonb_set(data, '{occurredAt}', '\"yesterday-ish\"'::jsonb), type, now(), tenant_id, mt_dotnet_type, false from source returning seq_id");
        await transaction.CommitAsync(TestContext.Current.CancellationToken);
        return sequence;
    }

    /// <summary>
    /// What a test that found purchase histories missing prints to say why: the customers with purchases but no stored
    /// history (their purchases' sequence numbers, their summary's version), the events around the first of them, the
    /// event sequence, each shard's progress and when it last moved, any range the high-water detection skipped, and what
    /// the daemon logged about its shards, gaps and skips, and its warnings and errors.
    /// </summary>
    public static async Task<string> DescribeMissingPurchaseHistories(string schema, IEnumerable<string> logs)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        var missing = await Rows(connection,
            $"select e.stream_id || ' seq ' || string_agg(e.seq_id::text, ',' order by e.seq_id) || ' summary ' || " +
            $"coalesce((select s.mt_version::text || ' of ' || max(e.version)::text from {schema}.mt_doc_customersummary s where s.id = e.stream_id), 'none') " +
            $"from {schema}.mt_events e where e.type = 'purchase_made' " +
            $"and not exists (select 1 from {schema}.mt_doc_purchasehistory h where h.id = e.stream_id) group by e.stream_id order by 1");
        // The events around the first missing one: who appended what, and when each transaction began.
        var around = await Rows(connection,
            $"with first as (select min(e.seq_id) as s from {schema}.mt_events e where e.type = 'purchase_made' " +
            $"and not exists (select 1 from {schema}.mt_doc_purchasehistory h where h.id = e.stream_id)) " +
            $"select e.seq_id || ' ' || e.stream_id || ' v' || e.version || ' ' || e.type || ' ' || to_char(e.timestamp, 'HH24:MI:SS.US') " +
            $"from {schema}.mt_events e, first where e.seq_id between first.s - 8 and first.s + 3 order by e.seq_id");
        var progress = await Rows(connection,
            $"select name || '=' || last_seq_id || ' at ' || to_char(last_updated, 'HH24:MI:SS.US') from {schema}.mt_event_progression order by name");
        var skips = await Rows(connection, $"select '(' || starting_sequence || ', ' || ending_sequence || '] at ' || timestamp from {schema}.mt_high_water_skips order by ending_sequence");
        var sequence = await Scalar(connection, $"select last_value from {schema}.mt_events_sequence");
        var committed = await Scalar(connection, $"select coalesce(max(seq_id), 0) from {schema}.mt_events");
        string[] daemon = ["Marten", "JasperFx", "Daemon", "Projection", "Subscription"];
        string[] moments = ["skip", "stop", "drain", "paus", "restart", "start", "high water", "gap", "lock", "leader"];
        var said = logs.Where(m => !m.StartsWith("Debug", StringComparison.Ordinal) && !m.StartsWith("Trace", StringComparison.Ordinal)
            && !m.Contains("schema update SQL", StringComparison.Ordinal) && daemon.Any(d => m.Contains(d, StringComparison.Ordinal))
            && (moments.Any(w => m.Contains(w, StringComparison.OrdinalIgnoreCase)) || !m.StartsWith("Information", StringComparison.Ordinal)))
            .Select(m => m.Length > 400 ? m[..400] + " …" : m).Take(60);
        return $"""
                customers with purchases and no purchase history: {missing.Count}: {string.Join(" | ", missing.Take(20))}
                events around the first of them: {string.Join(" | ", around)}
                sequence last_value {sequence}, highest committed seq_id {committed}
                progress: {string.Join(", ", progress)}
                high water skips: {(skips.Count == 0 ? "none" : string.Join(", ", skips))}
                what the daemon logged about its shards, gaps and skips, and its warnings and errors:
                {string.Join(Environment.NewLine, said)}
                """;
    }

    public static async Task<long> Scalar(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken), CultureInfo.InvariantCulture);
    }

    /// <summary>The version Marten stamped on a stored document of <typeparamref name="T"/> when it last wrote it (its stream's version then).</summary>
    public static Task<long> StoredVersion<T>(NpgsqlConnection connection, string schema, string id) =>
        Scalar(connection, $"select mt_version from {schema}.mt_doc_{typeof(T).Name.ToLowerInvariant()} where id = '{id}'");

    public static async Task<List<string>> Rows(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        var rows = new List<string>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }
}
