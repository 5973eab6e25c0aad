using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Npgsql;

namespace Load;

/// <summary>
/// Reads while ingesting: the journey's first page, the same as of now, and the customer summary, at a fixed rate, while
/// batches are ingested at half the first pass's rate (paced) and then at full rate (as many clients as the first pass,
/// unpaced); beside the raw read (the latest 50 rows of a stream) at the same rate while COPY runs. Targets: at half rate
/// the service's p99 at most 2x the raw read's; at full rate under 50 ms. Beside each phase's client-side figures, the
/// time the same requests spent inside the service (ASP.NET Core's request duration per route, from /api/dev/metrics):
/// what the client waited beyond it was spent outside the service's request pipeline, queueing for a core.
/// </summary>
public static class ReadsWorkload
{
    private static readonly (string Name, string Route)[] Routes =
        [("journey (with and without asOf)", "/api/customers/{customerId}/journey"), ("customer", "/api/customers/{customerId}")];

    /// <summary>The rows, and the raw read's steadiness: a half-rate target met against a raw read that waited is not counted.</summary>
    public static async Task<(List<Row> Rows, Steadiness RawRead)> RunAsync(Service service, NpgsqlDataSource db, string rawTable, IReadOnlyList<string> customers, IReadOnlyList<Item> extra,
        double firstPassRate, Settings settings, Action<string> say)
    {
        var reader = await service.TokenAsync("bench-analyst", "analyst");
        var asOf = Uri.EscapeDataString(DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        var duration = TimeSpan.FromSeconds(settings.Seconds);
        IReadOnlyList<(string Name, Func<int, Task> Call)> calls =
        [
            ("journey", n => Workloads.GetOkAsync(service, $"/api/customers/{customers[n * 7919 % customers.Count]}/journey?pageSize=50", reader)),
            ("journey asOf", n => Workloads.GetOkAsync(service, $"/api/customers/{customers[n * 7919 % customers.Count]}/journey?pageSize=50&asOf={asOf}", reader)),
            ("customer", n => Workloads.GetOkAsync(service, $"/api/customers/{customers[n * 7919 % customers.Count]}", reader)),
        ];

        // Unmeasured first: the read paths' code is compiled as they first run (Workloads.WarmUpAsync).
        var warmUp = await Workloads.WarmUpAsync(service, slice => Workloads.AtFixedRateAsync(settings.ReadRate, slice, calls));
        say($"Reads at {settings.ReadRate}/s, warmed up: {warmUp}");

        // Each phase ingests touchpoints of its own (half of the extra set each), so neither re-sends the other's.
        var half = extra.Count / 2;
        var halfRate = firstPassRate / 2;
        say($"Reads at {settings.ReadRate}/s for {settings.Seconds} s while ingesting at half the first pass's rate ({halfRate:N0} events/s, batches of 1,000)");
        await ClearServiceSideAsync(service);
        var (atHalf, halfIngest, halfWaits) = await WhileIngestingAsync(service, calls, settings.ReadRate, duration,
            stop => Workloads.PacedIngestAsync(service, Workloads.Batches(extra.Take(half).ToList(), 1_000), halfRate, settings.Clients, stop));
        var halfServiceSide = await ServiceSideAsync(service);
        say($"Reads at {settings.ReadRate}/s for {settings.Seconds} s while ingesting at full rate ({settings.Clients} clients, batches of {settings.Batch:N0})");
        await ClearServiceSideAsync(service);
        var (atFull, fullIngest, fullWaits) = await WhileIngestingAsync(service, calls, settings.ReadRate, duration,
            stop => Workloads.IngestHttpAsync(service, Workloads.Batches(extra.Skip(half).ToList(), settings.Batch), settings.Clients, stop));
        var fullServiceSide = await ServiceSideAsync(service);

        say($"Raw reads at {settings.ReadRate}/s for {settings.Seconds} s while COPY runs");
        var (rawReads, rawRead) = await Steadiness.MeasureAsync("raw read while COPY runs", service, async () =>
        {
            using var stopCopy = new CancellationTokenSource();
            var copying = Task.Run(async () =>
            {
                while (!stopCopy.IsCancellationRequested)
                {
                    await Workloads.CopyAsync(db, rawTable, extra.Take(20_000).ToList(), settings.Batch, 1, streamPrefix: $"r{Guid.NewGuid():N}-");
                }
            });
            var reads = (await Workloads.AtFixedRateAsync(settings.ReadRate, duration,
            [
                ("latest 50", async n =>
                {
                    await using var command = db.CreateCommand($"select data from {rawTable} where stream_id = $1 order by version desc limit 50");
                    command.Parameters.Add(new() { Value = customers[n * 7919 % customers.Count] });
                    await using var result = await command.ExecuteReaderAsync();
                    while (await result.ReadAsync())
                    {
                    }
                }),
            ]))["latest 50"];
            await stopCopy.CancelAsync();
            await copying;
            return reads;
        });
        say($"Baseline {rawRead.Describe()}");

        var rows = new List<Row>();
        foreach (var (phase, reads, ingest, serviceSide, waits) in new[] { ("half", atHalf, halfIngest, halfServiceSide, halfWaits), ("full", atFull, fullIngest, fullServiceSide, fullWaits) })
        {
            var context = $"ingesting {ingest.PerSecond:N0} events/s for {ingest.Seconds:F0} of {settings.Seconds} s";
            foreach (var (name, latencies) in reads)
            {
                rows.Add(new Row("reads while ingesting", $"{phase} rate: GET {name} p50 ({latencies.Count} requests)", latencies.Percentile(50), "ms",
                    rawReads.Percentile(50), "latest 50 of a stream, raw", null, null));
                var p99 = latencies.Percentile(99);
                rows.Add(phase == "half"
                    ? new Row("reads while ingesting", $"half rate: GET {name} p99", p99, "ms", rawReads.Percentile(99), "latest 50 of a stream, raw, while COPY runs",
                        "<= 2x", p99 <= 2 * rawReads.Percentile(99), context).HeldTo(rawRead)
                    : new Row("reads while ingesting", $"full rate: GET {name} p99", p99, "ms", rawReads.Percentile(99), "latest 50 of a stream, raw, while COPY runs",
                        "< 50 ms", p99 < 50, context));
            }

            foreach (var (name, summary) in serviceSide)
            {
                rows.Add(new Row("reads while ingesting", $"{phase} rate: GET {name}, time in the service p99 ({summary.Count} requests; p50 {summary.P50 * 1000:F1} ms, max {summary.Max * 1000:F0} ms)",
                    Math.Round(summary.P99 * 1000, 2), "ms", null, null, null, null));
            }

            rows.Add(new Row("reads while ingesting", $"{phase} rate: what a read waited behind, {waits.Describe()}", waits.StoppedPerSecond, "ms/s",
                null, null, null, null));
        }

        return (rows, rawRead);
    }

    private static async Task ClearServiceSideAsync(Service service)
    {
        foreach (var (_, route) in Routes)
        {
            using var cleared = await service.Http.DeleteAsync($"/api/dev/metrics/http.server.request.duration{route}");
            if (cleared.StatusCode is not (HttpStatusCode.NoContent or HttpStatusCode.NotFound))
            {
                // Not cleared: the phase's row would also count every read before it.
                throw new InvalidOperationException($"Clearing the request durations of {route} answered {(int)cleared.StatusCode}.");
            }
        }
    }

    /// <summary>The request durations (in seconds, as ASP.NET Core records them) of each read route since the last clearing.</summary>
    private static async Task<List<(string Name, ServiceSide Summary)>> ServiceSideAsync(Service service)
    {
        var summaries = new List<(string, ServiceSide)>();
        foreach (var (name, route) in Routes)
        {
            using var response = await service.Http.GetAsync($"/api/dev/metrics/http.server.request.duration{route}");
            if (response.IsSuccessStatusCode && await response.Content.ReadFromJsonAsync<ServiceSide>() is { } summary)
            {
                summaries.Add((name, summary));
            }
        }

        return summaries;
    }

    private sealed record ServiceSide(int Count, double P50, double P99, double Max);

    /// <summary>
    /// The reads at a fixed rate while the ingest runs; the ingest is stopped when the reads are done. Beside them, what a
    /// read could have waited behind meanwhile: the service's collections (each one stops every thread, a read's
    /// included) and the cores' other work.
    /// </summary>
    private static async Task<(Dictionary<string, Latencies> Reads, IngestResult Ingest, Waits Waits)> WhileIngestingAsync(Service service,
        IReadOnlyList<(string Name, Func<int, Task> Call)> calls, int rate, TimeSpan duration, Func<CancellationToken, Task<IngestResult>> ingest)
    {
        using var stop = new CancellationTokenSource();
        var measured = await Waits.StartAsync(service);
        var ingesting = ingest(stop.Token);
        var reads = await Workloads.AtFixedRateAsync(rate, duration, calls);
        var waits = await measured();
        await stop.CancelAsync();
        return (reads, await ingesting, waits);
    }
}
