using CustomerJourney.Churn;
using CustomerJourney.Infrastructure;
using CustomerJourney.Tests.Faults;
using CustomerJourney.Tests.Support;
using CustomerJourney.Tests.WinBack;
using CustomerJourney.Touchpoints;
using Marten;
using Marten.Events.Daemon.Coordination;
using Marten.Services;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CustomerJourney.Tests.Churn;

/// <summary>
/// A writer that numbered its events first and commits last (a big batch on a loaded machine) must not lose them to the
/// async projections: the daemon sees a gap below later commits, and moving past it would leave the purchase history
/// without that purchase for good, and every fit and score without that customer.
/// </summary>
public sealed class SlowTransactionTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.UtcNow.AddDays(-3);

    private static PurchaseMade Purchase(string customer) => new()
    {
        CustomerId = customer, OccurredAt = At, Channel = Channel.Web, Source = "crm", SourceId = Ids.Unique("src"),
        OrderId = Ids.Unique("o"), Amount = 10m, Currency = "USD",
    };

    private static async Task AppendAsync(IDocumentStore store, string customer)
    {
        await using var session = store.LightweightSession();
        session.Events.Append(customer, Purchase(customer));
        await session.SaveChangesAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>A purchase appended in a transaction left open: its sequence number is taken, its row not yet visible.</summary>
    private static async Task<NpgsqlTransaction> AppendUncommittedAsync(IDocumentStore store, NpgsqlConnection held, string customer)
    {
        var transaction = await held.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await using var session = store.LightweightSession(SessionOptions.ForTransaction(transaction));
        session.Events.Append(customer, Purchase(customer));
        await session.SaveChangesAsync(TestContext.Current.CancellationToken);
        return transaction;
    }

    private static async Task<IReadOnlyList<PurchaseHistory>> CaughtUpHistoriesAsync(IDocumentStore store)
    {
        await using var query = store.QuerySession();
        return await ProjectionReads.CaughtUpAsync<PurchaseHistory>(query, TestContext.Current.CancellationToken);
    }

    /// <summary>Marten holds the gap while PostgreSQL shows a transaction that may still fill it (9.16.1 and later, the default).</summary>
    [Fact]
    public async Task A_purchase_committed_after_later_ones_and_past_the_stale_threshold_reaches_the_purchase_history()
    {
        await using var host = await WinBackHost.StartAsync();
        var cancellation = TestContext.Current.CancellationToken;
        var slow = Ids.Unique("slow");
        await using var held = new NpgsqlConnection(AppFixture.ConnectionString);
        await held.OpenAsync(cancellation);
        await using var transaction = await AppendUncommittedAsync(host.Store, held, slow);

        // Later purchases commit above it.
        var fast = Enumerable.Range(0, 3).Select(_ => Ids.Unique("fast")).ToList();
        foreach (var customer in fast)
        {
            await AppendAsync(host.Store, customer);
        }

        // Held until the daemon, past its stale-sequence threshold, has decided about the gap (held it, or skipped it).
        await Waiting.Until(() => host.Logs.Messages.Any(m => m.Contains("holding before the sequence gap", StringComparison.Ordinal)
                || m.Contains("skipping", StringComparison.Ordinal) && m.Contains("gap", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(60), "the daemon to decide about the gap below the committed purchases");
        await transaction.CommitAsync(cancellation);

        var histories = await CaughtUpHistoriesAsync(host.Store);
        Assert.True(histories.Count == fast.Count + 1 && histories.Any(h => h.Id == slow),
            await Invariants.DescribeMissingPurchaseHistories(host.Schema, host.Logs.Messages));
    }

    /// <summary>
    /// The customer projections' first start on a store that already has events (an import's on a new store, which holds
    /// them while it appends; a new deployment): Marten would run its single-pass composite replay, which reads up to the
    /// sequence's last reserved number rather than the high-water mark, so a live write still open then was passed over
    /// for good (a clean clone's run lost 13 customers' purchases this way). The customer projections opt out of it.
    /// </summary>
    [Fact]
    public async Task The_customer_projections_first_start_after_a_hold_folds_a_purchase_still_uncommitted_when_they_started()
    {
        await using var host = await WinBackHost.StartAsync();
        var cancellation = TestContext.Current.CancellationToken;
        var coordinator = host.Host.Services.GetRequiredService<IProjectionCoordinator>();

        // As an import on a new store: the projections are held while a history is appended ...
        await coordinator.PauseAsync();
        var (imported, slow, after) = (Ids.Unique("imported"), Ids.Unique("slow"), Ids.Unique("after"));
        await AppendAsync(host.Store, imported);
        // ... and live ingest goes on: one write has taken its sequence number but not committed yet, one after it has.
        await using var held = new NpgsqlConnection(AppFixture.ConnectionString);
        await held.OpenAsync(cancellation);
        await using var transaction = await AppendUncommittedAsync(host.Store, held, slow);
        await AppendAsync(host.Store, after);

        await coordinator.ResumeAsync();
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(cancellation);
        await Waiting.Until(async () => await Invariants.Scalar(connection,
                $"select coalesce(max(last_seq_id), 0) from {host.Schema}.mt_event_progression where name = '{CustomerProjections.Shard}'") >= 1,
            TimeSpan.FromSeconds(30), "the customer projections to start again and fold the imported purchase");
        await transaction.CommitAsync(cancellation);

        var histories = await CaughtUpHistoriesAsync(host.Store);
        Assert.True(histories.Select(h => h.Id).Order(StringComparer.Ordinal).SequenceEqual(new[] { imported, slow, after }.Order(StringComparer.Ordinal)),
            await Invariants.DescribeMissingPurchaseHistories(host.Schema, host.Logs.Messages));
    }
}
