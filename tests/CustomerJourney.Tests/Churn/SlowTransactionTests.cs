using CustomerJourney.Churn;
using CustomerJourney.Infrastructure;
using CustomerJourney.Tests.Support;
using CustomerJourney.Tests.WinBack;
using CustomerJourney.Touchpoints;
using Marten.Services;
using Npgsql;

namespace CustomerJourney.Tests.Churn;

/// <summary>
/// A writer that numbered its events first and commits last (a big batch on a loaded machine) must not lose them to the
/// async projections: the daemon sees a gap below later commits, and skipping it after its stale-sequence threshold would
/// leave the purchase history without that purchase for good, and every fit and score without that customer. Marten
/// holds the gap while PostgreSQL shows a transaction that may still fill it (9.16.1 and later, the default).
/// </summary>
public sealed class SlowTransactionTests
{
    [Fact]
    public async Task A_purchase_committed_after_later_ones_and_past_the_stale_threshold_reaches_the_purchase_history()
    {
        await using var host = await WinBackHost.StartAsync();
        var cancellation = TestContext.Current.CancellationToken;
        var at = DateTimeOffset.UtcNow.AddDays(-3);
        PurchaseMade Purchase(string customer) => new()
        {
            CustomerId = customer, OccurredAt = at, Channel = Channel.Web, Source = "crm", SourceId = Ids.Unique("src"),
            OrderId = Ids.Unique("o"), Amount = 10m, Currency = "USD",
        };

        // The slow writer's purchase takes the first sequence number and stays uncommitted.
        var slow = Ids.Unique("slow");
        await using var held = new NpgsqlConnection(AppFixture.ConnectionString);
        await held.OpenAsync(cancellation);
        await using var transaction = await held.BeginTransactionAsync(cancellation);
        await using (var session = host.Store.LightweightSession(SessionOptions.ForTransaction(transaction)))
        {
            session.Events.Append(slow, Purchase(slow));
            await session.SaveChangesAsync(cancellation);
        }

        // Later purchases commit above it, and the gap outlives the daemon's threshold before the slow one commits.
        var fast = Enumerable.Range(0, 3).Select(_ => Ids.Unique("fast")).ToList();
        foreach (var customer in fast)
        {
            await using var session = host.Store.LightweightSession();
            session.Events.Append(customer, Purchase(customer));
            await session.SaveChangesAsync(cancellation);
        }

        await Task.Delay(((Marten.DocumentStore)host.Store).Options.Projections.StaleSequenceThreshold * 2, cancellation);
        await transaction.CommitAsync(cancellation);

        await using var query = host.Store.QuerySession();
        var histories = await ProjectionReads.CaughtUpAsync<PurchaseHistory>(query, cancellation);
        Assert.True(histories.Count == fast.Count + 1 && histories.Any(h => h.Id == slow),
            await Faults.Invariants.DescribeMissingPurchaseHistories(host.Schema, host.Logs.Messages));
    }
}
