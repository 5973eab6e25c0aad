using System.Globalization;
using Npgsql;

namespace Load;

/// <summary>
/// Reads while ingesting: the journey's first page, the same as of now, and the customer summary, at a fixed rate, while
/// batches are ingested at half the first pass's rate (paced) and then at full rate (as many clients as the first pass,
/// unpaced); beside the raw read (the latest 50 rows of a stream) at the same rate while COPY runs. Targets: at half rate
/// the service's p99 at most 2x the raw read's; at full rate under 50 ms.
/// </summary>
public static class ReadsWorkload
{
    public static async Task<List<Row>> RunAsync(Service service, NpgsqlDataSource db, string rawTable, IReadOnlyList<string> customers, IReadOnlyList<Item> extra,
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

        // Each phase ingests touchpoints of its own (half of the extra set each), so neither re-sends the other's.
        var half = extra.Count / 2;
        var halfRate = firstPassRate / 2;
        say($"Reads at {settings.ReadRate}/s for {settings.Seconds} s while ingesting at half the first pass's rate ({halfRate:N0} events/s, batches of 1,000)");
        var (atHalf, halfIngest) = await WhileIngestingAsync(calls, settings.ReadRate, duration,
            stop => Workloads.PacedIngestAsync(service, Workloads.Batches(extra.Take(half).ToList(), 1_000), halfRate, settings.Clients, stop));
        say($"Reads at {settings.ReadRate}/s for {settings.Seconds} s while ingesting at full rate ({settings.Clients} clients, batches of {settings.Batch:N0})");
        var (atFull, fullIngest) = await WhileIngestingAsync(calls, settings.ReadRate, duration,
            stop => Workloads.IngestHttpAsync(service, Workloads.Batches(extra.Skip(half).ToList(), settings.Batch), settings.Clients, stop));

        say($"Raw reads at {settings.ReadRate}/s for {settings.Seconds} s while COPY runs");
        using var stopCopy = new CancellationTokenSource();
        var copying = Task.Run(async () =>
        {
            while (!stopCopy.IsCancellationRequested)
            {
                await Workloads.CopyAsync(db, rawTable, extra.Take(20_000).ToList(), settings.Batch, 1, streamPrefix: $"r{Guid.NewGuid():N}-");
            }
        });
        var rawReads = (await Workloads.AtFixedRateAsync(settings.ReadRate, duration,
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

        var rows = new List<Row>();
        foreach (var (phase, reads, ingest) in new[] { ("half", atHalf, halfIngest), ("full", atFull, fullIngest) })
        {
            var context = $"ingesting {ingest.PerSecond:N0} events/s for {ingest.Seconds:F0} of {settings.Seconds} s";
            foreach (var (name, latencies) in reads)
            {
                rows.Add(new Row("reads while ingesting", $"{phase} rate: GET {name} p50 ({latencies.Count} requests)", latencies.Percentile(50), "ms",
                    rawReads.Percentile(50), "latest 50 of a stream, raw", null, null));
                var p99 = latencies.Percentile(99);
                rows.Add(phase == "half"
                    ? new Row("reads while ingesting", $"half rate: GET {name} p99", p99, "ms", rawReads.Percentile(99), "latest 50 of a stream, raw, while COPY runs",
                        "<= 2x", p99 <= 2 * rawReads.Percentile(99), context)
                    : new Row("reads while ingesting", $"full rate: GET {name} p99", p99, "ms", rawReads.Percentile(99), "latest 50 of a stream, raw, while COPY runs",
                        "< 50 ms", p99 < 50, context));
            }
        }

        return rows;
    }

    /// <summary>The reads at a fixed rate while the ingest runs; the ingest is stopped when the reads are done.</summary>
    private static async Task<(Dictionary<string, Latencies> Reads, IngestResult Ingest)> WhileIngestingAsync(
        IReadOnlyList<(string Name, Func<int, Task> Call)> calls, int rate, TimeSpan duration, Func<CancellationToken, Task<IngestResult>> ingest)
    {
        using var stop = new CancellationTokenSource();
        var ingesting = ingest(stop.Token);
        var reads = await Workloads.AtFixedRateAsync(rate, duration, calls);
        await stop.CancelAsync();
        return (reads, await ingesting);
    }
}
