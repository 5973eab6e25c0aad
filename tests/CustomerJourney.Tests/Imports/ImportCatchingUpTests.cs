using System.Text;
using System.Text.Json.Nodes;
using CustomerJourney.Churn;
using CustomerJourney.Tests.Support;
using CustomerJourney.Tests.WinBack;
using JasperFx;
using Marten.Events.Daemon.Coordination;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CustomerJourney.Tests.Imports;

/// <summary>
/// What an import leaves for the catching up: fresh planner statistics of the tables its bulk append filled, and a status
/// that counts how far the projection shards are behind and nothing else the daemon keeps in its progress table. Hosts of
/// their own: one test writes the daemon's bookkeeping rows, which no other test's daemon should meet, one reads when its
/// schema's event table was analysed, and one holds its daemon's projections.
/// </summary>
public sealed class ImportCatchingUpTests
{
    private static readonly DateTimeOffset Past = DateTimeOffset.Parse("2021-03-01T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task An_import_whose_projections_caught_up_is_completed_whatever_high_water_bookkeeping_the_daemon_keeps()
    {
        await using var host = await WinBackHost.StartAsync();
        var (location, key) = await ImportAsync(host);
        await Waiting.For(async () => (await host.Get(location, key)).Body!, body => body["state"]!.GetValue<string>() == "completed", TimeSpan.FromSeconds(60),
            "the import to catch up");

        // Marten 9.62's high-water detector keeps rows of its own beside the shards' (#5108, #5109): an allocation fence
        // and a stuck gap, which stays at the mark where a gap was first seen (the load benchmark's import left one at
        // 1,000,000 of 1,005,152). Neither is a projection that has to catch up.
        await using (var connection = new NpgsqlConnection(AppFixture.ConnectionString))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var bookkeeping = new NpgsqlCommand(
                $"""
                 insert into {host.Schema}.mt_event_progression (name, last_seq_id, last_updated)
                 values ('HighWaterStuckGap', 1, now()), ('HighWaterAllocationFence', 1, now())
                 on conflict (name) do update set last_seq_id = 1
                 """, connection);
            await bookkeeping.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var status = await host.Get(location, key);

        Assert.Equal(("completed", 0), (status.Body!["state"]!.GetValue<string>(), status.Body.Int("eventsBehind")));
    }

    [Fact]
    public async Task The_event_store_is_analysed_once_a_bulk_append_filled_it_before_the_reactions_read_it()
    {
        await using var host = await WinBackHost.StartAsync();

        await ImportAsync(host);

        // Autovacuum may analyse it too (last_autoanalyze), a minute later at the earliest; last_analyze is the import's.
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var query = new NpgsqlCommand(
            $"select count(*) from pg_stat_user_tables where schemaname = '{host.Schema}' and relname in ('mt_events', 'mt_streams') and last_analyze is not null", connection);
        Assert.Equal(2L, await query.ExecuteScalarAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>
    /// An import holds this node's async projections while it appends (<c>Imports:HoldProjectionsWhileAppending</c>, on by
    /// default) and lets them go when it ends, however it ends: here its client gives up while it waits between a claim and
    /// its bulk append (the fault tests' seam). A live purchase committed meanwhile is projected once it has.
    /// </summary>
    [Fact]
    public async Task The_projections_wait_while_an_import_appends_and_catch_up_when_its_client_gives_up()
    {
        await using var host = await WinBackHost.StartAsync(new Dictionary<string, string> { ["Imports:HoldAfterClaimOfChunk"] = "0" });
        var cancellation = TestContext.Current.CancellationToken;
        var daemon = host.Host.Services.GetRequiredService<IProjectionCoordinator>().DaemonForMainDatabase();
        await Waiting.Until(() => daemon.CurrentAgents().Any(a => a.Status == AgentStatus.Running), TimeSpan.FromSeconds(30), "the async projections to run");
        var (imported, live) = (Ids.Customer(), Ids.Customer());
        using var client = host.Host.Server.CreateClient();
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/imports")
        {
            Content = new StringContent(TouchpointJson.Purchase(imported, Past).ToJsonString() + "\n", Encoding.UTF8, "application/x-ndjson"),
        };
        request.Headers.Add("X-Api-Key", await host.KeyFor(AppFixture.DefaultSource));

        var importing = client.SendAsync(request, giveUp.Token);
        await Waiting.Until(() => !daemon.CurrentAgents().Any(a => a.Status == AgentStatus.Running), TimeSpan.FromSeconds(30),
            "the import to hold the async projections");
        await host.Record(TouchpointJson.Purchase(live, Past));
        Assert.Null(await StoredHistoryAsync(host, live));

        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => importing);

        await Waiting.For(() => StoredHistoryAsync(host, live), history => history is not null, TimeSpan.FromSeconds(30),
            "the live purchase's history once the import had ended");
        Assert.Contains(host.Logs.Messages, m => m.Contains("Imports appended: async projections on this node resume", StringComparison.Ordinal));
    }

    /// <summary>The purchase history as the daemon stored it (not <c>FetchLatest</c>, which would fold pending events).</summary>
    private static async Task<PurchaseHistory?> StoredHistoryAsync(WinBackHost host, string customer)
    {
        await using var session = host.Store.QuerySession();
        return await session.LoadAsync<PurchaseHistory>(customer, TestContext.Current.CancellationToken);
    }

    /// <summary>Imports three purchases of a new customer (a bulk append); the status's location and the key that may read it.</summary>
    private static async Task<(string Location, Credentials Key)> ImportAsync(WinBackHost host)
    {
        var key = Credentials.Key(await host.KeyFor(AppFixture.DefaultSource));
        var customer = Ids.Customer();
        var items = Enumerable.Range(0, 3).Select(i => (JsonNode)TouchpointJson.Purchase(customer, Past.AddDays(i)));
        var posted = await host.Send(HttpMethod.Post, "/api/imports", string.Join("\n", items.Select(i => i.ToJsonString())) + "\n", "application/x-ndjson", key);
        Assert.Equal((202, 3), (posted.Status, posted.Body.Int("bulkAppended")));
        return (posted.Response.Headers.Location!.ToString(), key);
    }
}
