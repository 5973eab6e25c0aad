using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using CustomerJourney.TrackingApi;
using JasperFx;
using JasperFx.Events;
using Load;
using Marten;
using Npgsql;

// Usage: bench/run-load [--events N] [--customers N] [--clients N] [--batch N] [--seconds N] [--read-rate N]
//                       [--tracking-events N] [--profiles N] [--identity-rate N] [--only tracking|identity|churn|churn-scale|import|ingest] [--churn-customers N]
// Defaults are the issue's workload: 1,000,000 events over 100,000 customers, 3 clients, batches of 5,000; the tracking
// workload sends max(30,000, events / 10) Segment calls to each endpoint. --only tracking runs that workload alone and
// writes its table to bench/results/load-tracking.md.tmp (ignored by git), leaving load.md as the last full run left it.
var settings = Settings.Parse(args);
var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Marten")
                       ?? throw new InvalidOperationException("ConnectionStrings__Marten is not set: run bench/run-load, which starts the project-local PostgreSQL.");
var root = Root();
CpuSnapshot.PostmasterPidFile = Path.Combine(root, ".local/pg/data/postmaster.pid");
var apiDll = Path.Combine(root, "src/CustomerJourney.Api/bin/Release/net10.0/CustomerJourney.Api.dll");
var stamp = DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
var (schema, raw, quick) = ($"bench_{stamp}", $"bench_raw_{stamp}", $"bench_qa_{stamp}");
var rows = new List<Row>();
var notes = new List<string>();
var loadAtStart = LoadAverage();
var baselines = new List<Steadiness>();
void Say(string text) => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {text}");

Say(settings.Only is null ? $"Building {settings.Events:N0} touchpoints over {settings.Customers:N0} customers" : $"Only the {settings.Only} workload");
var items = settings.Only is null or "ingest" ? Dataset.Build(Path.Combine(root, "data/cdnow/CDNOW_master.txt"), settings.Events, settings.Customers, seed: 1) : [];
var batches = Workloads.Batches(items, settings.Batch);
var customers = items.Select(i => i.CustomerId).Distinct().ToList();
var events = Workloads.Events(items);

await using var db = new NpgsqlDataSourceBuilder(connectionString) { ConnectionStringBuilder = { MaxPoolSize = 100 } }.Build();
Say($"Starting the service on schema {schema}");
await using var service = await Service.StartAsync(apiDll, connectionString, schema);
service.SampleMemory();
try
{
    await Execute($"create schema {raw}; create table {raw}.mt_events (like {schema}.mt_events including all); " +
                  $"create table {raw}.sources (like {schema}.cj_touchpoint_sources including all); " +
                  // Marten hands out seq_id itself in quick-append mode; the raw table numbers its rows from its own sequence.
                  $"create sequence {raw}.seq; alter table {raw}.mt_events alter column seq_id set default nextval('{raw}.seq');");

    if (settings.Only is null or "import")
    {
        // A new user's day one: the whole history into an empty service, beside Marten's own bulk append of the same events.
        var history = ImportWorkload.ByCustomer(settings.Only is null ? items : Dataset.Build(Path.Combine(root, "data/cdnow/CDNOW_master.txt"), settings.Events, settings.Customers, seed: 1));
        var file = await ImportWorkload.WriteFileAsync(history);
        var chunk = 10_000;
        try
        {
            Say($"Import baseline: raw COPY of {history.Count:N0} rows, then Marten's BulkInsertEventsAsync of the same events");
            var (rawCopy, _) = await BaselineAsync("raw COPY before the import", () => Workloads.CopyAsync(db, $"{raw}.mt_events", history, chunk, 1, streamPrefix: "imp-"));
            var bulkEvents = Workloads.Events(history);
            var (bulk, bulkSteady) = await BaselineAsync("Marten BulkInsertEventsAsync", () => ImportWorkload.MartenBulkAsync(connectionString, $"bench_bulk_{stamp}", bulkEvents, chunk));
            var bulkUsed = bulkSteady.Used;
            Say($"Import: POST /api/imports of {history.Count:N0} touchpoints ({new FileInfo(file).Length / 1024 / 1024:N0} MiB) into an empty schema");
            await using var fresh = await Service.StartAsync(apiDll, connectionString, $"bench_imp_{stamp}");
            var cpu = CpuSnapshot.Take(fresh);
            var (accepted, peakAtAccept) = (cpu, 0L);
            var (imported, caughtUp, behind, failure) = await ImportWorkload.PostAsync(fresh, file, history.Count, TimeSpan.FromMinutes(15),
                () => (accepted, peakAtAccept) = (CpuSnapshot.Take(fresh), fresh.PeakWorkingSet()));
            var used = accepted - cpu;
            var catchingUp = CpuSnapshot.Take(fresh) - accepted;
            var ratio = imported.PerSecond / bulk.PerSecond;
            Say($"Import: {imported.PerSecond:N0} events/s, Marten bulk {bulk.PerSecond:N0} events/s: ratio {ratio:F2} (target >= 0.8); raw COPY {rawCopy.PerSecond:N0} events/s");
            rows.Add(new Row("baseline", $"Marten BulkInsertEventsAsync, in process, chunks of {chunk:N0}", bulk.PerSecond, "events/s", null, null, null, null,
                $"{bulk.Events:N0} events as new streams"));
            rows.Add(new Row("import", $"POST /api/imports, {history.Count:N0} touchpoints grouped by customer, chunks of {chunk:N0}", imported.PerSecond, "events/s",
                bulk.PerSecond, "Marten BulkInsertEventsAsync", ">= 0.8x", failure is null && imported.PerSecond >= 0.8 * bulk.PerSecond,
                failure ?? $"appended {imported.Appended:N0}").HeldTo(bulkSteady));
            rows.Add(new Row("import", "same, against raw COPY", imported.PerSecond, "events/s", rawCopy.PerSecond, "COPY into mt_events-shaped table", null, null));
            AddCeiling("import", "same", imported.Events, "events", used, bulk.PerSecond, "Marten BulkInsertEventsAsync", 0.8);
            rows.Add(new Row("import", "caught up (projections and reactions) after the POST began", Math.Round(caughtUp, 1), "s", null, null, null, null,
                double.IsNaN(caughtUp) ? $"not within 15 minutes: {behind:N0} events behind" : null));
            notes.Add($"CPU of the Marten bulk baseline ({bulkSteady.Seconds:F1} s wall, its schema's creation included): this process {bulkUsed.Client:F1} s, PostgreSQL {bulkUsed.Postgres:F1} s; " +
                      $"of the import to its 202 ({imported.Seconds:F1} s wall, {Environment.ProcessorCount} cores): service {used.Service:F1} s, PostgreSQL {used.Postgres:F1} s; " +
                      $"then catching up ({(double.IsNaN(caughtUp) ? "unfinished" : $"{caughtUp - imported.Seconds:F0} s")}): service {catchingUp.Service:F1} s, PostgreSQL {catchingUp.Postgres:F1} s.");
            rows.Add(new Row("memory", "importing service peak working set, to the 202", Math.Round(peakAtAccept / 1024.0 / 1024.0, 1), "MiB", null, null, "< 512 MiB",
                peakAtAccept < 512L * 1024 * 1024));
            rows.Add(new Row("memory", "same, including the catching up", Math.Round(fresh.PeakWorkingSet() / 1024.0 / 1024.0, 1), "MiB", null, null, null, null));
        }
        finally
        {
            File.Delete(file);
        }
    }

    if (settings.Only is null or "tracking")
    {
        // Segment's /v1/batch beside the native batch endpoint: the same events, in the same batches, from as many clients.
        var count = settings.TrackingEvents;
        Say($"Tracking: {count:N0} Segment calls to each of /api/touchpoints/batch, /v1/batch and /v1/batch gzipped, in alternating rounds");
        var receivedAt = DateTimeOffset.UtcNow;
        var (pseudonyms, trackingOptions) = (new Pseudonyms(Convert.FromBase64String(TrackingOptions.DevelopmentPseudonymKey)), new TrackingOptions());
        var native = SegmentDataset.Batches(SegmentDataset.Calls(count, Math.Max(1, count / 8), seed: 17, prefix: "tn"));
        var segment = SegmentDataset.Batches(SegmentDataset.Calls(count, Math.Max(1, count / 8), seed: 17, prefix: "ts"));
        var gzipped = SegmentDataset.Batches(SegmentDataset.Calls(count, Math.Max(1, count / 8), seed: 17, prefix: "tz"));
        TrackingSet[] sets =
        [
            new("native", "/api/touchpoints/batch", "application/json", false, native.Select(b => SegmentDataset.NativeBody(b, receivedAt, receivedAt, pseudonyms, trackingOptions)).ToList()),
            new("segment", "/v1/batch", "application/json", false, segment.Select(b => SegmentDataset.V1Body(b, receivedAt, gzip: false)).ToList()),
            // RudderStack's SDK gzips by default and labels the body application/x-www-form-urlencoded.
            new("gzip", "/v1/batch", "application/x-www-form-urlencoded", true, gzipped.Select(b => SegmentDataset.V1Body(b, receivedAt, gzip: true)).ToList()),
        ];
        var measured = await TrackingWorkload.RunAsync(service, sets, settings.Clients);
        var baseline = measured[0];
        string Shape(TrackingSet set) => $"{set.Calls / (double)set.Bodies.Count:N0} calls per body of {set.MeanBytes / 1024:N0} KiB";
        rows.Add(new Row("tracking", $"POST /api/touchpoints/batch, the touchpoints /v1 makes of the calls, {settings.Clients} clients, {Shape(baseline.Set)}",
            baseline.Result.PerSecond, "events/s", null, null, null, null, $"service CPU {baseline.ServiceCpuMsPerThousand:N0} ms per 1,000"));
        foreach (var (m, what) in new[] { (measured[1], "Segment's JSON"), (measured[2], "gzipped as RudderStack sends it") })
        {
            var ratio = m.Result.PerSecond / baseline.Result.PerSecond;
            Say($"Tracking: {m.Set.Name} {m.Result.PerSecond:N0} events/s, native {baseline.Result.PerSecond:N0} events/s: ratio {ratio:F2} (target >= 0.8)");
            rows.Add(new Row("tracking", $"POST /v1/batch, {what}, {settings.Clients} clients, {Shape(m.Set)}", m.Result.PerSecond, "events/s",
                baseline.Result.PerSecond, "native batch, same events", ">= 0.8x", ratio >= 0.8, $"service CPU {m.ServiceCpuMsPerThousand:N0} ms per 1,000"));
        }

        service.EndPhase("tracking");
    }

    if (settings.Only is null or "ingest")
    {
        IngestResult http;
        Say("Baseline: COPY into a table shaped like mt_events");
        var (copy, copySteady) = await BaselineAsync("raw COPY", () => Workloads.CopyAsync(db, $"{raw}.mt_events", items, settings.Batch, settings.Clients));
        const string quickAppend = "Marten quick append, in process, each batch holding its customers' locks";
        Say($"Baseline: {quickAppend}");
        using (var store = DocumentStore.For(o =>
               {
                   o.Connection(connectionString);
                   o.DatabaseSchemaName = quick;
                   o.Events.DatabaseSchemaName = quick;
                   o.Events.StreamIdentity = StreamIdentity.AsString;
                   o.Events.AppendMode = EventAppendMode.Quick;
                   o.AutoCreateSchemaObjects = AutoCreate.All;
               }))
        {
            await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
            var (appended, quickSteady) = await BaselineAsync("Marten quick append", () => Workloads.QuickAppendAsync(store, events, settings.Batch, settings.Clients));
            rows.Add(new Row("baseline", quickAppend, appended.PerSecond, "events/s", null, null, null, null, $"{appended.Duplicates:N0} batch retries after conflicts"));
            Say("HTTP batch ingest");
            var profiled = await Statements.ResetAsync(db);
            var cpu = CpuSnapshot.Take(service);
            http = await Workloads.IngestHttpAsync(service, batches, settings.Clients);
            var used = CpuSnapshot.Take(service) - cpu;
            if (profiled)
            {
                notes.Add(Statements.Describe($"batch of {settings.Batch:N0}", await Statements.ReadAsync(db), batches.Count));
            }
            if (http.Appended != items.Count)
            {
                throw new InvalidOperationException($"{http.Appended:N0} of {items.Count:N0} touchpoints were appended.");
            }

            rows.Add(new Row("ingest", $"POST /api/touchpoints/batch, {settings.Clients} clients, batches of {settings.Batch:N0}", http.PerSecond, "events/s",
                copy.PerSecond, "COPY into mt_events-shaped table", ">= 0.5x", http.PerSecond >= 0.5 * copy.PerSecond).HeldTo(copySteady));
            // Issue 22's target: the service at 0.8 of Marten's own append of the same events.
            rows.Add(new Row("ingest", "same, against Marten quick append", http.PerSecond, "events/s", appended.PerSecond, "Marten quick append", ">= 0.8x",
                http.PerSecond >= 0.8 * appended.PerSecond).HeldTo(quickSteady));
            AddCeiling("ingest", "same", http.Events, "events", used, appended.PerSecond, "Marten quick append", 0.8);
            notes.Add($"CPU during HTTP ingest ({http.Seconds:F0} s wall, {Environment.ProcessorCount} cores): service {used.Service:F0} s, PostgreSQL {used.Postgres:F0} s, load client {used.Client:F0} s.");
            // The rate above ends at the last batch's answer; the reactions it caused (flag evaluations, identity resolution,
            // win-back attribution) may still be running. How long they took says whether the rate left work behind.
            var drainCpu = CpuSnapshot.Take(service);
            var drained = await ReactionsDrainedAsync();
            var drainUsed = CpuSnapshot.Take(service) - drainCpu;
            rows.Add(new Row("ingest", "reactions caught up after the last batch's answer (nothing left in Wolverine's durable inbox)", Math.Round(drained, 1), "s",
                null, null, null, null, $"service CPU {drainUsed.Service:F0} s, PostgreSQL {drainUsed.Postgres:F0} s meanwhile"));

            Say("Re-sending everything");
            var resend = await Workloads.IngestHttpAsync(service, batches, settings.Clients);
            rows.Add(new Row("re-send", "duplicates recognised (0 appended)", resend.PerSecond, "events/s", http.PerSecond, "first pass", ">= 1.0x",
                resend.PerSecond >= http.PerSecond && resend.Appended == 0, $"appended {resend.Appended}, duplicates {resend.Duplicates:N0}"));
        }

        service.EndPhase("batch ingest and re-send");

        Say($"Single posts from {settings.Connections} connections for {settings.Seconds} s after a warm-up, and the raw per-transaction baseline");
        var (singleWarmUpRequests, singleWarmUpSlices) = (0, 0);
        var singleWarmUp = await Workloads.WarmUpAsync(service, async slice =>
            singleWarmUpRequests += (await Workloads.SinglePostsAsync(service, customers, settings.Connections, slice, $"single-warm-up-{singleWarmUpSlices++}")).Latencies.Count);
        notes.Add($"Single posts' warm-up (not in the table): {singleWarmUp}; {singleWarmUpRequests / singleWarmUp.Took.TotalSeconds:N0} requests/s.");
        var singleProfiled = await Statements.ResetAsync(db);
        var singleCpu = CpuSnapshot.Take(service);
        var single = await Workloads.SinglePostsAsync(service, customers, settings.Connections, TimeSpan.FromSeconds(settings.Seconds), "single");
        var singleUsed = CpuSnapshot.Take(service) - singleCpu;
        notes.Add($"CPU during single posts ({settings.Seconds} s wall, {Environment.ProcessorCount} cores, {single.Latencies.Count:N0} requests): service {singleUsed.Service:F1} s " +
                  $"({singleUsed.Service * 1000 / single.Latencies.Count:F2} ms per request), PostgreSQL {singleUsed.Postgres:F1} s ({singleUsed.Postgres * 1000 / single.Latencies.Count:F2} ms per request), " +
                  $"load client {singleUsed.Client:F1} s; load average {LoadAverage()}.");
        if (singleProfiled)
        {
            notes.Add(Statements.Describe("single post", await Statements.ReadAsync(db), single.Latencies.Count));
        }

        var (rawWarmUpTransactions, rawWarmUpSlices) = (0, 0);
        var rawWarmUp = await Workloads.WarmUpAsync(service, async slice =>
            rawWarmUpTransactions += (await Workloads.RawTransactionsAsync(db, $"{raw}.sources", $"{raw}.mt_events", settings.Connections, slice, $"raw-warm-up-{rawWarmUpSlices++}")).Latencies.Count);
        notes.Add($"The raw transaction's warm-up (not in the table): {rawWarmUp.Took.TotalSeconds:F0} s, {rawWarmUpTransactions / rawWarmUp.Took.TotalSeconds:N0} transactions/s.");
        var (rawTx, rawSteady) = await BaselineAsync("raw transaction", () =>
            Workloads.RawTransactionsAsync(db, $"{raw}.sources", $"{raw}.mt_events", settings.Connections, TimeSpan.FromSeconds(settings.Seconds), "raw"));
        var rawUsed = rawSteady.Used;
        notes.Add($"CPU during the raw per-transaction baseline: PostgreSQL {rawUsed.Postgres:F1} s, load client {rawUsed.Client:F1} s, service (background work left over) {rawUsed.Service:F1} s.");
        rows.Add(new Row("single posts", $"POST /api/customers/{{id}}/touchpoints, {settings.Connections} connections", single.PerSecond, "req/s", rawTx.PerSecond,
            "dedup + append transaction", ">= 0.5x", single.PerSecond >= 0.5 * rawTx.PerSecond, single.Failed > 0 ? $"{single.Failed} failed" : null).HeldTo(rawSteady));
        AddCeiling("single posts", "same", single.Latencies.Count, "requests", singleUsed, rawTx.PerSecond, "dedup + append transaction", 0.5);
        foreach (var p in new[] { 50.0, 99.0, 99.9 })
        {
            var met = p == 99.0 ? single.Latencies.Percentile(p) <= 2 * rawTx.Latencies.Percentile(p) : (bool?)null;
            rows.Add(new Row("single posts", $"latency p{p}", single.Latencies.Percentile(p), "ms", rawTx.Latencies.Percentile(p), "raw transaction", p == 99.0 ? "<= 2x" : null, met)
                .HeldTo(rawSteady));
        }

        // Each connection sends its next request when the last is answered: by Little's law the mean latency is the
        // connections over the rate, so the mean's ratio is the inverse of the rate's, and under 0.5x of the raw rate the
        // mean alone is over 2x the raw's. The p99 can only be within 2x if the tail is tighter than the raw's.
        rows.Add(new Row("single posts", $"latency mean (by Little's law about {settings.Connections} connections over the rate: " +
                                         $"{settings.Connections * 1000 / single.PerSecond:F1} ms here, {settings.Connections * 1000 / rawTx.PerSecond:F1} ms raw; its ratio is about the inverse of the rate's)",
            single.Latencies.Mean, "ms", rawTx.Latencies.Mean, "raw transaction", null, null));

        service.EndPhase("single posts");

        // Half the extra set per phase; at full rate on an idle machine that is about 20 s of the first pass's rate.
        var extra = Dataset.Build(Path.Combine(root, "data/cdnow/CDNOW_master.txt"), Math.Max(settings.Events / 5, 140_000), settings.Customers, seed: 2, idPrefix: "x");
        var (readRows, rawReadSteady) = await ReadsWorkload.RunAsync(service, db, $"{raw}.mt_events", customers, extra, http.PerSecond, settings, Say);
        rows.AddRange(readRows);
        baselines.Add(rawReadSteady);
        service.EndPhase("reads while ingesting");

        {
            // Half the rate the first pass reached, in batches of 1,000, paced; the lag sampler reads the daemon's
            // progress against the event store in PostgreSQL's own clock.
            var rate = Math.Max(100, http.PerSecond / 2);
            Say($"Projection lag at {rate:N0} events/s (half the ingest rate) for {settings.Seconds} s");
            var paced = Dataset.Build(Path.Combine(root, "data/cdnow/CDNOW_master.txt"), Math.Max(70_000, (int)(rate * settings.Seconds * 1.5)), settings.Customers, seed: 3, idPrefix: "l");
            var lag = await Workloads.ProjectionLagAsync(service, db, schema, Workloads.Batches(paced, 1_000), rate, TimeSpan.FromSeconds(settings.Seconds));
            rows.Add(new Row("projection lag", $"async projections p99, at {lag.Rate:N0} events/s ({lag.Seconds.Count} samples)", Math.Round(lag.Seconds.Percentile(99), 3), "s",
                null, null, "p99 < 2 s", lag.Seconds.Percentile(99) < 2, $"max {lag.Seconds.Percentile(100):F2} s, p99 {lag.Events.Percentile(99):N0} events behind"));
        }

        service.EndPhase("projection lag");

        Say("Churn model fit over the stored cohort");
        var analyst = await service.TokenAsync("bench-fitter", "analyst");
        using (var fit = new HttpRequestMessage(HttpMethod.Post, "/api/churn/models") { Content = new StringContent("{\"calibrationEnd\":\"1997-09-30T00:00:00Z\"}", Encoding.UTF8, "application/json") })
        {
            fit.Headers.Authorization = new("Bearer", analyst);
            var clock = Stopwatch.StartNew();
            using var answer = await service.Http.SendAsync(fit);
            var body = System.Text.Json.Nodes.JsonNode.Parse(await answer.Content.ReadAsStringAsync())!;
            rows.Add(new Row("churn fit", $"POST /api/churn/models, {body["customers"]} customers", clock.Elapsed.TotalMilliseconds, "ms", null, null, null, null,
                $"of which the three fits {body["elapsedMs"]} ms; 100,000 customers: see bench/ChurnFit"));
        }

        // The fit publishes a flag sweep over every customer (chunks of 500, one at a time). It is part of this phase: left
        // running, its memory was counted as the identity workload's.
        var (sweepSeconds, chunks) = await SweepAfterFitAsync();
        rows.Add(new Row("churn fit", $"the flag sweep the fit published: its last chunk handled after the fit's answer ({chunks:N0} chunks of up to 500 customers)",
            Math.Round(sweepSeconds, 1), "s", null, null, null, null));
        service.EndPhase("churn fit and its flag sweep");
    }

    if (settings.Only == "churn")
    {
        // The fit end to end (loading the histories and, since issue 19, the profile graph), before and after hand merges.
        var cohort = Dataset.Build(Path.Combine(root, "data/cdnow/CDNOW_master.txt"), 69_659, 1, seed: 1); // the purchases alone
        Say($"Churn: ingesting the full CDNOW cohort ({cohort.Count:N0} purchases)");
        await Workloads.IngestHttpAsync(service, Workloads.Batches(cohort, settings.Batch), settings.Clients);
        var analyst = await service.TokenAsync("bench-fitter", "analyst");
        var supervisor = await service.TokenAsync("bench-linker", "supervisor");
        async Task<(double Ms, long FitMs, int Customers)> FitOnce()
        {
            using var fit = new HttpRequestMessage(HttpMethod.Post, "/api/churn/models") { Content = new StringContent("{\"calibrationEnd\":\"1997-09-30T00:00:00Z\"}", Encoding.UTF8, "application/json") };
            fit.Headers.Authorization = new("Bearer", analyst);
            var clock = Stopwatch.StartNew();
            using var answer = await service.Http.SendAsync(fit);
            var body = System.Text.Json.Nodes.JsonNode.Parse(await answer.Content.ReadAsStringAsync())!;
            if (!answer.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"The fit answered {(int)answer.StatusCode}: {body.ToJsonString()}");
            }

            return (clock.Elapsed.TotalMilliseconds, body["elapsedMs"]!.GetValue<long>(), body["customers"]!.GetValue<int>());
        }

        async Task Measure(string what)
        {
            // The ingest's and merges' reactions (identity resolution, flag evaluations) run in the background: let them
            // drain first, so the fits are timed on the service alone.
            var settled = await ReactionsDrainedAsync();
            Say($"Churn: background reactions drained after {settled:F0} s");
            await FitOnce(); // waits for the projections to catch up; not timed
            var fits = new List<(double Ms, long FitMs, int Customers)>();
            for (var i = 0; i < 5; i++)
            {
                fits.Add(await FitOnce());
            }

            var ms = fits.Select(f => f.Ms).Order().ToList();
            var median = ms[ms.Count / 2];
            Say($"Churn: {what}: median {median:N0} ms over 5 fits of {fits[0].Customers:N0} customers");
            rows.Add(new Row("churn fit", $"POST /api/churn/models, {what}, {fits[0].Customers:N0} customers, median of 5", Math.Round(median, 1), "ms", null, null, null, null,
                $"min {ms[0]:N0} ms, max {ms[^1]:N0} ms; the service's own elapsedMs (reading the histories and the graph, then the fits; median) {fits.Select(f => f.FitMs).Order().ElementAt(2)} ms; load average {LoadAverage()}"));
        }

        await Measure("no profile merged");
        var ids = cohort.Select(i => i.CustomerId).Distinct().ToList();
        var pairs = Math.Min(settings.Profiles, ids.Count / 2);
        Say($"Churn: merging {pairs:N0} pairs of customers by hand");
        for (var i = 0; i < pairs; i++)
        {
            using var merge = new HttpRequestMessage(HttpMethod.Post, "/api/profiles/merges")
            {
                Content = new StringContent($"{{\"profiles\":[\"{ids[2 * i]}\",\"{ids[2 * i + 1]}\"]}}", Encoding.UTF8, "application/json"),
            };
            merge.Headers.Authorization = new("Bearer", supervisor);
            using var merged = await service.Http.SendAsync(merge);
            if (!merged.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"Merging {ids[2 * i]} and {ids[2 * i + 1]} answered {(int)merged.StatusCode}: {await merged.Content.ReadAsStringAsync()}");
            }
        }

        await Measure($"after {pairs:N0} hand merges");
        var peak = service.PeakWorkingSet();
        rows.Add(new Row("memory", "service peak working set", Math.Round(peak / 1024.0 / 1024.0, 1), "MiB", null, null, null, null));
    }

    if (settings.Only == "churn-scale")
    {
        // bench/ChurnFit's 1,000,000-customer cohorts, end to end: stored as purchase histories, fitted by the service.
        foreach (var (shift, currency) in new[] { (0, "USD"), (12, "EUR") })
        {
            var churn = await ChurnWorkload.RunAsync(service, db, connectionString, schema, Path.Combine(root, "data/cdnow/CDNOW_master.txt"),
                settings.ChurnCustomers, shift, currency, Say);
            var models = churn.Answer?["models"];
            string Ended(string model) => models?[model] is { } m
                ? $"{model} {(m["converged"]!.GetValue<bool>() ? "converged" : $"not converged ({m["reason"]})")}"
                : $"{model} -";
            Say($"Churn: {churn.Status} after {churn.WallMilliseconds:N0} ms; {Ended("bgNbd")}, {Ended("paretoNbd")}, {Ended("gammaGamma")}");
            rows.Add(new Row("churn fit", $"POST /api/churn/models, {churn.Answer?["customers"]} of {churn.Customers:N0} resampled customers{(shift > 0 ? $", histories moved up to {shift} weeks earlier" : "")} (status {churn.Status})",
                Math.Round(churn.WallMilliseconds), "ms", null, null, null, null,
                $"service's elapsedMs {churn.Answer?["elapsedMs"]}; {Ended("bgNbd")}, {Ended("paretoNbd")}, {Ended("gammaGamma")}; histories stored by COPY in {churn.SeedSeconds:F0} s; load average {LoadAverage()}"));
            // The same fit as a job (Prefer: respond-async): no request timeout, the status polled every second.
            var job = churn.Job;
            var state = job.Job?["state"]?.GetValue<string>() ?? $"status {job.Status}";
            Say($"Churn job: {state} after {job.WallMilliseconds:N0} ms (202 in {job.AcceptedMilliseconds:N0} ms)");
            rows.Add(new Row("churn fit", $"the same fit as a job: POST with Prefer: respond-async, then GET /api/churn/fits/{{id}} every second until it ended ({state}, {job.Job?["progress"]?["customers"]} customers)",
                Math.Round(job.WallMilliseconds), "ms", null, null, null, null,
                $"202 in {job.AcceptedMilliseconds:N0} ms; histories read (the poll first saw it fitting) by {(job.FittingSeenMilliseconds is { } f ? $"{f:N0} ms" : "-")}; " +
                $"job startedAt {job.Job?["startedAt"]}, finishedAt {job.Job?["finishedAt"]}{(job.Job?["problem"] is { } problem ? $"; problem {problem["title"]}: {problem["detail"]}" : "")}; load average {LoadAverage()}"));
        }

        var peakChurn = service.PeakWorkingSet();
        rows.Add(new Row("memory", "service peak working set", Math.Round(peakChurn / 1024.0 / 1024.0, 1), "MiB", null, null, null, null));
    }

    if (settings.Only is null or "identity")
    {
        // Last: its million seeded profiles would slow every workload above.
        Say($"Identity: seeding {settings.Profiles:N0} profiles of 3 identifiers each");
        var identity = await IdentityWorkload.RunAsync(service, db, connectionString, schema, settings.Profiles, settings.IdentityRate, TimeSpan.FromSeconds(settings.Seconds), Say);
        var resolution = identity.Resolution;
        double Figure(string name) => resolution?[name]?.GetValue<double>() ?? double.NaN;
        var load = $"load average {LoadAverage()}";
        rows.Add(new Row("identity", $"store: {identity.Profiles:N0} profiles of 3 identifiers, seeded directly", identity.SeedSeconds, "s", null, null, null, null,
            $"async daemon passed them {identity.CatchUpSeconds:F0} s later"));
        rows.Add(new Row("identity", $"identifier resolution p99, this workload ({resolution?["count"]} lookups of a touchpoint's identifiers by the ingest path's resolver; p50 {Figure("p50"):F2} ms, max {Figure("max"):F1} ms)",
            Math.Round(Figure("p99"), 2), "ms", null, null, "p99 < 5 ms", Figure("p99") < 5));
        var warmUp = identity.WarmUp.Resolution;
        double WarmUpFigure(string name) => warmUp?[name]?.GetValue<double>() ?? double.NaN;
        rows.Add(new Row("identity", $"identifier resolution p99, the warm-up before it ({warmUp?["count"]} lookups of {identity.WarmUp.Touchpoints:N0} touchpoints posted at the same rate, " +
                                     $"{identity.WarmUp.Linked:N0} of {identity.WarmUp.ExpectedLinks:N0} links; {identity.WarmUp.Took}; p50 {WarmUpFigure("p50"):F2} ms, max {WarmUpFigure("max"):F1} ms)",
            Math.Round(WarmUpFigure("p99"), 2), "ms", null, null, null, null));
        rows.Add(new Row("identity", $"what a lookup waited behind, this workload (its touchpoints posted until the last link): {identity.Waits.Describe()}",
            identity.Waits.StoppedPerSecond, "ms/s", null, null, null, null));
        var passes = identity.PassLookups;
        double Pass(string name) => passes?[name]?.GetValue<double>() ?? double.NaN;
        rows.Add(new Row("identity", $"pass lookup p99, this workload ({passes?["count"]} lookups, each sorting a pass of committed touchpoints; p50 {Pass("p50"):F2} ms, max {Pass("max"):F1} ms)",
            Math.Round(Pass("p99"), 2), "ms", null, null, null, null));
        foreach (var (name, figures) in new[] { ("identifier resolution", identity.ResolutionWholeRun), ("pass lookup", identity.PassLookupsWholeRun) })
        {
            if (figures is not null)
            {
                double Whole(string figure) => figures[figure]?.GetValue<double>() ?? double.NaN;
                rows.Add(new Row("identity", $"{name} p99 before it, under the tracking and ingest workloads ({figures["count"]} lookups; p50 {Whole("p50"):F2} ms, max {Whole("max"):F1} ms)",
                    Math.Round(Whole("p99"), 2), "ms", null, null, null, null));
            }
        }

        var lag = identity.LinkLagMs;
        rows.Add(new Row("identity", $"link lag p99, touchpoint committed -> ProfilesMerged recorded ({lag.Count:N0} of {identity.ExpectedLinks:N0} links of {identity.Touchpoints:N0} touchpoints at {identity.Rate:N0}/s; p50 {(lag.Count > 0 ? lag.Percentile(50) : double.NaN):N0} ms, max {(lag.Count > 0 ? lag.Percentile(100) : double.NaN):N0} ms)",
            lag.Count > 0 ? Math.Round(lag.Percentile(99) / 1000, 3) : double.NaN, "s", null, null, "p99 < 1 s",
            lag.Count == identity.ExpectedLinks && lag.Count > 0 && lag.Percentile(99) < 1000, load));
        service.EndPhase("identity");
    }

    if (settings.Only is null or "ingest" or "tracking" or "identity")
    {
        // Issue 22: under 512 MiB through the whole benchmark (the import's own service has its row above).
        var (peak, phases, atPeak) = service.Peaks();
        static double MiB(long bytes) => Math.Round(bytes / 1024.0 / 1024.0, 1);
        rows.Add(new Row("memory", "service peak working set, whole run", MiB(peak), "MiB", null, null, "< 512 MiB", peak < 512L * 1024 * 1024,
            "by phase: " + string.Join(", ", phases.Select(p => $"{p.Phase} {MiB(p.Peak):N0}"))));
        if (atPeak is var (phase, sample))
        {
            // What the peak is made of: the heap the collector keeps committed (and how much of it is free space between
            // survivors or large objects awaiting a full collection) beside what is not heap (code, mapped assemblies, native).
            var heap = sample.Runtime;
            rows.Add(new Row("memory", $"the resident set at its highest sample ({phase}, sampled every 1 s): the heap committed at the last collection " +
                                       $"{MiB(heap.CommittedBytes):N0} MiB (gen0 and gen1 {MiB(heap.YoungBytes):N0}; gen2 {MiB(heap.Gen2Bytes):N0}, of it free {MiB(heap.Gen2FragmentedBytes):N0}; " +
                                       $"large objects {MiB(heap.LargeObjectBytes):N0}, of it free {MiB(heap.LargeObjectFragmentedBytes):N0}; free in all {MiB(heap.FragmentedBytes):N0}; " +
                                       $"committed beyond the heap's objects {MiB(heap.CommittedBytes - heap.HeapBytes):N0}), the rest " +
                                       $"{MiB(sample.WorkingSet - heap.CommittedBytes):N0} MiB (code, mapped assemblies, native)",
                MiB(sample.WorkingSet), "MiB", null, null, null, null));
        }
    }
}
finally
{
    await service.DisposeAsync();
    // The import's service and bulk baseline had schemas of their own (a million events each): dropped with the rest.
    // A killed service's backend may still finish a statement (a flag sweep's chunk) and meet the drop in a deadlock:
    // PostgreSQL gives up one of the two, and the drop is tried again.
    var drop = string.Concat(new[] { schema, $"bench_imp_{stamp}" }.Select(s => $"drop schema if exists {s} cascade; drop schema if exists {s}_wolverine cascade; drop schema if exists {s}_keys cascade; ")) +
               $"drop schema if exists {raw} cascade; drop schema if exists {quick} cascade; drop schema if exists bench_bulk_{stamp} cascade;";
    for (var attempt = 1; ; attempt++)
    {
        try
        {
            await Execute(drop);
            break;
        }
        catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.DeadlockDetected && attempt < 5)
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
        }
    }
}

notes.Add($"Load average (1 min) at the start {loadAtStart}, at the end {LoadAverage()}: other processes share the {Environment.ProcessorCount} cores.");
if (baselines.Count > 0)
{
    notes.Add($"What the baselines' cores waited on (iowait: idle while a process waited on the disk; steal: taken by the hypervisor) and how busy the disk was (a target met " +
              $"against one that waited over {Steadiness.Limit * 100:F0} % of the cores' time, or with the disk over {Steadiness.DiskLimit * 100:F0} % busy, is not counted): " +
              $"{string.Join("; ", baselines.Select(b => b.Describe()))}.");
}

var machine = $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1024 / 1024 / 1024} GiB, .NET {Environment.Version}, " +
              $"PostgreSQL {await Scalar("show server_version")}, {settings}";
// The identity, churn, import and ingest workloads alone write identity.md / churn-profiles.md / churn-http.md / import.md / ingest.md and
// .json (kept); the tracking workload alone a .tmp beside load.md.
Report.Write(Path.Combine(root, "bench/results"), settings.Only switch { null => "load", "identity" => "identity", "churn" => "churn-profiles", "churn-scale" => "churn-http", "import" => "import", "ingest" => "ingest", _ => $"load-{settings.Only}" },
    settings.Only is null or "identity" or "churn" or "churn-scale" or "import" or "ingest" ? "" : ".tmp", machine, rows, notes);
return 0;

static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

// A baseline run measured (Steadiness.MeasureAsync), listed in the notes and said as it ends, for the rows held to it.
async Task<(T Result, Steadiness Steady)> BaselineAsync<T>(string name, Func<Task<T>> run)
{
    var (result, steady) = await Steadiness.MeasureAsync(name, service, run);
    baselines.Add(steady);
    Say($"Baseline {steady.Describe()}");
    return (result, steady);
}

// The most a workload's own CPU allows: what it did over the CPU seconds it took (the service's, PostgreSQL's and the load
// client's) spread on every core, as if nothing else ran. Beside the baseline's measured rate: a ceiling under the target
// says the target needs less work per event or request, and that no scheduling, waiting or parallelism can reach it.
void AddCeiling(string workload, string what, double units, string unit, CpuSnapshot used, double baselineRate, string baselineName, double target)
{
    var counted = used.Service + used.Postgres + used.Client;
    // The processes' counts cannot exceed what the cores did (/proc/stat); if they do, one of them is wrong, and the cores'
    // figure is the bound (it counts other sessions too, so the ceiling then errs against the service).
    var cpu = Math.Min(counted, used.Machine);
    var ceiling = units / (cpu / Environment.ProcessorCount);
    var bounded = counted > used.Machine * 1.02 ? $"; the processes counted {counted:F1} CPU-s, more than the cores' {used.Machine:F1}, which bound it" : "";
    rows.Add(new Row(workload, $"{what}: the most its CPU allows ({cpu:F1} CPU-s for {units:N0} {unit}, {Environment.ProcessorCount} cores doing nothing else{bounded})",
        Math.Round(ceiling, 1), unit == "requests" ? "req/s" : $"{unit}/s", baselineRate, baselineName, null, null,
        ceiling < target * baselineRate ? $"under the {target}x target: the CPU per {unit.TrimEnd('s')} holds it" : $"the {target}x target is within this CPU"));
}

async Task Execute(string sql)
{
    await using var command = db.CreateCommand(sql);
    await command.ExecuteNonQueryAsync();
}

// Seconds until no message waits in the service's durable inbox (the reactions to what was ingested), at most 10 minutes.
async Task<double> ReactionsDrainedAsync()
{
    var settling = Stopwatch.StartNew();
    while (settling.Elapsed < TimeSpan.FromMinutes(10) &&
           await Scalar($"select count(*) from {schema}_wolverine.wolverine_incoming_envelopes where status = 'Incoming'") != "0")
    {
        await Task.Delay(200);
    }

    return settling.Elapsed.TotalSeconds;
}

// Seconds from now until the sweep's chunks (SweepChurnFlags, on a durable local queue of their own) are all handled, and
// how many there were (the inbox keeps handled envelopes for a while): they are in the inbox once the fit's
// EvaluateAllChurnFlags was handled. At most 10 minutes.
async Task<(double Seconds, int Chunks)> SweepAfterFitAsync()
{
    var since = Stopwatch.StartNew();
    var inbox = $"{schema}_wolverine.wolverine_incoming_envelopes where message_type like '%.SweepChurnFlags'";
    while (since.Elapsed < TimeSpan.FromMinutes(10) &&
           (await Scalar($"select count(*) from {inbox}") == "0" || await Scalar($"select count(*) from {inbox} and status = 'Incoming'") != "0"))
    {
        await Task.Delay(200);
    }

    return (since.Elapsed.TotalSeconds, int.Parse(await Scalar($"select count(*) from {inbox}"), CultureInfo.InvariantCulture));
}

async Task<string> Scalar(string sql)
{
    await using var command = db.CreateCommand(sql);
    return (await command.ExecuteScalarAsync())?.ToString() ?? "";
}

static string Root()
{
    for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
    {
        if (File.Exists(Path.Combine(directory.FullName, "CustomerJourney.sln")))
        {
            return directory.FullName;
        }
    }

    throw new InvalidOperationException("CustomerJourney.sln not found above the benchmark.");
}

namespace Load
{
    public sealed record Settings(int Events, int Customers, int Clients, int Batch, int Connections, int Seconds, int ReadRate, int TrackingEvents, int Profiles,
        int IdentityRate, string? Only, int ChurnCustomers = 1_000_000)
    {
        public static Settings Parse(string[] args)
        {
            var values = new Dictionary<string, int>(StringComparer.Ordinal)
            {
                ["--events"] = 1_000_000, ["--customers"] = 100_000, ["--clients"] = 3, ["--batch"] = 5_000, ["--connections"] = 32, ["--seconds"] = 20, ["--read-rate"] = 50,
                ["--tracking-events"] = 0, ["--profiles"] = 1_000_000, ["--identity-rate"] = 50, ["--churn-customers"] = 1_000_000,
            };
            string? only = null;
            for (var i = 0; i < args.Length; i += 2)
            {
                if (args[i] == "--only" && i + 1 < args.Length && args[i + 1] is "tracking" or "identity" or "churn" or "churn-scale" or "import" or "ingest")
                {
                    only = args[i + 1];
                    continue;
                }

                var value = 0;
                if (!values.ContainsKey(args[i]) || i + 1 >= args.Length || !int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out value) || value <= 0)
                {
                    Console.Error.WriteLine($"Unknown or invalid option '{args[i]}'. Options: {string.Join(", ", values.Keys)} followed by a positive whole number, or --only tracking|identity|churn|churn-scale|import|ingest.");
                    Environment.Exit(2);
                }

                values[args[i]] = value;
            }

            if (values["--batch"] is < 1_000 or > 10_000 || values["--clients"] is < 1 or > 16)
            {
                Console.Error.WriteLine("--batch must be 1,000 to 10,000 and --clients 1 to 16.");
                Environment.Exit(2);
            }

            var tracking = values["--tracking-events"] > 0 ? values["--tracking-events"] : Math.Max(30_000, values["--events"] / 10);
            return new Settings(values["--events"], values["--customers"], values["--clients"], values["--batch"], values["--connections"], values["--seconds"], values["--read-rate"],
                tracking, values["--profiles"], values["--identity-rate"], only, values["--churn-customers"]);
        }

        public override string ToString() => Only is null
            ? $"{Events:N0} events over {Customers:N0} customers, {Clients} clients, batches of {Batch:N0}, {Connections} connections, {Seconds} s per timed phase, {ReadRate} reads/s, {TrackingEvents:N0} tracking calls per endpoint, {Profiles:N0} profiles, identity touchpoints at {IdentityRate:N0}/s"
            : Only == "ingest" ? $"only the ingest workloads (batch ingest, re-send, single posts, reads while ingesting, projection lag, churn fit): {Events:N0} events over {Customers:N0} customers, {Clients} clients, batches of {Batch:N0}, {Connections} connections, {Seconds} s per timed phase, {ReadRate} reads/s"
            : Only == "import" ? $"only the import workload: {Events:N0} touchpoints over {Customers:N0} customers"
            : Only == "tracking" ? $"only the tracking workload: {TrackingEvents:N0} calls per endpoint, {Clients} clients"
            : Only == "churn" ? $"only the churn fit workload: the full CDNOW cohort, {Profiles:N0} hand merges"
            : Only == "churn-scale" ? $"only the churn fit over HTTP at scale: {ChurnCustomers:N0} customers resampled from CDNOW, then the same shifted up to 12 weeks"
            : $"only the identity workload: {Profiles:N0} profiles, touchpoints at {IdentityRate:N0}/s for {Seconds} s";
    }

    /// <summary>
    /// CPU seconds used so far by the service, by PostgreSQL (all its processes, those that exited included), by this load
    /// client, and by every process on the machine (from /proc/stat: what the cores were busy with, other sessions included).
    /// </summary>
    /// <remarks>
    /// Beside them, two kinds of time the cores did not work, from the same line of /proc/stat: <see cref="IoWait"/> (a core
    /// idle while a process waited on the disk) and <see cref="Steal"/> (the hypervisor ran something else on the core).
    /// </remarks>
    public sealed record CpuSnapshot(double Service, double Postgres, double Client, double Machine, double IoWait = 0, double Steal = 0, DiskSnapshot? Disk = null)
    {
        public static CpuSnapshot Take(Service service)
        {
            var (busy, ioWait, steal) = MachineTimes();
            return new(service.CpuSeconds(), PostgresCpu(), Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds, busy, ioWait, steal, DiskSnapshot.Take());
        }

        public static CpuSnapshot operator -(CpuSnapshot a, CpuSnapshot b) =>
            new(a.Service - b.Service, a.Postgres - b.Postgres, a.Client - b.Client, a.Machine - b.Machine, a.IoWait - b.IoWait, a.Steal - b.Steal,
                a.Disk is { } x && b.Disk is { } y ? x - y : null);

        /// <summary>What neither the service, PostgreSQL nor this client used of what the machine's cores did: other sessions.</summary>
        public double Others => Math.Max(0, Machine - Service - Postgres - Client);

        /// <summary>
        /// The cores' busy seconds since boot: the first line of /proc/stat, in hundredths of a second, less idle and
        /// iowait (fields 4 and 5); guest time is already counted in user time. Beside it iowait and steal (field 8), which
        /// the busy seconds leave out and count, as the kernel does.
        /// </summary>
        private static (double Busy, double IoWait, double Steal) MachineTimes()
        {
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                .Take(8).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            return ((fields.Sum() - fields[3] - fields[4]) / 100.0, fields[4] / 100.0, fields[7] / 100.0);
        }

        /// <summary>The project-local cluster's postmaster.pid, so PostgreSQL clusters of other clones on the machine are not counted.</summary>
        public static string? PostmasterPidFile { get; set; }

        /// <remarks>
        /// A backend that exits and is reaped while /proc is being read counts twice (read alive, then in the postmaster's
        /// total of its reaped children) or not at all, as the pids' order and the exit fall (pids wrap at 32,768 here, so
        /// a backend may be read before its postmaster). A phase read PostgreSQL 35.9 CPU-s in 20 s beside the service's
        /// 15.6 on two cores, more than the cores did. The postmaster's total moves whenever a child is reaped, so the
        /// children are read again until it did not.
        /// </remarks>
        private static double PostgresCpu()
        {
            var postmaster = PostmasterPidFile is { } file && File.Exists(file) ? File.ReadLines(file).First().Trim() : null;
            for (var attempt = 0; ; attempt++)
            {
                var reaped = postmaster is null ? 0 : ReapedTicks(postmaster);
                var alive = AliveTicks(postmaster);
                var reapedAfter = postmaster is null ? 0 : ReapedTicks(postmaster);
                if (reapedAfter == reaped || attempt == 10)
                {
                    return (alive + reapedAfter) / 100.0;
                }
            }
        }

        /// <summary>utime and stime of the cluster's live processes (the postmaster and its children; every postgres process without a pid file).</summary>
        private static long AliveTicks(string? postmaster)
        {
            var ticks = 0L;
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(dir, "comm")).Trim() != "postgres")
                    {
                        continue;
                    }

                    // Only this run's cluster: the postmaster and its children (the machine may run other clusters).
                    if (postmaster is not null && Path.GetFileName(dir) != postmaster && ParentOf(dir) != postmaster)
                    {
                        continue;
                    }

                    // utime and stime, fields 14 and 15 of /proc/<pid>/stat (after the parenthesised command).
                    var fields = StatFields(dir);
                    ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
                {
                }
            }

            return ticks;
        }

        /// <summary>
        /// cutime and cstime of the postmaster: the backends that exited (and were reaped) keep counting, so a phase whose
        /// connections come and go is not short of their CPU (it once read -73 s).
        /// </summary>
        private static long ReapedTicks(string postmaster)
        {
            try
            {
                var fields = StatFields(Path.Combine("/proc", postmaster));
                return long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                return 0;
            }
        }

        /// <summary>
        /// CPU seconds the service's runtime has spent in its background compiler so far: the thread (named ".NET Tiered
        /// Com", the kernel keeps 15 characters) that compiles hot methods again with full optimisation.
        /// </summary>
        public static double CompilerCpu(Service service)
        {
            var ticks = 0L;
            foreach (var thread in Directory.EnumerateDirectories($"/proc/{service.ProcessId}/task"))
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(thread, "comm")).TrimEnd('\n') == ".NET Tiered Com")
                    {
                        var fields = StatFields(thread);
                        ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
                {
                }
            }

            return ticks / 100.0;
        }

        /// <summary>The fields of /proc/PID/stat after the parenthesised command (the state is the first).</summary>
        private static string[] StatFields(string dir)
        {
            var stat = File.ReadAllText(Path.Combine(dir, "stat"));
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }

        private static string ParentOf(string dir) => StatFields(dir)[1];
    }

    public static class Report
    {
        private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

        public static void Write(string directory, string name, string suffix, string machine, IReadOnlyList<Row> rows, IReadOnlyList<string> notes)
        {
            static string F(double? v) => v is null || double.IsNaN(v.Value) ? "-" : v.Value.ToString("#,0.##", CultureInfo.InvariantCulture);
            var table = new StringBuilder();
            table.AppendLine($"Load benchmark: {machine}");
            table.AppendLine();
            table.AppendLine("| workload | measure | value | unit | baseline | baseline is | ratio | target | met |");
            table.AppendLine("|---|---|---:|---|---:|---|---:|---|---|");
            foreach (var r in rows)
            {
                var note = string.Join("; ", new[] { r.Note, r.NotCounted }.OfType<string>());
                table.AppendLine($"| {r.Workload} | {r.Measure}{(note.Length == 0 ? "" : $" ({note})")} | {F(r.Value)} | {r.Unit} | {F(r.Baseline)} | {r.BaselineName ?? "-"} | {F(r.Ratio)} | {r.Target ?? "-"} | {r.MetText} |");
            }

            foreach (var note in notes)
            {
                table.AppendLine();
                table.AppendLine(note);
            }

            Console.WriteLine();
            Console.WriteLine(table);
            Directory.CreateDirectory(directory);
            File.WriteAllText(Path.Combine(directory, $"{name}.md{suffix}"), table.ToString());
            File.WriteAllText(Path.Combine(directory, $"{name}.json{suffix}"), JsonSerializer.Serialize(new { machine, rows, notes }, Indented));
        }
    }
}
