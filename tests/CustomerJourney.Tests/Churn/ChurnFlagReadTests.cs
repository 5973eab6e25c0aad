using CustomerJourney.Churn;
using CustomerJourney.Tests.Faults;
using CustomerJourney.Tests.Support;
using CustomerJourney.Tests.WinBack;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Wolverine;

namespace CustomerJourney.Tests.Churn;

/// <summary>
/// A flag evaluation reads of a customer's stream only the kinds the rules read (<see cref="ChurnFlagRules.ReadsKind"/>),
/// the flags and an erasure: a long history of page views or loyalty points costs it nothing, and an event of such a kind
/// that cannot be read holds back no flag. One of a kind the rules read still leaves the customer out (it might be the
/// withdrawal). It reads under the customers' locks, so what another writer records meanwhile is in what it reads.
/// </summary>
public sealed class ChurnFlagReadTests
{
    private static readonly DateTimeOffset Yesterday = DateTimeOffset.UtcNow.AddDays(-1);

    private static T Stamped<T>(T touchpoint, string customer) where T : Touchpoint =>
        touchpoint with { CustomerId = customer, OccurredAt = Yesterday, Channel = Channel.Web, Source = "crm", SourceId = Ids.Unique("src") };

    [Fact]
    public async Task A_bad_event_of_a_kind_the_flag_rules_do_not_read_holds_back_no_flag_and_one_they_read_does()
    {
        await using var host = await WinBackHost.StartAsync();
        var (loyal, answered) = (Ids.Unique("loyal"), Ids.Unique("answered"));
        var cancellation = TestContext.Current.CancellationToken;

        // Appended straight to the store, so no reaction evaluates them before the bad events are in place.
        await using (var session = host.Store.LightweightSession())
        {
            session.Events.Append(loyal, Stamped(new LoyaltyPointsEarned { Points = 10, Reason = "purchase" }, loyal));
            session.Events.Append(answered, Stamped(new SurveyAnswered { Nps = 9 }, answered));
            await session.SaveChangesAsync(cancellation);
        }

        // Another tool writes a copy of each that no reader can parse.
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(cancellation);
        await Invariants.AppendUnreadableCopy(connection, host.Schema, loyal, "loyalty_points_earned");
        await Invariants.AppendUnreadableCopy(connection, host.Schema, answered, "survey_answered");

        await using (var session = host.Store.LightweightSession())
        {
            session.Events.Append(loyal, Stamped(new ConsentWithdrawn { Purpose = "marketing-email" }, loyal));
            session.Events.Append(answered, Stamped(new ConsentWithdrawn { Purpose = "marketing-email" }, answered));
            await session.SaveChangesAsync(cancellation);
        }

        await using (var scope = host.Host.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IMessageBus>().InvokeAsync(new EvaluateChurnFlags([loyal, answered]), cancellation);
        }

        await using var query = host.Store.QuerySession();
        var raised = await query.Events.QueryRawEventDataOnly<ChurnFlagRaised>().Where(f => f.CustomerId == loyal || f.CustomerId == answered).ToListAsync(cancellation);
        Assert.Equal([(loyal, FlagReasons.ConsentWithdrawn)], raised.Select(f => (f.CustomerId, f.Reason)));
        var (_, health) = await host.SendAnonymous(HttpMethod.Get, "/health/projections");
        Assert.Contains(answered, health, StringComparison.Ordinal);
        Assert.DoesNotContain(loyal, health, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_touchpoint_recorded_while_an_evaluation_waits_for_the_customers_lock_is_in_what_it_evaluates()
    {
        await using var host = await WinBackHost.StartAsync();
        var customer = Ids.Unique("raced");
        var cancellation = TestContext.Current.CancellationToken;
        await using (var session = host.Store.LightweightSession())
        {
            session.Events.Append(customer,
                Stamped(new PurchaseMade { OrderId = Ids.Unique("o"), Amount = 10m, Currency = "USD" }, customer) with { OccurredAt = Yesterday.AddDays(-20) },
                Stamped(new SurveyAnswered { Nps = 1 }, customer));
            await session.SaveChangesAsync(cancellation);
        }

        // Another writer holds the customer's lock; the evaluation, asked now, waits for it.
        await using var held = await HeldCustomerLock.TakeAsync(customer, cancellation);
        await using var scope = host.Host.Services.CreateAsyncScope();
        var evaluation = scope.ServiceProvider.GetRequiredService<IMessageBus>().InvokeAsync(new EvaluateChurnFlags([customer]), cancellation);
        await Waiting.Until(async () => await held.WaitingAsync(cancellation) > 0, TimeSpan.FromSeconds(30), "the evaluation to wait for the customer's lock");

        // Meanwhile the follow-up call that answers the unhappy survey is recorded; then the other writer lets go.
        await using (var session = host.Store.LightweightSession())
        {
            session.Events.Append(customer, Stamped(new FollowUpCallCompleted { Outcome = CallOutcome.Reached, Satisfied = true }, customer) with { OccurredAt = Yesterday.AddHours(1) });
            await session.SaveChangesAsync(cancellation);
        }

        await held.LetGoAsync(cancellation);
        await evaluation;

        await using var query = host.Store.QuerySession();
        Assert.Empty(await query.Events.QueryRawEventDataOnly<ChurnFlagRaised>().Where(f => f.CustomerId == customer).ToListAsync(cancellation));
    }
}
