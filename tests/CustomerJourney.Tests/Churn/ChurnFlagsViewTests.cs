using CustomerJourney.Churn;
using CustomerJourney.Tests.Faults;
using CustomerJourney.Tests.Support;
using CustomerJourney.Tests.WinBack;
using CustomerJourney.Touchpoints;
using Npgsql;

namespace CustomerJourney.Tests.Churn;

/// <summary>
/// The inline flag view moves with a raise or a clear and with nothing else: a transaction that appends touchpoints (every
/// ingested batch) leaves its customers' views as they were, neither loaded nor written again.
/// </summary>
public sealed class ChurnFlagsViewTests
{
    [Fact]
    public async Task A_touchpoint_that_raises_or_clears_no_flag_leaves_the_customers_flag_view_unwritten()
    {
        await using var host = await WinBackHost.StartAsync();
        var customer = Ids.Unique("viewed");
        var cancellation = TestContext.Current.CancellationToken;
        var at = DateTimeOffset.UtcNow.AddDays(-1);

        // Appended straight to the store (no reaction runs): the view is the inline projection's alone.
        await using (var session = host.Store.LightweightSession())
        {
            session.Events.Append(customer, new ChurnFlagRaised(customer, FlagReasons.UnhappyAnswer, 1, "Detractor NPS 1 and no follow-up call since.", [], 0, null, at));
            await session.SaveChangesAsync(cancellation);
        }

        var raised = await ViewVersion(host, customer);

        await using (var session = host.Store.LightweightSession())
        {
            session.Events.Append(customer, new LoyaltyPointsEarned
            {
                CustomerId = customer, OccurredAt = at, Channel = Channel.Web, Source = "crm", SourceId = Ids.Unique("src"), Points = 10, Reason = "purchase",
            });
            await session.SaveChangesAsync(cancellation);
        }

        Assert.Equal(raised, await ViewVersion(host, customer));

        await using (var session = host.Store.LightweightSession())
        {
            session.Events.Append(customer, new ChurnFlagCleared(customer, FlagReasons.UnhappyAnswer, at.AddHours(1)));
            await session.SaveChangesAsync(cancellation);
        }

        Assert.NotEqual(raised, await ViewVersion(host, customer));
        await using var query = host.Store.QuerySession();
        Assert.Equal(0, (await query.LoadAsync<ChurnFlagsView>(customer, cancellation))!.FlagCount);
    }

    /// <summary>The version Marten stamps on the view each time it writes it (the stream version it was written at).</summary>
    private static async Task<long> ViewVersion(WinBackHost host, string customer)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        return await Invariants.StoredVersion<ChurnFlagsView>(connection, host.Schema, customer);
    }
}
