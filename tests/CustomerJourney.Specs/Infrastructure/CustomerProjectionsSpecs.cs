using CustomerJourney.Churn;
using CustomerJourney.Infrastructure;
using CustomerJourney.Journeys;
using Marten;
using Marten.Events.Aggregation;

namespace CustomerJourney.Specs.Infrastructure;

/// <summary>
/// The customer projections never take Marten's single-pass composite replay (its first start on a store with events
/// passed over a write still open; SlowTransactionTests): a member that would join it is refused where members are added.
/// </summary>
public sealed class CustomerProjectionsSpecs
{
    public sealed class Visits
    {
        public string Id { get; set; } = "";

        public int Count { get; set; }
    }

    /// <summary>A member as a newcomer might write it, answering Marten's default.</summary>
    public sealed class VisitsProjection : SingleStreamProjection<Visits, string>
    {
        public override Visits Evolve(Visits? snapshot, string id, JasperFx.Events.IEvent e) => new() { Id = id, Count = (snapshot?.Count ?? 0) + 1 };
    }

    [Fact]
    public void A_member_that_would_join_the_single_pass_replay_is_refused()
    {
        var problem = Assert.Throws<InvalidOperationException>(() => CustomerProjections.Add(new StoreOptions(), new VisitsProjection()));
        Assert.Contains(nameof(CustomerProjections.JoinsSinglePassReplay), problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_customer_summary_and_the_purchase_history_opt_out_and_are_added()
    {
        var options = new StoreOptions();
        CustomerProjections.Add(options, new CustomerSummaryProjection());
        CustomerProjections.Add(options, new PurchaseHistoryProjection());
        Assert.Contains(options.Projections.All, p => p.Name == CustomerProjections.Name);
    }
}
