using CustomerJourney.Churn;
using CustomerJourney.Infrastructure;
using CustomerJourney.Journeys;
using CustomerJourney.Tests.Faults;
using CustomerJourney.Tests.Support;
using CustomerJourney.Tests.WinBack;
using CustomerJourney.Touchpoints;
using Npgsql;

namespace CustomerJourney.Tests.Churn;

/// <summary>
/// The purchase history runs in one composite with the customer summary, which hands it every touched stream's events:
/// it is written when a purchase or a return arrives, and a range of other touchpoints leaves it as it was, while a read
/// of the latest history still sees everything.
/// </summary>
public sealed class PurchaseHistoryTests
{
    [Fact]
    public async Task Touchpoints_other_than_purchases_and_returns_leave_the_stored_purchase_history_unwritten()
    {
        await using var host = await WinBackHost.StartAsync();
        var customer = Ids.Unique("buyer");
        var cancellation = TestContext.Current.CancellationToken;
        var at = DateTimeOffset.UtcNow.AddDays(-3);
        T Stamped<T>(T touchpoint) where T : Touchpoint =>
            touchpoint with { CustomerId = customer, OccurredAt = at, Channel = Channel.Web, Source = "crm", SourceId = Ids.Unique("src") };
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(cancellation);
        Task<long> Version<T>() => Invariants.StoredVersion<T>(connection, host.Schema, customer);

        // Appended straight to the store, one transaction each, so each is a range of its own for the daemon.
        async Task Append(Touchpoint touchpoint)
        {
            await using var session = host.Store.LightweightSession();
            session.Events.Append(customer, touchpoint);
            await session.SaveChangesAsync(cancellation);
            await Invariants.CaughtUp(connection, host.Schema);
        }

        await Append(Stamped(new PurchaseMade { OrderId = "o-1", Amount = 40m, Currency = "USD" }));
        Assert.Equal(1, await Version<PurchaseHistory>());

        await Append(Stamped(new LoyaltyPointsEarned { Points = 10, Reason = "purchase" }));
        Assert.Equal(2, await Version<CustomerSummary>());
        Assert.Equal(1, await Version<PurchaseHistory>());

        await using (var session = host.Store.LightweightSession())
        {
            var latest = await ProjectionReads.LatestAsync<PurchaseHistory>(session, customer, cancellation);
            Assert.Equal([40m], latest!.Purchases.Select(p => p.Amount));
        }

        await Append(Stamped(new PurchaseReturned { OrderId = "o-1", Amount = 15m, Currency = "USD", Reason = "damaged" }));
        Assert.Equal(3, await Version<PurchaseHistory>());
        await using var query = host.Store.QuerySession();
        var stored = await query.LoadAsync<PurchaseHistory>(customer, cancellation);
        Assert.Equal([40m], stored!.Purchases.Select(p => p.Amount));
        Assert.Equal([15m], stored.Returns.Select(r => r.Amount));
    }
}
