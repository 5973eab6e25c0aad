using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json.Nodes;
using CustomerJourney.Infrastructure;
using CustomerJourney.Tests.Support;
using CustomerJourney.Tests.WinBack;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CustomerJourney.Tests.Faults;

/// <summary>
/// An event a projection cannot apply (here a purchase another tool wrote straight into the store with no currency):
/// the projection stops on it and says so on /health/projections, in the log and as a metric, instead of skipping it
/// and leaving every later summary silently wrong. The other projection carries on.
/// </summary>
public sealed class PoisonEventTests
{
    private static JsonObject Purchase(string customer, int day) => TouchpointJson.Make("purchase", customer, new DateTimeOffset(1998, 3, day, 10, 0, 0, TimeSpan.Zero),
        "staff", Ids.Unique("src"), "web", new JsonObject { ["orderId"] = Ids.Unique("o"), ["amount"] = 20, ["currency"] = "USD" });

    [Fact]
    public async Task An_event_the_customer_summary_cannot_apply_stops_that_projection_and_says_so()
    {
        await using var host = await WinBackHost.StartAsync();
        var factory = host.Host.Services.GetRequiredService<IMeterFactory>();
        var stoppedGauge = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            // Only this host's meter: the shared test host publishes the same instrument.
            if (instrument.Meter.Scope == factory && instrument.Name == "customerjourney.projection.stopped")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "shard")
                {
                    stoppedGauge[(string)tag.Value!] = value;
                }
            }
        });
        listener.Start();

        await host.Record(Purchase("poison-a", 1), Purchase("poison-a", 2));
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await Invariants.CaughtUp(connection, host.Schema);

        var events = $"{host.Schema}.mt_events";
        // The purchases' flag evaluation may append to the stream meanwhile: then the version taken is no longer free; take the next.
        var poison = await RetryingTakenVersion(() => Invariants.Scalar(connection,
            "with last as (select * from " + events + " where stream_id = 'poison-a' and type = 'purchase_made' order by version desc limit 1), " +
            "bumped as (update " + host.Schema + ".mt_streams set version = version + 1 where id = 'poison-a') " +
            "insert into " + events + " (seq_id, id, stream_id, version, data, type, timestamp, tenant_id, mt_dotnet_type, is_archived) " +
            "select nextval('" + host.Schema + ".mt_events_sequence'), gen_random_uuid(), stream_id, " +
            "(select max(version) + 1 from " + events + " where stream_id = 'poison-a'), " +
            "jsonb_set(data, '{currency}', 'null'::jsonb) || '{\"sourceId\": \"poison-1\"}'::jsonb, type, now(), tenant_id, mt_dotnet_type, false " +
            "from last returning seq_id"));
        await host.Record(Purchase("poison-b", 3));

        await Waiting.Until(async () => (await host.Get("/health/projections")).Status == 503, TimeSpan.FromSeconds(30), "/health/projections to report the stop");
        var (_, health) = await host.Get("/health/projections");
        var description = health!["checks"]!["projections"]!["description"]!.GetValue<string>();
        Assert.Contains("CustomerSummary:All", description, StringComparison.Ordinal);
        Assert.True(description.Contains($"#{poison.ToString(CultureInfo.InvariantCulture)} (purchase_made)", StringComparison.Ordinal)
            && description.Contains("ArgumentNullException", StringComparison.Ordinal) && !description.Contains(" at CustomerJourney", StringComparison.Ordinal), description);
        Assert.DoesNotContain("PurchaseHistory", description, StringComparison.Ordinal);

        // A read of that customer folds the same event, and fails loudly rather than showing a summary without it.
        var (readStatus, read) = await host.Get("/api/customers/poison-a", "agent");
        Assert.Equal(500, readStatus);
        Assert.Equal(500, read!["status"]!.GetValue<int>());
        // Stopped before the poison, not past it: the later customer has no summary yet. The purchase history,
        // which can hold a purchase without a currency, went on to the end.
        Assert.True(await Invariants.Scalar(connection, $"select last_seq_id from {host.Schema}.mt_event_progression where name = 'CustomerSummary:All'") < poison);
        Assert.Equal(0, await Invariants.Scalar(connection, $"select count(*) from {host.Schema}.mt_doc_customersummary where id = 'poison-b'"));
        await Waiting.Until(async () => await Invariants.Scalar(connection, $"select last_seq_id from {host.Schema}.mt_event_progression where name = 'PurchaseHistory:All'")
            >= await Invariants.Scalar(connection, $"select max(seq_id) from {host.Schema}.mt_events"), TimeSpan.FromSeconds(30), "the purchase history to reach the end");

        await Waiting.Until(() => host.Logs.Messages.Any(m => m.StartsWith("Error", StringComparison.Ordinal) && m.Contains("Projection CustomerSummary:All stopped", StringComparison.Ordinal)),
            ProjectionMonitor.Interval * 3, "the stop in the log, as an error");
        await Waiting.Until(() =>
        {
            listener.RecordObservableInstruments();
            return stoppedGauge.GetValueOrDefault("CustomerSummary:All") == 1;
        }, ProjectionMonitor.Interval * 3, "customerjourney.projection.stopped = 1 for the summary");
        Assert.Equal(0, stoppedGauge.GetValueOrDefault("PurchaseHistory:All", -1));
    }

    private static async Task<long> RetryingTakenVersion(Func<Task<long>> insert)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await insert();
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && attempt < 10)
            {
                // The version was taken meanwhile; the next attempt reads the stream's new last version.
            }
        }
    }
}
