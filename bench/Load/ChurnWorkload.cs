using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using CustomerJourney.Churn;
using CustomerJourney.Models.Datasets;
using Npgsql;
using Weasel.Core;

namespace Load;

/// <summary>One end-to-end fit over HTTP: how the cohort was stored, what POST /api/churn/models answered, and the same fit as a job.</summary>
public sealed record ChurnFitResult(int Customers, double SeedSeconds, double WallMilliseconds, int Status, JsonNode? Answer, ChurnJobResult Job);

/// <summary>
/// The same fit with Prefer: respond-async: the 202's time, then the job's status polled every second until it ended,
/// with when the poll first saw it fitting (its read of the histories done) and its final status answer.
/// </summary>
public sealed record ChurnJobResult(int Status, double AcceptedMilliseconds, double? FittingSeenMilliseconds, double WallMilliseconds, JsonNode? Job);

/// <summary>
/// The churn fit end to end, at the scale of bench/ChurnFit: `customers` purchase histories resampled from the full CDNOW
/// cohort (the same draws as ChurnFit's, optionally with each history moved up to 12 weeks earlier) stored as the
/// service's own purchase-history documents by Marten's bulk insert (COPY), then one POST /api/churn/models, which
/// loads every history, summarises the cohort and fits the three models, timed from the client.
/// </summary>
public static class ChurnWorkload
{
    public static async Task<ChurnFitResult> RunAsync(Service service, NpgsqlDataSource db, string connectionString, string schema, string masterPath,
        int customers, int shiftWeeks, string currency, Action<string> say)
    {
        var seeding = Stopwatch.StartNew();
        await SeedAsync(db, connectionString, schema, masterPath, customers, shiftWeeks, currency);
        var seedSeconds = seeding.Elapsed.TotalSeconds;
        say($"Churn: {customers:N0} purchase histories ({currency}, shifted up to {shiftWeeks} weeks) stored in {seedSeconds:F0} s; fitting over HTTP");

        var analyst = await service.TokenAsync("bench-churn-fitter", "analyst");
        using var fit = new HttpRequestMessage(HttpMethod.Post, "/api/churn/models")
        {
            Content = new StringContent($"{{\"calibrationEnd\":\"1997-09-30T00:00:00Z\",\"currency\":\"{currency}\"}}", Encoding.UTF8, "application/json"),
        };
        fit.Headers.Authorization = new("Bearer", analyst);
        var clock = Stopwatch.StartNew();
        using var answer = await service.Http.SendAsync(fit);
        var text = await answer.Content.ReadAsStringAsync();
        var wall = clock.Elapsed.TotalMilliseconds;
        say($"Churn: synchronous fit answered {(int)answer.StatusCode} after {wall:N0} ms; the same fit as a job (Prefer: respond-async)");
        var job = await FitAsJobAsync(service, analyst, currency, say);
        return new ChurnFitResult(customers, seedSeconds, wall, (int)answer.StatusCode, text.Length > 0 ? JsonNode.Parse(text) : null, job);
    }

    /// <summary>Starts the fit as a job and follows its status resource until it ends (at most 20 minutes).</summary>
    private static async Task<ChurnJobResult> FitAsJobAsync(Service service, string analyst, string currency, Action<string> say)
    {
        using var start = new HttpRequestMessage(HttpMethod.Post, "/api/churn/models")
        {
            Content = new StringContent($"{{\"calibrationEnd\":\"1997-09-30T00:00:00Z\",\"currency\":\"{currency}\"}}", Encoding.UTF8, "application/json"),
        };
        start.Headers.Authorization = new("Bearer", analyst);
        start.Headers.Add("Prefer", "respond-async");
        var clock = Stopwatch.StartNew();
        using var accepted = await service.Http.SendAsync(start);
        var acceptedMs = clock.Elapsed.TotalMilliseconds;
        if ((int)accepted.StatusCode != 202 || accepted.Headers.Location is not { } location)
        {
            return new ChurnJobResult((int)accepted.StatusCode, acceptedMs, null, acceptedMs, null);
        }

        double? fittingSeen = null;
        JsonNode? job = null;
        var lastState = "";
        while (clock.Elapsed < TimeSpan.FromMinutes(20))
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            using var poll = new HttpRequestMessage(HttpMethod.Get, location);
            poll.Headers.Authorization = new("Bearer", analyst);
            using var status = await service.Http.SendAsync(poll);
            job = JsonNode.Parse(await status.Content.ReadAsStringAsync());
            var state = job?["state"]?.GetValue<string>() ?? "";
            if (state != lastState)
            {
                var progress = job?["progress"];
                say($"Churn job: {state} at {clock.Elapsed.TotalSeconds:F0} s (histories {progress?["historiesRead"]} of {progress?["histories"]}, fitting {progress?["fitting"]})");
                lastState = state;
            }

            if (state == "fitting" && fittingSeen is null)
            {
                fittingSeen = clock.Elapsed.TotalMilliseconds;
            }

            if (state is "succeeded" or "failed" or "cancelled")
            {
                break;
            }
        }

        return new ChurnJobResult(202, acceptedMs, fittingSeen, clock.Elapsed.TotalMilliseconds, job);
    }

    private static async Task SeedAsync(NpgsqlDataSource db, string connectionString, string schema, string masterPath, int customers, int shiftWeeks, string currency)
    {
        // As the service maps it: a projected document with a numeric revision (mt_version bigint), its Version.
        using var store = ServiceStore.For(connectionString, schema,
            o => o.Schema.For<PurchaseHistory>().UseNumericRevisions(true).Metadata(m => m.Revision.MapTo(h => h.Version)));

        // A run fits one cohort: the previous one's histories go first, since a fit reads every history there is.
        await using (var clear = db.CreateCommand($"truncate {schema}.mt_doc_purchasehistory"))
        {
            await clear.ExecuteNonQueryAsync();
        }

        // The cohort in the order bench/ChurnFit draws from (Cdnow.Summarise's: first appearance in the file), with the
        // same seed and draws, so the same customers (and shifts) are fitted.
        var purchases = Cdnow.ReadMaster(masterPath).GroupBy(p => p.CustomerId, StringComparer.Ordinal).Select(g => g.ToList()).ToList();
        var random = new Random(customers + shiftWeeks);
        var end = Cdnow.CalibrationEnd;
        var recorded = DateTimeOffset.UtcNow;
        const int chunk = 50_000;
        var batch = new List<PurchaseHistory>(chunk);
        for (var n = 0; n < customers; n++)
        {
            var source = purchases[random.Next(purchases.Count)];
            // As ChurnFit's shift: T grows by it, x and t_x stay, so only the calibration-period purchases move.
            var shiftDays = shiftWeeks == 0 ? 0 : random.Next(0, (7 * shiftWeeks) + 1);
            batch.Add(new PurchaseHistory
            {
                Id = $"r{shiftWeeks}-{n:D7}",
                Purchases = [.. source.Select(p => new PurchaseRecord(
                    new DateTimeOffset((p.Day <= end ? p.Day.AddDays(-shiftDays) : p.Day).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero), p.Dollars, currency, recorded))],
                Version = source.Count,
            });
            if (batch.Count == chunk || n == customers - 1)
            {
                await store.BulkInsertDocumentsAsync(batch, BulkInsertMode.InsertsOnly, batchSize: chunk);
                batch.Clear();
            }
        }
    }
}
