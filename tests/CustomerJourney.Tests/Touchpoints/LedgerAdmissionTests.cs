using CustomerJourney.Tests.Support;
using CustomerJourney.Tests.WinBack;
using CustomerJourney.Touchpoints;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerJourney.Tests.Touchpoints;

/// <summary>
/// Ingest must not starve reads of connections. The ledger admits its transactions a few at a time, and a write waiting
/// for its turn holds no connection: however many writes pile up, they hold at most that many of the pool's connections,
/// and reads keep the rest.
/// </summary>
public sealed class LedgerAdmissionTests
{
    /// <summary>The host's own pool: small, so that the writes below would take all of it if each held a connection.</summary>
    private const int Pool = 10;

    private const int Writes = Pool + 4;

    [Fact]
    public async Task Writes_waiting_for_their_turn_hold_no_connection_so_reads_are_answered_while_ingest_is_stuck()
    {
        var cancellation = TestContext.Current.CancellationToken;
        await using var host = await WinBackHost.StartAsync(new Dictionary<string, string>
        {
            // A read that finds no free connection fails after 5 s instead of Npgsql's default 15.
            ["ConnectionStrings:Marten"] = $"{AppFixture.ConnectionString};Maximum Pool Size={Pool};Timeout=5",
            ["Ingestion:MaxConcurrentWrites"] = "1",
        });
        var reader = Ids.Customer("reader");
        var stuck = Ids.Customer("stuck");
        Assert.Equal(201, (await host.PostTouchpoint(reader, TouchpointJson.Purchase())).Status);
        Assert.Equal(201, (await host.PostTouchpoint(stuck, TouchpointJson.Purchase())).Status);

        // Another writer holds the stuck customer's lock: the first batch waits for it inside its transaction, on a
        // connection of the pool; every other batch waits for its turn.
        await using var held = await HeldCustomerLock.TakeAsync(stuck, cancellation);
        var batches = Enumerable.Range(0, Writes)
            .Select(_ => host.PostBatch(Enumerable.Range(0, TouchpointLedger.ShareableWrite + 1).Select(_ => TouchpointJson.Purchase(stuck))))
            .ToList();
        var admission = host.Host.Services.GetRequiredService<LedgerAdmission>();
        await Waiting.Until(async () => await held.WaitingAsync(cancellation) >= 1 && admission.Waiting == Writes - 1,
            TimeSpan.FromSeconds(60), $"one batch to wait for the customer's lock and the other {Writes - 1} for their turn");

        // More writes than the pool has connections are waiting; reads are answered all the same, again and again.
        for (var read = 0; read < Pool; read++)
        {
            Assert.Equal(200, (await ApiCalls.Get(host, $"/api/customers/{reader}/journey")).Status);
            Assert.Equal(200, (await ApiCalls.Get(host, $"/api/customers/{reader}")).Status);
        }

        Assert.DoesNotContain(batches, b => b.IsCompleted);
        Assert.Equal(Writes - 1, admission.Waiting);

        // Once the other writer lets go, every batch is written, whole and once.
        await held.LetGoAsync(cancellation);
        var answers = await Task.WhenAll(batches);
        Assert.All(answers, a => Assert.Equal((200, TouchpointLedger.ShareableWrite + 1), (a.Status, a.Body.Int("appended"))));
        Assert.Equal(0, admission.Waiting);
        await using var query = host.Store.QuerySession();
        var stored = await query.Events.FetchStreamAsync(stuck, token: cancellation);
        Assert.Equal(1 + (Writes * (TouchpointLedger.ShareableWrite + 1)), stored.Count(e => e.Data is Touchpoint));
    }
}
