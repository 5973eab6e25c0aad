using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CustomerJourney.Touchpoints;
using Marten;
using Npgsql;
using NpgsqlTypes;

namespace Load;

public sealed record IngestResult(int Events, int Appended, int Duplicates, double Seconds)
{
    public double PerSecond => Math.Round(Events / Seconds, 1);
}

public static class Workloads
{
    public static List<List<Item>> Batches(IReadOnlyList<Item> items, int size) => items.Chunk(size).Select(c => c.ToList()).ToList();

    /// <summary>POSTs every batch to /api/touchpoints/batch from <paramref name="clients"/> concurrent clients.</summary>
    public static async Task<IngestResult> IngestHttpAsync(Service service, IReadOnlyList<List<Item>> batches, int clients, CancellationToken stop = default)
    {
        var queue = new System.Collections.Concurrent.ConcurrentQueue<List<Item>>(batches);
        var (appended, duplicates, events) = (0, 0, 0);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && queue.TryDequeue(out var batch))
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/touchpoints/batch")
                {
                    Content = new StringContent("[" + string.Join(",", batch.Select(i => i.Json)) + "]", Encoding.UTF8, "application/json"),
                };
                request.Headers.Add("X-Api-Key", service.ApiKey);
                using var response = await service.Http.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"Batch answered {(int)response.StatusCode}: {body[..Math.Min(400, body.Length)]}");
                }

                var answer = JsonNode.Parse(body)!;
                if (answer["rejected"]!.AsArray().Count > 0)
                {
                    throw new InvalidOperationException($"Batch items were rejected: {answer["rejected"]![0]}");
                }

                Interlocked.Add(ref appended, answer["appended"]!.GetValue<int>());
                Interlocked.Add(ref duplicates, answer["duplicates"]!.GetValue<int>());
                Interlocked.Add(ref events, batch.Count);
            }
        })));
        return new IngestResult(events, appended, duplicates, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// POSTs the batches at <paramref name="rate"/> events per second (each batch sent when it is due, at most
    /// <paramref name="clients"/> at once), until they run out or <paramref name="stop"/> is cancelled.
    /// </summary>
    public static async Task<IngestResult> PacedIngestAsync(Service service, IReadOnlyList<List<Item>> batches, double rate, int clients, CancellationToken stop)
    {
        using var slots = new SemaphoreSlim(clients);
        var running = new List<Task<IngestResult>>();
        var sent = 0;
        var clock = Stopwatch.StartNew();
        foreach (var batch in batches)
        {
            var due = TimeSpan.FromSeconds(sent / rate) - clock.Elapsed;
            try
            {
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, stop);
                }

                await slots.WaitAsync(stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            sent += batch.Count;
            running.Add(Task.Run(async () =>
            {
                try
                {
                    return await IngestHttpAsync(service, [batch], 1);
                }
                finally
                {
                    slots.Release();
                }
            }));
        }

        var done = await Task.WhenAll(running);
        return new IngestResult(sent, done.Sum(d => d.Appended), done.Sum(d => d.Duplicates), clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// POSTs ready bodies of one set (the native batch endpoint with the source's API key, or /v1/batch with it as the
    /// Basic-auth user name, as the SDKs send it) from <paramref name="clients"/> concurrent clients; every call must be appended.
    /// </summary>
    public static async Task<IngestResult> PostBodiesAsync(Service service, TrackingSet set, IReadOnlyList<Body> bodies, int clients)
    {
        var queue = new System.Collections.Concurrent.ConcurrentQueue<Body>(bodies);
        var (appended, duplicates, events) = (0, 0, 0);
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes(service.ApiKey + ":"));
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (queue.TryDequeue(out var body))
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, set.Path) { Content = new ByteArrayContent(body.Bytes) };
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(set.ContentType);
                if (set.Gzip)
                {
                    request.Content.Headers.ContentEncoding.Add("gzip");
                }

                if (set.Path.StartsWith("/v1/", StringComparison.Ordinal))
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
                }
                else
                {
                    request.Headers.Add("X-Api-Key", service.ApiKey);
                }

                using var response = await service.Http.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"{set.Name} answered {(int)response.StatusCode}: {text[..Math.Min(400, text.Length)]}");
                }

                var answer = JsonNode.Parse(text)!;
                if (answer["rejected"]!.AsArray().Count > 0 || answer["appended"]!.GetValue<int>() != body.Calls)
                {
                    throw new InvalidOperationException($"{set.Name}: {answer["appended"]} of {body.Calls} appended, {answer["duplicates"]} duplicates; first refusal: {answer["rejected"]!.AsArray().FirstOrDefault()}");
                }

                Interlocked.Add(ref appended, answer["appended"]!.GetValue<int>());
                Interlocked.Add(ref duplicates, answer["duplicates"]!.GetValue<int>());
                Interlocked.Add(ref events, body.Calls);
            }
        })));
        return new IngestResult(events, appended, duplicates, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The raw baseline: binary COPY of the same rows into a table shaped like mt_events, with its indexes.</summary>
    public static async Task<IngestResult> CopyAsync(NpgsqlDataSource db, string table, IReadOnlyList<Item> items, int batchSize, int clients, string streamPrefix = "")
    {
        var versions = new Dictionary<string, long>(StringComparer.Ordinal);
        var rows = items.Select(i => (Stream: streamPrefix + i.CustomerId, Version: versions[streamPrefix + i.CustomerId] = versions.GetValueOrDefault(streamPrefix + i.CustomerId) + 1, i.Json)).ToList();
        var queue = new System.Collections.Concurrent.ConcurrentQueue<(string Stream, long Version, string Json)[]>(rows.Chunk(batchSize));
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            await using var connection = await db.OpenConnectionAsync();
            while (queue.TryDequeue(out var chunk))
            {
                await using var transaction = await connection.BeginTransactionAsync();
                await using (var copy = await connection.BeginBinaryImportAsync($"copy {table} (id, stream_id, version, data, type, mt_dotnet_type) from stdin (format binary)"))
                {
                    foreach (var (stream, version, json) in chunk)
                    {
                        await copy.StartRowAsync();
                        await copy.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid);
                        await copy.WriteAsync(stream, NpgsqlDbType.Varchar);
                        await copy.WriteAsync(version, NpgsqlDbType.Bigint);
                        await copy.WriteAsync(json, NpgsqlDbType.Jsonb);
                        await copy.WriteAsync("purchase_made", NpgsqlDbType.Varchar);
                        await copy.WriteAsync("CustomerJourney.Touchpoints.PurchaseMade, CustomerJourney.Api", NpgsqlDbType.Varchar);
                    }

                    await copy.CompleteAsync();
                }

                await transaction.CommitAsync();
            }
        })));
        return new IngestResult(rows.Count, rows.Count, 0, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The events the service would store for these items, read by the service's own intake.</summary>
    public static List<Touchpoint> Events(IReadOnlyList<Item> items)
    {
        var now = DateTimeOffset.UtcNow;
        var plain = new PlaintextPersonalData();
        return items.Select(i =>
        {
            using var document = JsonDocument.Parse(i.Json);
            return TouchpointIntake.Read(document.RootElement, null, now, plain).Touchpoint ?? throw new InvalidOperationException($"not a touchpoint: {i.Json}");
        }).ToList();
    }

    /// <summary>
    /// The in-process baseline: Marten quick append of the same events, batch by batch, each batch holding its customers'
    /// locks (<see cref="CustomerJourney.Infrastructure.CustomerLocks"/>, as the service's writers do). Without them two
    /// batches sharing a customer number its events alike and one loses on the stream-version key: at 1,000,000 events over
    /// 100,000 customers a batch lost 100 times in a row while the others kept overlapping it, and the benchmark died.
    /// </summary>
    public static async Task<IngestResult> QuickAppendAsync(IDocumentStore store, IReadOnlyList<Touchpoint> events, int batchSize, int clients)
    {
        var queue = new System.Collections.Concurrent.ConcurrentQueue<Touchpoint[]>(events.Chunk(batchSize));
        var conflicts = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (queue.TryDequeue(out var chunk))
            {
                // Deadlocks and the like: like the service, the loser tries again.
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        await using var session = store.LightweightSession();
                        await CustomerJourney.Infrastructure.CustomerLocks.TakeAsync(session, [.. chunk.Select(e => e.CustomerId).Distinct(StringComparer.Ordinal)],
                            CancellationToken.None);
                        // Streams in one global order, as the service's ledger does, so concurrent batches cannot deadlock.
                        foreach (var stream in chunk.GroupBy(e => e.CustomerId).OrderBy(g => g.Key, StringComparer.Ordinal))
                        {
                            session.Events.Append(stream.Key, stream.Cast<object>().ToArray());
                        }

                        await session.SaveChangesAsync();
                        break;
                    }
                    catch (Exception e) when (attempt < 100 && CustomerJourney.Infrastructure.TransientConflicts.IsTransient(e) ||
                                              attempt < 100 && e.InnerException is Npgsql.PostgresException { SqlState: "23505" })
                    {
                        Interlocked.Increment(ref conflicts);
                        await Task.Delay(Random.Shared.Next(5, 50));
                    }
                }
            }
        })));
        return new IngestResult(events.Count, events.Count, conflicts, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Runs a timed phase's workload unmeasured, in slices of 2 s, until the service's background compiler used under a
    /// tenth of a core in a slice (at least two slices, at most 60 s), and says how long that took. The code a phase is the
    /// first to run is compiled as it runs: in a short ingest run the compiler took 3.5 CPU-s of the first 10 s of single
    /// posts on 2 cores and went on for 18 s (per-thread CPU from /proc, twenty-first round in bench/README), so a phase
    /// measured from its first request measured the compiler too.
    /// </summary>
    public static async Task<WarmUp> WarmUpAsync(Service service, Func<TimeSpan, Task> slice)
    {
        var clock = Stopwatch.StartNew();
        var (slices, compiler) = (0, 0.0);
        while (true)
        {
            var before = CpuSnapshot.CompilerCpu(service);
            await slice(WarmUpSlice);
            var used = CpuSnapshot.CompilerCpu(service) - before;
            (slices, compiler) = (slices + 1, compiler + used);
            if ((slices >= 2 && used < 0.1 * WarmUpSlice.TotalSeconds) || clock.Elapsed >= MaxWarmUp)
            {
                return new WarmUp(clock.Elapsed, compiler, used < 0.1 * WarmUpSlice.TotalSeconds);
            }
        }
    }

    private static readonly TimeSpan WarmUpSlice = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan MaxWarmUp = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Single touchpoint posts from <paramref name="connections"/> concurrent connections for a fixed time, each with a new
    /// source id starting with <paramref name="label"/>.
    /// </summary>
    public static async Task<(double PerSecond, Latencies Latencies, int Failed)> SinglePostsAsync(Service service, IReadOnlyList<string> customers, int connections, TimeSpan duration,
        string label)
    {
        var latencies = new Latencies();
        var (done, failed) = (0, 0);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(c => Task.Run(async () =>
        {
            var random = new Random(c);
            for (var n = 0; clock.Elapsed < duration; n++)
            {
                var customer = customers[random.Next(customers.Count)];
                var body = new JsonObject
                {
                    ["kind"] = "survey-answered", ["occurredAt"] = "1998-01-01T12:00:00Z", ["channel"] = "web", ["source"] = Dataset.Source,
                    ["sourceId"] = $"{label}-{c}-{n}", ["data"] = new JsonObject { ["csat"] = 4 },
                }.ToJsonString();
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/customers/{customer}/touchpoints") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                request.Headers.Add("X-Api-Key", service.ApiKey);
                var started = Stopwatch.GetTimestamp();
                using var response = await service.Http.SendAsync(request);
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                Interlocked.Increment(ref response.IsSuccessStatusCode ? ref done : ref failed);
            }
        })));
        return (Math.Round(done / clock.Elapsed.TotalSeconds, 1), latencies, failed);
    }

    /// <summary>
    /// The raw per-transaction baseline: claim the source id (a new one starting with <paramref name="label"/>), append one
    /// row, commit, from as many connections.
    /// </summary>
    public static async Task<(double PerSecond, Latencies Latencies)> RawTransactionsAsync(NpgsqlDataSource db, string sources, string events, int connections, TimeSpan duration,
        string label)
    {
        var latencies = new Latencies();
        var done = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(c => Task.Run(async () =>
        {
            await using var connection = await db.OpenConnectionAsync();
            for (var n = 0; clock.Elapsed < duration; n++)
            {
                var started = Stopwatch.GetTimestamp();
                await using var transaction = await connection.BeginTransactionAsync();
                await using (var claim = new NpgsqlCommand($"insert into {sources} (source, source_id, customer_id) values ($1, $2, $3) on conflict do nothing returning source_id", connection, transaction))
                {
                    claim.Parameters.Add(new() { Value = Dataset.Source });
                    claim.Parameters.Add(new() { Value = $"{label}-{c}-{n}" });
                    claim.Parameters.Add(new() { Value = $"{label}-{c}-{n}" });
                    await claim.ExecuteScalarAsync();
                }

                await using (var append = new NpgsqlCommand($"insert into {events} (id, stream_id, version, data, type, mt_dotnet_type) values ($1, $2, 1, $3::jsonb, 'survey_answered', 'x')", connection, transaction))
                {
                    append.Parameters.Add(new() { Value = Guid.CreateVersion7() });
                    append.Parameters.Add(new() { Value = $"{label}-{c}-{n}" });
                    append.Parameters.Add(new() { Value = "{\"csat\":4,\"source\":\"bench-shop\"}" });
                    await append.ExecuteNonQueryAsync();
                }

                await transaction.CommitAsync();
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                Interlocked.Increment(ref done);
            }
        })));
        return (Math.Round(done / clock.Elapsed.TotalSeconds, 1), latencies);
    }

    /// <summary>Requests at a fixed rate (each started on schedule, whether or not the previous one finished).</summary>
    public static async Task<Dictionary<string, Latencies>> AtFixedRateAsync(int perSecond, TimeSpan duration, IReadOnlyList<(string Name, Func<int, Task> Call)> calls)
    {
        var results = calls.ToDictionary(c => c.Name, _ => new Latencies());
        var running = new List<Task>();
        var clock = Stopwatch.StartNew();
        var interval = TimeSpan.FromSeconds(1.0 / perSecond);
        for (var n = 0; clock.Elapsed < duration; n++)
        {
            var due = interval * n;
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed);
            }

            var (name, call) = calls[n % calls.Count];
            var i = n;
            running.Add(Task.Run(async () =>
            {
                var started = Stopwatch.GetTimestamp();
                await call(i);
                results[name].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }));
        }

        await Task.WhenAll(running);
        return results;
    }

    public static async Task GetOkAsync(Service service, string url, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await service.Http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET {url} answered {(int)response.StatusCode}");
        }

        await response.Content.ReadAsByteArrayAsync();
    }
    /// <summary>
    /// Posts batches at a fixed rate while sampling, every 200 ms, how long the oldest event each async shard has not
    /// yet applied has been in the store (0 when it is caught up), and how many events it is behind.
    /// </summary>
    public static async Task<(double Rate, Latencies Seconds, Latencies Events)> ProjectionLagAsync(Service service, NpgsqlDataSource db, string schema,
        IReadOnlyList<List<Item>> batches, double rate, TimeSpan duration)
    {
        using var stop = new CancellationTokenSource(duration);
        var sent = 0;
        var clock = Stopwatch.StartNew();
        var ingest = Task.Run(async () =>
        {
            foreach (var batch in batches)
            {
                if (stop.IsCancellationRequested)
                {
                    return;
                }

                var due = TimeSpan.FromSeconds(sent / rate) - clock.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due);
                }

                await IngestHttpAsync(service, [batch], 1);
                sent += batch.Count;
            }
        });

        var (seconds, behind) = (new Latencies(), new Latencies());
        while (!stop.IsCancellationRequested)
        {
            await using var command = db.CreateCommand(
                $"select coalesce(extract(epoch from clock_timestamp() - (select e.timestamp from {schema}.mt_events e where e.seq_id > p.last_seq_id order by e.seq_id limit 1)), 0)::float8, " +
                $"greatest(0, (select max(seq_id) from {schema}.mt_events) - p.last_seq_id) from {schema}.mt_event_progression p where p.name like '%:%'");
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    seconds.Add(reader.GetDouble(0));
                    behind.Add(reader.GetInt64(1));
                }
            }

            await Task.Delay(200);
        }

        await ingest;
        return (Math.Round(sent / clock.Elapsed.TotalSeconds, 1), seconds, behind);
    }
}

/// <summary>How long a warm-up ran, the CPU seconds the service's background compiler used meanwhile, and whether it had gone quiet by the end.</summary>
public sealed record WarmUp(TimeSpan Took, double CompilerCpuSeconds, bool Quiet)
{
    public override string ToString() =>
        $"{Took.TotalSeconds:F0} s unmeasured first, the runtime's background compiler {CompilerCpuSeconds:F1} CPU-s meanwhile{(Quiet ? "" : ", still compiling at 60 s")}";
}
