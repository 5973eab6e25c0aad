using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using CustomerJourney.Touchpoints;
using JasperFx;
using JasperFx.Events;
using Marten;

namespace Load;

/// <summary>
/// The import workload: a new user's history (the CDNOW cohort plus generated touchpoints) as one NDJSON file, grouped by
/// customer as an export from another system is, posted to /api/imports on a service with an empty schema; beside it, in
/// the same run, Marten's own BulkInsertEventsAsync of the same pre-built events in the same chunks, into a store set up
/// as the service's (string stream ids, the same metadata columns), and the raw COPY baseline.
/// </summary>
public static class ImportWorkload
{
    public sealed record Result(IngestResult Import, IngestResult Bulk, double CaughtUpSeconds, long BehindAtEnd, string? Failure);

    /// <summary>The items in the file's order: each customer's history together, in the order of its first touchpoint.</summary>
    public static List<Item> ByCustomer(IReadOnlyList<Item> items) =>
        items.GroupBy(i => i.CustomerId, StringComparer.Ordinal).SelectMany(g => g).ToList();

    public static async Task<string> WriteFileAsync(IReadOnlyList<Item> items)
    {
        var file = Path.Combine(Path.GetTempPath(), $"{Dataset.Source}-{Guid.NewGuid():N}.ndjson");
        await using var writer = new StreamWriter(file);
        foreach (var item in items)
        {
            await writer.WriteAsync(item.Json);
            await writer.WriteAsync('\n');
        }

        return file;
    }

    /// <summary>Marten's COPY bulk append of the same events, chunk by chunk (the import's chunk size), each chunk's customers as new streams.</summary>
    public static async Task<IngestResult> MartenBulkAsync(string connectionString, string schema, IReadOnlyList<Touchpoint> events, int chunk)
    {
        using var store = DocumentStore.For(o =>
        {
            o.Connection(connectionString);
            o.DatabaseSchemaName = schema;
            o.Events.DatabaseSchemaName = schema;
            o.Events.StreamIdentity = StreamIdentity.AsString;
            o.Events.AppendMode = EventAppendMode.Rich;
            o.Events.MetadataConfig.CorrelationIdEnabled = true;
            o.Events.MetadataConfig.CausationIdEnabled = true;
            o.Events.MetadataConfig.UserNameEnabled = true;
            o.Events.MetadataConfig.HeadersEnabled = true;
            o.AutoCreateSchemaObjects = AutoCreate.All;
            foreach (var kind in TouchpointCatalogue.All)
            {
                o.Events.AddEventType(kind.EventType);
            }
        });
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        var clock = Stopwatch.StartNew();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var inserted = 0;
        foreach (var part in events.Chunk(chunk))
        {
            // A customer whose history spans two chunks continues its stream: the import sends that part through the
            // ledger; the bulk baseline only starts streams, so it leaves that part out and counts only what it inserted.
            var streams = part.GroupBy(e => e.CustomerId, StringComparer.Ordinal).Where(g => seen.Add(g.Key)).Select(g =>
            {
                var action = StreamAction.Start(store.Events, g.Key, g.Cast<object>().ToArray());
                foreach (var e in action.Events)
                {
                    e.UserName = "bench";
                    e.SetHeader("command", "bench");
                }

                return action;
            }).ToList();
            await store.BulkInsertEventsAsync(streams, batchSize: Math.Max(1000, part.Length));
            inserted += streams.Sum(s => s.Events.Count);
        }

        return new IngestResult(inserted, inserted, 0, clock.Elapsed.TotalSeconds);
    }

    /// <summary>POST /api/imports with the file streamed from disk (<paramref name="accepted"/> runs at its 202), then GET its status until projections and reactions caught up (bounded).</summary>
    public static async Task<(IngestResult Import, double CaughtUpSeconds, long BehindAtEnd, string? Failure)> PostAsync(Service service, string file, int expected,
        TimeSpan catchUpWithin, Action accepted)
    {
        var clock = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/imports") { Content = new StreamContent(File.OpenRead(file), 256 * 1024) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        request.Headers.Add("X-Api-Key", service.ApiKey);
        using var http = new HttpClient { BaseAddress = service.Http.BaseAddress, Timeout = TimeSpan.FromHours(2) };
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var seconds = clock.Elapsed.TotalSeconds;
        accepted();
        if ((int)response.StatusCode != 202)
        {
            return (new IngestResult(expected, 0, 0, seconds), double.NaN, -1, $"{(int)response.StatusCode}: {text[..Math.Min(300, text.Length)]}");
        }

        var body = JsonNode.Parse(text)!;
        var appended = body["appended"]!.GetValue<int>();
        var location = response.Headers.Location!.ToString();
        var behind = -1L;
        var deadline = clock.Elapsed + catchUpWithin;
        while (clock.Elapsed < deadline)
        {
            using var status = new HttpRequestMessage(HttpMethod.Get, location);
            status.Headers.Add("X-Api-Key", service.ApiKey);
            using var answer = await http.SendAsync(status);
            var now = JsonNode.Parse(await answer.Content.ReadAsStringAsync())!;
            behind = now["eventsBehind"]!.GetValue<long>();
            if (now["state"]!.GetValue<string>() == "completed")
            {
                return (new IngestResult(expected, appended, body["duplicates"]!.GetValue<int>(), seconds), clock.Elapsed.TotalSeconds, 0,
                    appended == expected ? null : $"{appended:N0} of {expected:N0} appended");
            }

            await Task.Delay(1000);
        }

        return (new IngestResult(expected, appended, body["duplicates"]!.GetValue<int>(), seconds), double.NaN, behind,
            appended == expected ? null : $"{appended:N0} of {expected:N0} appended");
    }
}
