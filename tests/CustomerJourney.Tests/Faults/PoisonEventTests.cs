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
/// and leaving every later summary silently wrong. The customer summary and the purchase history run as one composite
/// (<see cref="CustomerProjections"/>), so the purchase history, which could hold that purchase, stops with it, at the same
/// place: neither runs ahead of the other.
/// </summary>
public sealed class PoisonEventTests
{
    private static JsonObject Purchase(string customer, int day) => TouchpointJson.Make("purchase", customer, new DateTimeOffset(1998, 3, day, 10, 0, 0, TimeSpan.Zero),
        "staff", Ids.Unique("src"), "web", new JsonObject { ["orderId"] = Ids.Unique("o"), ["amount"] = 20, ["currency"] = "USD" });

    [Fact]
    public async Task An_event_the_customer_summary_cannot_apply_stops_the_customer_projections_and_says_so()
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
        Assert.Contains($"projection {CustomerProjections.Shard} stopped", description, StringComparison.Ordinal);
        Assert.True(description.Contains($"#{poison.ToString(CultureInfo.InvariantCulture)} (purchase_made)", StringComparison.Ordinal)
            && description.Contains("ArgumentNullException", StringComparison.Ordinal) && !description.Contains(" at CustomerJourney", StringComparison.Ordinal), description);

        // A read of that customer folds the same event, and fails loudly rather than showing a summary without it.
        var (readStatus, read) = await host.Get("/api/customers/poison-a", "agent");
        Assert.Equal(500, readStatus);
        Assert.Equal(500, read!["status"]!.GetValue<int>());
        // Stopped before the poison, not past it, and both documents with it: the later customer has neither a summary
        // nor a purchase history yet.
        foreach (var shard in new[] { CustomerProjections.Shard, "CustomerSummary:All", "PurchaseHistory:All" })
        {
            Assert.True(1 == await Invariants.Scalar(connection,
                $"select count(*) from {host.Schema}.mt_event_progression where name = '{shard}' and last_seq_id < {poison.ToString(CultureInfo.InvariantCulture)}"), shard);
        }

        Assert.Equal(0, await Invariants.Scalar(connection, $"select count(*) from {host.Schema}.mt_doc_customersummary where id = 'poison-b'"));
        Assert.Equal(0, await Invariants.Scalar(connection, $"select count(*) from {host.Schema}.mt_doc_purchasehistory where id = 'poison-b'"));

        await Waiting.Until(() => host.Logs.Messages.Any(m => m.StartsWith("Error", StringComparison.Ordinal) && m.Contains($"Projection {CustomerProjections.Shard} stopped", StringComparison.Ordinal)),
            ProjectionMonitor.Interval * 3, "the stop in the log, as an error");
        await Waiting.Until(() =>
        {
            listener.RecordObservableInstruments();
            return stoppedGauge.GetValueOrDefault(CustomerProjections.Shard) == 1;
        }, ProjectionMonitor.Interval * 3, "customerjourney.projection.stopped = 1 for the customer projections");
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
