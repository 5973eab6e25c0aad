using System.Diagnostics;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using CustomerJourney.Access;
using CustomerJourney.Churn;
using CustomerJourney.Complaints;
using CustomerJourney.Identity;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using CustomerJourney.WinBack;
using JasperFx.Events;
using Marten;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;
using Wolverine.Marten;

namespace CustomerJourney.Imports;

/// <summary>How far an import has come, after each chunk: for the command's progress bar.</summary>
public sealed record ImportProgress(long Items, long Appended, long Duplicates, long Rejected, TimeSpan Elapsed, long BytesRead);

/// <summary>
/// Imports a history (NDJSON of touchpoints in the batch item shape) chunk by chunk. Each item goes through the API's own
/// validation (<see cref="TouchpointIngestion.Read"/>: parse, erasure, intake with its sealing of personal data, source
/// ownership). A customer with no stream yet gets its touchpoints through Marten's COPY bulk append; everything else
/// (customers who have a stream, complaint steps, whose decisions read their case) goes through the ledger, as live ingest does.
/// <para>
/// Exactly once across a crash: the bulk append runs in its own transaction, so the register cannot commit with it. The
/// source ids are claimed first, in a transaction that also records the chunk's claim (<see cref="ChunkTable"/>); the
/// events carry ids derived from their source ids; the chunk is closed, with its reactions in Wolverine's outbox, in a
/// third transaction. An import holds a session lock for as long as it runs; any chunk left claimed by an import whose
/// lock is free was cut short, and the next import first looks up which of its events were stored: their reactions are
/// enqueued, and the source ids of the missing ones are given back, so a re-run appends exactly those.
/// </para>
/// </summary>
public sealed class HistoryImport(IDocumentStore store, TouchpointLedger ledger, IPersonalDataProtector personal, TimeProvider clock,
    IServiceScopeFactory scopes, ProjectionsAside projections, IOptions<ImportOptions> options, IOptions<IngestionOptions> ingestion, ILogger<HistoryImport> logger)
{
    public const string ChunkTable = "cj_import_chunks";

    private const string Claimed = "claimed";
    private const string Done = "done";
    private const string Recovered = "recovered";
    private const string Announced = "announced";

    public static Table DefineTable(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, ChunkTable, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<string>("import_id").AsPrimaryKey();
        table.AddColumn<int>("chunk").AsPrimaryKey();
        table.AddColumn<string>("state").NotNull();
        // The source ids claimed for the bulk append, and their customers: what recovery checks against mt_events.
        table.AddColumn("sources", "text[]");
        table.AddColumn("source_ids", "text[]");
        table.AddColumn("customers", "text[]");
        table.AddColumn("buyers", "text[]");
        // What the announcement tells (TouchpointLedger.Announcements): whose churn-flag inputs may raise a flag (the
        // chunk's customers are new, so carry none an input could clear: ChurnFlagRules.MayRaise), and per claimed source
        // id whether it may link identities. Null in chunks recorded before these existed: everyone, every one.
        table.AddColumn("evaluate", "text[]");
        table.AddColumn("may_link", "boolean[]");
        return table;
    }

    /// <summary>The id of an imported event: derived from its source id, so recovery can tell whether it was stored.</summary>
    public static Guid EventIdOf(string source, string sourceId)
    {
        // Computed for every imported event: the UTF-8 text and the hash on the stack when they fit (source ids are short).
        var length = Encoding.UTF8.GetByteCount(source) + 1 + Encoding.UTF8.GetByteCount(sourceId);
        var text = length <= 512 ? stackalloc byte[length] : new byte[length];
        var written = Encoding.UTF8.GetBytes(source, text);
        text[written++] = (byte)'\n';
        Encoding.UTF8.GetBytes(sourceId, text[written..]);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(text, hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }

    /// <summary>For tests: runs between the claim and the bulk append, where live ingest may start one of the chunk's customers.</summary>
    internal Func<IReadOnlyList<Touchpoint>, Task>? BeforeBulkAppend { get; set; }

    public ImportRun Start(string id, string recordedBy) => new() { Id = id, RecordedBy = recordedBy, StartedAt = clock.GetUtcNow() };

    /// <summary>
    /// Runs (or resumes) <paramref name="run"/> over <paramref name="body"/>. Chunks a previous run of the same id closed are
    /// skipped unparsed; a chunk it left open is recovered first, then read again.
    /// <para>
    /// Two stages at once: while one chunk is copied and closed, the next is read, parsed, validated, sealed and claimed.
    /// A chunk whose customers meet one still being committed waits for it first, so a new customer is never given two
    /// keys, and the claim sees the streams the earlier chunk started.
    /// </para>
    /// </summary>
    public async Task<ImportRun> RunAsync(ImportRun run, Stream body, ClaimsPrincipal caller, string command, Action<ImportProgress>? progress,
        CancellationToken cancellation)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        await using var owner = await OpenOwnerLockAsync(run.Id, cancellation);
        await RecoverAsync(owner, schema, cancellation);

        await using (var session = store.QuerySession())
        {
            run = await session.LoadAsync<ImportRun>(run.Id, cancellation) ?? run;
        }

        run.State = ImportStates.Importing;
        var done = await ClosedChunksAsync(schema, run.Id, cancellation);
        var watch = Stopwatch.StartNew();
        var bytes = new CountingStream(body);
        var prepared = System.Threading.Channels.Channel.CreateBounded<PreparedChunk>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var held = await projections.HoldAsync(cancellation);
        var reading = Task.Run(() => PrepareChunksAsync(run.Id, bytes, done, caller, prepared.Writer, stop.Token), CancellationToken.None);
        try
        {
            await foreach (var chunk in prepared.Reader.ReadAllAsync(stop.Token))
            {
                try
                {
                    await ImportChunkOnceAsync(run, chunk, caller, command, stop.Token);
                }
                finally
                {
                    chunk.Committed.TrySetResult();
                }

                progress?.Invoke(new ImportProgress(run.Items, run.Appended, run.Duplicates, run.RejectedCount, watch.Elapsed, bytes.BytesRead));
            }

            await reading;
        }
        catch
        {
            await stop.CancelAsync();
            await reading.ContinueWith(_ => { }, TaskScheduler.Default);
            throw;
        }
        finally
        {
            await held.DisposeAsync();
        }

        await FinishAsync(run, cancellation);
        progress?.Invoke(new ImportProgress(run.Items, run.Appended, run.Duplicates, run.RejectedCount, watch.Elapsed, bytes.BytesRead));
        return run;
    }

    /// <summary>
    /// Reads the body into chunks and prepares each (parse, keys, validation and sealing) for the committing stage. A chunk
    /// ends at its size, or, when the customer changes, up to twice that: a history grouped by customer then keeps each
    /// customer in one chunk (one stream, one bulk append). The cut depends only on the file, so a resumed run numbers the
    /// chunks as the first did.
    /// </summary>
    private async Task PrepareChunksAsync(string importId, Stream body, HashSet<int> done, ClaimsPrincipal caller, ChannelWriter<PreparedChunk> ready,
        CancellationToken cancellation)
    {
        Exception? failure = null;
        try
        {
            var size = options.Value.ChunkSize;
            var lines = new List<NdJsonLine>(size);
            var inFlight = new List<PreparedChunk>();
            string? previous = null;
            var number = 0;
            await foreach (var line in NdJsonItems.ReadAsync(body, ingestion.Value.MaxTouchpointBytes, cancellation))
            {
                var customer = NdJsonItems.CustomerIdOf(line);
                if (lines.Count >= size && (lines.Count >= 2 * size || !string.Equals(customer, previous, StringComparison.Ordinal)))
                {
                    await HandOnAsync(importId, number++, lines, done, caller, inFlight, ready, cancellation);
                    lines = new List<NdJsonLine>(size);
                }

                lines.Add(line);
                previous = customer;
            }

            if (lines.Count > 0)
            {
                await HandOnAsync(importId, number, lines, done, caller, inFlight, ready, cancellation);
            }
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            ready.TryComplete(failure);
        }
    }

    private async Task HandOnAsync(string importId, int number, List<NdJsonLine> lines, HashSet<int> done, ClaimsPrincipal caller, List<PreparedChunk> inFlight,
        ChannelWriter<PreparedChunk> ready, CancellationToken cancellation)
    {
        if (done.Contains(number))
        {
            return;
        }

        inFlight.RemoveAll(c => c.Committed.Task.IsCompleted);
        PreparedChunk chunk;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                chunk = await PrepareAsync(importId, number, lines, caller, inFlight, cancellation);
                break;
            }
            catch (PersonalDataKeyRaceException) when (attempt < 3)
            {
                // Live ingest stored a new customer's key first: seal the chunk again with that key.
            }
        }

        inFlight.Add(chunk);
        await ready.WriteAsync(chunk, cancellation);
    }

    /// <summary>
    /// Parses, validates and seals one chunk as the API does (<see cref="TouchpointIngestion.Read"/>), then claims its new
    /// customers' source ids; after any chunk in flight that shares a customer.
    /// </summary>
    private async Task<PreparedChunk> PrepareAsync(string importId, int number, List<NdJsonLine> lines, ClaimsPrincipal caller, IReadOnlyList<PreparedChunk> inFlight,
        CancellationToken cancellation)
    {
        var phases = Stopwatch.StartNew();
        // The customers are read from the raw lines (as the chunks are cut), so each line's document can be parsed, read
        // and let go one at a time below: a chunk holding ten thousand parsed documents kept them alive through several
        // collections (bench/README.md, fifteenth round). A line that names a customer but is refused only costs a key
        // made in memory and never stored (KeepNewKeysAsync stores the keys of accepted touchpoints' customers).
        var customerIds = lines.Select(NdJsonItems.CustomerIdOf).Where(id => id is not null && TouchpointCatalogue.IdPattern().IsMatch(id))
            .Select(id => id!).ToHashSet(StringComparer.Ordinal);
        var named = phases.Elapsed;
        foreach (var earlier in inFlight.Where(c => c.Customers.Overlaps(customerIds)))
        {
            // Its new customers' keys are stored when it commits: load them then, not a second key now.
            await earlier.Committed.Task.WaitAsync(cancellation);
        }

        var waited = phases.Elapsed;
        var cipher = await personal.ForCustomersAsync(customerIds, forWriting: true, cancellation);
        var keyed = phases.Elapsed;
        var now = clock.GetUtcNow();
        var chunk = new PreparedChunk(number, lines, customerIds, cipher);
        for (var i = 0; i < lines.Count; i++)
        {
            var (item, document) = Parse(lines[i]);
            using (document)
            {
                if (TouchpointIngestion.Read(item, null, now, cipher, caller, out var touchpoint, out _) is { } problem)
                {
                    chunk.Rejected.Add(new ImportRejection(lines[i].Index, problem));
                }
                else if (chunk.Seen.TryAdd((touchpoint!.Source, touchpoint.SourceId), lines[i].Index))
                {
                    chunk.Accepted.Add(touchpoint);
                }
                else
                {
                    // A repeat inside the chunk is a duplicate of its first occurrence, as in a batch.
                    chunk.Duplicates++;
                }
            }
        }

        var read = phases.Elapsed;
        (chunk.Bulk, chunk.Normal, chunk.Known) = await ClaimNewCustomersAsync(importId, number, chunk.Accepted, cipher, cancellation);
        chunk.Prepared = $"customers {named.TotalMilliseconds:F0} ms, wait {(waited - named).TotalMilliseconds:F0} ms, keys {(keyed - waited).TotalMilliseconds:F0} ms, " +
                         $"parse and intake {(read - keyed).TotalMilliseconds:F0} ms, claim {(phases.Elapsed - read).TotalMilliseconds:F0} ms";
        return chunk;
    }

    private async Task ImportChunkOnceAsync(ImportRun run, PreparedChunk chunk, ClaimsPrincipal caller, string command, CancellationToken cancellation)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await ImportChunkAsync(run, chunk, command, cancellation);
                return;
            }
            catch (PersonalDataKeyRaceException) when (attempt < 3)
            {
                // Live ingest stored a new customer's key first: seal the chunk again with that key.
                chunk = await PrepareAsync(run.Id, chunk.Number, chunk.Lines, caller, [], cancellation);
            }
        }
    }

    private async Task ImportChunkAsync(ImportRun run, PreparedChunk chunk, string command, CancellationToken cancellation)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        var number = chunk.Number;
        var phases = Stopwatch.StartNew();
        var rejected = chunk.Rejected;
        var duplicates = chunk.Duplicates;
        var (bulk, normal) = (chunk.Bulk, chunk.Normal);
        duplicates += chunk.Known;
        if (options.Value.HoldAfterClaimOfChunk == number && bulk.Count > 0)
        {
            await Task.Delay(Timeout.Infinite, cancellation);
        }

        if (bulk.Count > 0 && !await BulkAppendAsync(bulk, run.RecordedBy, command, cancellation))
        {
            // Live ingest started one of these customers meanwhile: the COPY stored nothing, so the claims go back
            // and the whole lot takes the ledger's path, which appends to existing streams.
            await ReleaseAsync(schema, run.Id, number, bulk, cancellation);
            normal.AddRange(bulk);
            bulk.Clear();
        }

        var copied = phases.Elapsed;
        var ledgered = await ledger.RecordAsync(normal, new LedgerWrite(run.RecordedBy, command, chunk.Cipher, Historic: true), cancellation);
        var appended = bulk.Count;
        for (var i = 0; i < normal.Count; i++)
        {
            switch (ledgered.Outcomes[i])
            {
                case TouchpointOutcome.Appended:
                    appended++;
                    break;
                case TouchpointOutcome.Duplicate:
                    duplicates++;
                    break;
                case TouchpointOutcome.RuleBroken:
                    rejected.Add(new ImportRejection(chunk.Seen[(normal[i].Source, normal[i].SourceId)], ProblemDetailsBody.RuleBroken(ledgered.Broken[i])));
                    break;
                default:
                    rejected.Add(new ImportRejection(chunk.Seen[(normal[i].Source, normal[i].SourceId)], ProblemDetailsBody.Erased(normal[i].CustomerId)));
                    break;
            }
        }

        run.Items += chunk.Lines.Count;
        run.Appended += appended;
        run.BulkAppended += bulk.Count;
        run.Duplicates += duplicates;
        run.RejectedCount += rejected.Count;
        run.Rejected.AddRange(rejected.OrderBy(r => r.Index).Take(Math.Max(0, options.Value.MaxListedRejections - run.Rejected.Count)));
        var ledgeredAt = phases.Elapsed;
        await CloseChunkAsync(run, number, cancellation);
        logger.LogDebug("Import chunk {Chunk} ({Items} items): prepared beside the previous one ({Prepared}); bulk append {Bulk} ms, ledger {Ledger} ms, close {Close} ms",
            number, chunk.Lines.Count, chunk.Prepared, copied.TotalMilliseconds, (ledgeredAt - copied).TotalMilliseconds, (phases.Elapsed - ledgeredAt).TotalMilliseconds);
    }

    /// <summary>
    /// Claims the source ids of touchpoints whose customer has no stream yet, and records them as the chunk's claim, in one
    /// statement (one snapshot, one round trip). Returns what goes to the bulk append, what goes to the ledger, and how
    /// many were already in the register.
    /// </summary>
    private async Task<(List<Touchpoint> Bulk, List<Touchpoint> Normal, long Known)> ClaimNewCustomersAsync(string importId, int number,
        List<Touchpoint> accepted, IPersonalDataCipher cipher, CancellationToken cancellation)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        var own = accepted.Where(t => !ComplaintSteps.IsStep(t)).ToList();
        var normal = accepted.Where(ComplaintSteps.IsStep).ToList();
        if (own.Count == 0)
        {
            return ([], normal, 0);
        }

        // Keys of new customers are stored before anything sealed with them can commit. A customer with a stream has
        // its key stored already, so this stores the keys of exactly the customers the claim may find new.
        var customers = own.Select(t => t.CustomerId).ToHashSet(StringComparer.Ordinal);
        if (!await cipher.KeepNewKeysAsync(customers, cancellation))
        {
            throw new PersonalDataKeyRaceException();
        }

        // Plain Npgsql: this statement writes no document or event, only the register and the chunk's claim. A customer
        // with a stream (or erased) is left to the ledger; the rest is claimed unless the register knows it.
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var claim = new NpgsqlCommand(
            $"""
             with old as (
               select m.id as c from {schema}.mt_streams m where m.id = any(@distinct)
               union select e.customer_id from {schema}.{ErasedCustomers.TableName} e where e.customer_id = any(@distinct)),
             k as (
               select k.s, k.i, k.c, k.p, k.f, k.l, o.c is not null as old
               from unnest(@sources, @ids, @customers, @purchases, @inputs, @links) as k(s, i, c, p, f, l) left join old o on o.c = k.c),
             claimed as (
               insert into {schema}.{TouchpointLedger.TableName} (source, source_id, customer_id)
               select s, i, c from k where not old order by s, i
               on conflict do nothing
               returning source, source_id, customer_id),
             recorded as (
               insert into {schema}.{ChunkTable} (import_id, chunk, state, sources, source_ids, customers, buyers, evaluate, may_link)
               select @import, @chunk, '{Claimed}', array_agg(n.source), array_agg(n.source_id), array_agg(n.customer_id),
                      coalesce(array_agg(distinct n.customer_id) filter (where (n.source, n.source_id) in (select s, i from k where p)), array[]::text[]),
                      coalesce(array_agg(distinct n.customer_id) filter (where (n.source, n.source_id) in (select s, i from k where f)), array[]::text[]),
                      array_agg((n.source, n.source_id) in (select s, i from k where l))
               from claimed n
               having count(*) > 0
               on conflict (import_id, chunk) do update set state = excluded.state, sources = excluded.sources,
                 source_ids = excluded.source_ids, customers = excluded.customers, buyers = excluded.buyers, evaluate = excluded.evaluate,
                 may_link = excluded.may_link)
             select true, c, null from k where old group by c
             union all select false, k.s, k.i from k where not k.old and not exists (select 1 from claimed n where n.source = k.s and n.source_id = k.i)
             """, connection);
        claim.Parameters.Add(Texts("sources", own.Select(t => t.Source)));
        claim.Parameters.Add(Texts("ids", own.Select(t => t.SourceId)));
        claim.Parameters.Add(Texts("customers", own.Select(t => t.CustomerId)));
        // Each customer's stream looked up once, by the key's index: a check per item became a hashed scan of every
        // stream in the store for each chunk, which grows with the store.
        claim.Parameters.Add(Texts("distinct", customers));
        claim.Parameters.Add(new NpgsqlParameter<bool[]>("purchases", NpgsqlDbType.Array | NpgsqlDbType.Boolean) { TypedValue = own.Select(AttributeWhenPurchasesRecordedHandler.Hears).ToArray() });
        claim.Parameters.Add(new NpgsqlParameter<bool[]>("inputs", NpgsqlDbType.Array | NpgsqlDbType.Boolean) { TypedValue = own.Select(ChurnFlagRules.MayRaise).ToArray() });
        claim.Parameters.Add(new NpgsqlParameter<bool[]>("links", NpgsqlDbType.Array | NpgsqlDbType.Boolean) { TypedValue = own.Select(Identifiers.MayLink).ToArray() });
        claim.Parameters.AddWithValue("import", importId);
        claim.Parameters.AddWithValue("chunk", number);
        // What comes back is the exceptions (customers with a stream, source ids the register knew), not the thousands claimed.
        var existing = new HashSet<string>(StringComparer.Ordinal);
        var known = new HashSet<(string, string)>();
        await using (var reader = await claim.ExecuteReaderAsync(cancellation))
        {
            while (await reader.ReadAsync(cancellation))
            {
                if (reader.GetBoolean(0))
                {
                    existing.Add(reader.GetString(1));
                }
                else
                {
                    known.Add((reader.GetString(1), reader.GetString(2)));
                }
            }
        }

        normal.AddRange(own.Where(t => existing.Contains(t.CustomerId)));
        var fresh = own.Where(t => !existing.Contains(t.CustomerId)).ToList();
        var bulk = known.Count == 0 ? fresh : fresh.Where(t => !known.Contains((t.Source, t.SourceId))).ToList();
        return (bulk, normal, fresh.Count - bulk.Count);
    }

    /// <summary>Marten's COPY bulk append of new streams, one per customer, in the file's order; false when one of them exists already.</summary>
    private async Task<bool> BulkAppendAsync(List<Touchpoint> bulk, string recordedBy, string command, CancellationToken cancellation)
    {
        if (BeforeBulkAppend is { } seam)
        {
            await seam(bulk);
        }

        var events = ((DocumentStore)store).Events;
        var streams = new List<StreamAction>();
        // Every event of the import carries the same header: one dictionary for all of them, not one each (nothing changes
        // an event's headers after this).
        var headers = new Dictionary<string, object> { [AuditHeaders.Command] = command };
        foreach (var customer in bulk.GroupBy(t => t.CustomerId, StringComparer.Ordinal))
        {
            var action = StreamAction.Start(events, customer.Key, customer.Cast<object>().ToArray());
            foreach (var e in action.Events)
            {
                var touchpoint = (Touchpoint)e.Data;
                e.Id = EventIdOf(touchpoint.Source, touchpoint.SourceId);
                e.UserName = recordedBy;
                e.Headers = headers;
            }

            streams.Add(action);
        }

        try
        {
            await store.BulkInsertEventsAsync(streams, batchSize: Math.Max(1000, bulk.Count), cancellation);
            return true;
        }
        catch (Exception e) when (IsStreamCollision(e))
        {
            logger.LogInformation("Import: live ingest started one of {Customers} new customers meanwhile; the chunk takes the ledger's path", streams.Count);
            return false;
        }
    }

    private static bool IsStreamCollision(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Gives a chunk's claims back (its COPY stored nothing) and forgets the claim, in one transaction.</summary>
    private async Task ReleaseAsync(string schema, string importId, int number, List<Touchpoint> claimed, CancellationToken cancellation)
    {
        await using var session = store.LightweightSession();
        await session.BeginTransactionAsync(cancellation);
        await TouchpointLedger.GiveBackAsync(session, claimed, cancellation);
        // A queued command, so SaveChanges has work and commits the give-back with it.
        session.QueueSqlCommand($"delete from {schema}.{ChunkTable} where import_id = ? and chunk = ?", importId, number);
        await session.SaveChangesAsync(cancellation);
    }

    /// <summary>
    /// Closes the chunk: the run's counts are saved and the chunk is marked done. What its claim recorded (source ids,
    /// customers, buyers) stays until the end of the import announces it; a chunk with no claim is recorded empty.
    /// </summary>
    private async Task CloseChunkAsync(ImportRun run, int number, CancellationToken cancellation)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        await using var session = store.LightweightSession();
        session.QueueSqlCommand(
            $"""
             insert into {schema}.{ChunkTable} (import_id, chunk, state, sources, source_ids, customers, buyers, evaluate, may_link)
             values (?, ?, '{Done}', array[]::text[], array[]::text[], array[]::text[], array[]::text[], array[]::text[], array[]::boolean[])
             on conflict (import_id, chunk) do update set state = excluded.state
             """, run.Id, number);
        session.Store(run);
        await session.SaveChangesAsync(cancellation);
    }

    /// <summary>A chunk read, validated, sealed and claimed, waiting to be copied and closed.</summary>
    private sealed class PreparedChunk(int number, List<NdJsonLine> lines, HashSet<string> customers, IPersonalDataCipher cipher)
    {
        public int Number { get; } = number;
        public List<NdJsonLine> Lines { get; } = lines;
        public HashSet<string> Customers { get; } = customers;
        public IPersonalDataCipher Cipher { get; } = cipher;
        public List<Touchpoint> Accepted { get; } = new(lines.Count);
        public List<ImportRejection> Rejected { get; } = [];
        public Dictionary<(string, string), long> Seen { get; } = new(lines.Count);
        public long Duplicates { get; set; }
        public string Prepared { get; set; } = "";

        /// <summary>Claimed for the bulk append, left to the ledger, and already in the register.</summary>
        public List<Touchpoint> Bulk { get; set; } = [];
        public List<Touchpoint> Normal { get; set; } = [];
        public long Known { get; set; }

        /// <summary>Set once the chunk is committed (or failed): a later chunk sharing a customer loads its keys after this.</summary>
        public TaskCompletionSource Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>
    /// Enqueues, for every chunk of the import that its bulk append stored and nobody announced yet, what the ledger's
    /// outbox sends for a batch (flag evaluation, win-back attribution, identity matching), in the transaction that marks
    /// the chunk announced: exactly once. After the appending, not during it: the reactions would compete with the COPY.
    /// </summary>
    private async Task AnnounceAsync(string schema, string importId, CancellationToken cancellation)
    {
        while (true)
        {
            await using var session = store.LightweightSession();
            await using var scope = scopes.CreateAsyncScope();
            var outbox = scope.ServiceProvider.GetRequiredService<IMartenOutbox>();
            outbox.Enroll(session);
            await session.BeginTransactionAsync(cancellation);
            var chunks = new List<(int, string, string[], string[], string[], string[], string[]?, bool[]?)>();
            await using (var query = new NpgsqlCommand(
                             $"select chunk, state, sources, source_ids, customers, buyers, evaluate, may_link from {schema}.{ChunkTable} where import_id = @import and state in ('{Done}', '{Recovered}') order by chunk limit 10 for update",
                             session.Connection))
            {
                query.Parameters.AddWithValue("import", importId);
                await using var reader = await query.ExecuteReaderAsync(cancellation);
                while (await reader.ReadAsync(cancellation))
                {
                    chunks.Add((reader.GetInt32(0), reader.GetString(1), reader.GetFieldValue<string[]>(2), reader.GetFieldValue<string[]>(3),
                        reader.GetFieldValue<string[]>(4), reader.GetFieldValue<string[]>(5), reader.IsDBNull(6) ? null : reader.GetFieldValue<string[]>(6),
                        reader.IsDBNull(7) ? null : reader.GetFieldValue<bool[]>(7)));
                }
            }

            if (chunks.Count == 0)
            {
                return;
            }

            foreach (var (chunk, state, sources, ids, customers, buyers, evaluate, mayLink) in chunks)
            {
                // The ledger's announcements (TouchpointLedger.Announcements), from what the claim worked out with the same
                // rules; a chunk recorded before it did tells everyone about every touchpoint, as it did then.
                var flagged = evaluate ?? [.. customers.Distinct(StringComparer.Ordinal)];
                if (flagged.Length > 0)
                {
                    await outbox.PublishAsync(new TouchpointsRecorded(flagged));
                }

                if (buyers.Length > 0)
                {
                    await outbox.PublishAsync(new PurchasesRecorded(buyers));
                }

                var linking = Enumerable.Range(0, sources.Length).Where(i => mayLink?[i] ?? true)
                    .Select(i => new AppendedTouchpoint(customers[i], EventIdOf(sources[i], ids[i]))).ToList();
                if (linking.Count > 0)
                {
                    await outbox.PublishAsync(new TouchpointsAppended(linking));
                }

                // A recovered chunk is forgotten once announced: the re-run reads it again for whatever was not stored.
                session.QueueSqlCommand(state == Recovered
                    ? $"delete from {schema}.{ChunkTable} where import_id = ? and chunk = ?"
                    : $"update {schema}.{ChunkTable} set state = '{Announced}', sources = null, source_ids = null, customers = null, buyers = null, evaluate = null, may_link = null where import_id = ? and chunk = ?",
                    importId, chunk);
            }

            await session.SaveChangesAsync(cancellation);
        }
    }

    /// <summary>Announces the chunks; the store's high-water mark is what the projections must reach; imported cases get their promises judged.</summary>
    private async Task FinishAsync(ImportRun run, CancellationToken cancellation)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        if (run.BulkAppended > 0)
        {
            await AnalyzeAsync(schema, cancellation);
        }

        var announcing = Stopwatch.StartNew();
        await AnnounceAsync(schema, run.Id, cancellation);
        logger.LogDebug("Import: reactions announced in {Milliseconds} ms", announcing.ElapsedMilliseconds);
        await using var session = store.LightweightSession();
        await using var scope = scopes.CreateAsyncScope();
        var outbox = scope.ServiceProvider.GetRequiredService<IMartenOutbox>();
        outbox.Enroll(session);
        await session.BeginTransactionAsync(cancellation);
        await using (var high = new NpgsqlCommand($"select coalesce(max(seq_id), 0) from {schema}.mt_events", session.Connection))
        {
            run.HighWater = (long)(await high.ExecuteScalarAsync(cancellation))!;
        }

        run.State = ImportStates.Appended;
        run.AppendedAt = clock.GetUtcNow();
        session.Store(run);
        await outbox.PublishAsync(new SettleImportedComplaints());
        await session.SaveChangesAsync(cancellation);
    }

    /// <summary>
    /// Refreshes the planner's statistics of the tables a bulk append filled. Autovacuum comes round once a minute; until
    /// then the planner takes the event store for as small as it was before the import and scans all of it, for each page
    /// the daemon reads, each gap check of the high-water detector and each flag evaluation's read of its customers'
    /// events (the load benchmark's catching up spent 45 s that way). Without the owner's right, PostgreSQL skips it with a warning.
    /// </summary>
    private async Task AnalyzeAsync(string schema, CancellationToken cancellation)
    {
        var watch = Stopwatch.StartNew();
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await PlannerStatistics.AnalyzeAsync(connection, [$"{schema}.mt_events", $"{schema}.mt_streams", $"{schema}.{TouchpointLedger.TableName}"], cancellation);
        logger.LogDebug("Import: statistics of the event store refreshed in {Elapsed} ms", watch.ElapsedMilliseconds);
    }

    /// <summary>A session lock on its own connection, held for the whole run: while it is held, the run's open chunks are in flight, not lost.</summary>
    private async Task<NpgsqlConnection> OpenOwnerLockAsync(string importId, CancellationToken cancellation)
    {
        var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var take = new NpgsqlCommand("select pg_try_advisory_lock(hashtextextended(@key, 0))", connection);
        take.Parameters.AddWithValue("key", OwnerKey(importId));
        if (await take.ExecuteScalarAsync(cancellation) is not true)
        {
            await connection.DisposeAsync();
            throw new ImportAlreadyRunningException(importId);
        }

        return connection;
    }

    private static string OwnerKey(string importId) => $"cj_import:{importId}";

    private async Task<HashSet<int>> ClosedChunksAsync(string schema, string importId, CancellationToken cancellation)
    {
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var query = new NpgsqlCommand($"select chunk from {schema}.{ChunkTable} where import_id = @import and state in ('{Done}', '{Announced}')", connection);
        query.Parameters.AddWithValue("import", importId);
        var done = new HashSet<int>();
        await using var reader = await query.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            done.Add(reader.GetInt32(0));
        }

        return done;
    }

    /// <summary>
    /// Recovers the chunks left claimed by imports that no longer run (their owner lock is free): the events their bulk
    /// append stored are announced and counted, the source ids of those it did not store are given back.
    /// </summary>
    private async Task RecoverAsync(NpgsqlConnection owner, string schema, CancellationToken cancellation)
    {
        // Claimed: cut short between claim and close. Done or recovered: appended, not announced yet.
        var open = new List<(string Import, int Chunk, string State, string[] Sources, string[] Ids, string[] Customers)>();
        await using (var query = new NpgsqlCommand(
                         $"select import_id, chunk, state, sources, source_ids, customers from {schema}.{ChunkTable} where state in ('{Claimed}', '{Done}', '{Recovered}')", owner))
        await using (var reader = await query.ExecuteReaderAsync(cancellation))
        {
            while (await reader.ReadAsync(cancellation))
            {
                open.Add((reader.GetString(0), reader.GetInt32(1), reader.GetString(2), reader.GetFieldValue<string[]>(3), reader.GetFieldValue<string[]>(4),
                    reader.GetFieldValue<string[]>(5)));
            }
        }

        foreach (var import in open.GroupBy(o => o.Import))
        {
            await using var take = new NpgsqlCommand("select pg_try_advisory_lock(hashtextextended(@key, 0))", owner);
            take.Parameters.AddWithValue("key", OwnerKey(import.Key));
            if (await take.ExecuteScalarAsync(cancellation) is not true)
            {
                continue;
            }

            try
            {
                foreach (var chunk in import.Where(c => c.State == Claimed))
                {
                    await RecoverChunkAsync(schema, chunk.Import, chunk.Chunk, chunk.Sources, chunk.Ids, chunk.Customers, cancellation);
                }

                await AnnounceAsync(schema, import.Key, cancellation);
            }
            finally
            {
                await using var release = new NpgsqlCommand("select pg_advisory_unlock(hashtextextended(@key, 0))", owner);
                release.Parameters.AddWithValue("key", OwnerKey(import.Key));
                await release.ExecuteScalarAsync(cancellation);
            }
        }
    }

    private async Task RecoverChunkAsync(string schema, string importId, int number, string[] sources, string[] ids, string[] customers,
        CancellationToken cancellation)
    {
        await using var session = store.LightweightSession();
        var stored = new List<Touchpoint>();
        var byId = Enumerable.Range(0, sources.Length).ToDictionary(i => EventIdOf(sources[i], ids[i]));
        foreach (var customer in customers.Distinct(StringComparer.Ordinal))
        {
            var events = await session.Events.FetchStreamAsync(customer, token: cancellation);
            stored.AddRange(events.Where(e => byId.ContainsKey(e.Id)).Select(e => (Touchpoint)e.Data));
        }

        var kept = stored.Select(t => (t.Source, t.SourceId)).ToHashSet();
        var lost = Enumerable.Range(0, sources.Length).Select(i => (sources[i], ids[i])).Where(k => !kept.Contains(k)).ToList();
        logger.LogWarning("Import {Import} chunk {Chunk} was cut short: {Stored} events had been stored, {Lost} source ids are given back",
            importId, number, stored.Count, lost.Count);

        await session.BeginTransactionAsync(cancellation);
        if (lost.Count > 0)
        {
            await TouchpointLedger.GiveBackAsync(session, lost, cancellation);
        }

        // What was stored is announced with the import's other chunks; the chunk itself is read again by a re-run.
        session.QueueSqlCommand(
            $"update {schema}.{ChunkTable} set state = '{Recovered}', sources = ?, source_ids = ?, customers = ?, buyers = ?, evaluate = ?, may_link = ? where import_id = ? and chunk = ?",
            stored.Select(t => t.Source).ToArray(), stored.Select(t => t.SourceId).ToArray(), stored.Select(t => t.CustomerId).ToArray(),
            stored.Where(AttributeWhenPurchasesRecordedHandler.Hears).Select(t => t.CustomerId).Distinct(StringComparer.Ordinal).ToArray(),
            stored.Where(ChurnFlagRules.MayRaise).Select(t => t.CustomerId).Distinct(StringComparer.Ordinal).ToArray(),
            stored.Select(Identifiers.MayLink).ToArray(), importId, number);
        var run = await session.LoadAsync<ImportRun>(importId, cancellation);
        if (run is not null)
        {
            run.State = ImportStates.Interrupted;
            run.Appended += stored.Count;
            run.BulkAppended += stored.Count;
            session.Store(run);
        }

        await session.SaveChangesAsync(cancellation);
    }

    /// <summary>The line as the intake reads it, and its document (null when it has none) for the caller to dispose once read.</summary>
    private static (SubmittedItem Item, JsonDocument? Document) Parse(NdJsonLine line)
    {
        if (line.Bytes is null)
        {
            return (new SubmittedItem(null, line.TooLong), null);
        }

        try
        {
            var document = TouchpointRequestBody.Parse(line.Bytes);
            return (new SubmittedItem(document.RootElement, null), document);
        }
        catch (JsonException e)
        {
            return (new SubmittedItem(null, e.Message), null);
        }
    }

    private static NpgsqlParameter<string[]> Texts(string name, IEnumerable<string> values) =>
        new(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = values.ToArray() };

    /// <summary>Counts the bytes read, for the command's estimate of the time left.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;

        public override long Position
        {
            get => BytesRead;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = inner.Read(buffer, offset, count);
            BytesRead += read;
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            BytesRead += read;
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>Another process runs the same import (the command with the same name) right now.</summary>
public sealed class ImportAlreadyRunningException(string importId) : Exception($"Import '{importId}' is already running in another process.");
