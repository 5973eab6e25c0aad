using CustomerJourney.Churn;
using CustomerJourney.Complaints;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Tests.Churn;

/// <summary>Given a customer's touchpoints, when the flag rules run at a time, then these flags (with their reasons and evidence).</summary>
public sealed class ChurnFlagRulesSpecs
{
    private static readonly DateTimeOffset Start = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly FlagSettings Settings = new();

    private static (Guid, Touchpoint) On<T>(T touchpoint, double days) where T : Touchpoint =>
        (Guid.NewGuid(), touchpoint with { CustomerId = "c-1", OccurredAt = Start.AddDays(days), Channel = Channel.Web, Source = "s", SourceId = Guid.NewGuid().ToString() });

    private static PurchaseMade Purchase(string order = "o", decimal amount = 10) => new() { OrderId = order, Amount = amount, Currency = "USD" };

    private static IReadOnlyList<ChurnFlag> Evaluate(double atDay, params (Guid, Touchpoint)[] history) =>
        ChurnFlagRules.Evaluate(history, null, Start.AddDays(atDay), Settings, TimeZoneInfo.Utc);

    [Fact]
    public void A_quiet_customer_has_no_flags()
    {
        Assert.Empty(Evaluate(20, On(Purchase(), 0), On(Purchase(), 10)));
    }

    [Fact]
    public void No_purchase_for_more_than_three_typical_gaps_is_overdue_with_the_last_purchase_as_evidence()
    {
        var last = On(Purchase(), 20);

        var flag = Assert.Single(Evaluate(51, On(Purchase(), 0), On(Purchase(), 10), last));

        Assert.Equal((FlagReasons.OverduePurchase, 3.1), (flag.Reason, flag.Figure));
        Assert.Equal([last.Item1], flag.EventIds);
        Assert.Empty(Evaluate(50, On(Purchase(), 0), On(Purchase(), 10), last));
    }

    [Fact]
    public void A_complaint_without_remedy_or_call_past_its_promise_is_unresolved_and_a_remedy_clears_it()
    {
        var complaint = On(new ComplaintLogged { ComplaintId = "k-1", Category = "c", Severity = ComplaintSeverity.Medium, Description = "d" }, 1);
        var critical = On(new ComplaintLogged { ComplaintId = "k-2", Category = "c", Severity = ComplaintSeverity.Critical, Description = "d" }, 1);

        Assert.Empty(Evaluate(5.9, On(Purchase(), 0), complaint));
        var flag = Assert.Single(Evaluate(6.5, On(Purchase(), 0), complaint));
        Assert.Equal((FlagReasons.UnresolvedComplaint, 12.0, complaint.Item1), (flag.Reason, flag.Figure, flag.EventIds[0]));
        Assert.Single(Evaluate(2.5, On(Purchase(), 0), critical));
        Assert.Empty(Evaluate(9, On(Purchase(), 0), complaint, On(new RemedyOffered { ComplaintId = "k-1", Remedy = Remedy.Refund, Amount = 1, Currency = "USD" }, 3)));
    }

    [Theory]
    [InlineData(null, 6, true)]
    [InlineData(null, 7, false)]
    [InlineData(2, null, true)]
    [InlineData(3, null, false)]
    public void A_detractor_or_very_unhappy_answer_without_a_follow_up_call_is_flagged(int? csat, int? nps, bool flagged)
    {
        var answer = On(new SurveyAnswered { Csat = csat, Nps = nps }, 2);

        var flags = Evaluate(3, On(Purchase(), 0), answer);
        var afterCall = Evaluate(4, On(Purchase(), 0), answer, On(new FollowUpCallCompleted { Outcome = CallOutcome.Reached, Satisfied = true }, 3));

        Assert.Equal(flagged, flags.Any(f => f.Reason == FlagReasons.UnhappyAnswer && f.EventIds[0] == answer.Item1));
        Assert.DoesNotContain(afterCall, f => f.Reason == FlagReasons.UnhappyAnswer);
    }

    [Fact]
    public void Withdrawn_marketing_consent_is_flagged_until_given_again()
    {
        var withdrawn = On(new ConsentWithdrawn { Purpose = "marketing-email" }, 2);

        Assert.Contains(Evaluate(3, On(Purchase(), 0), withdrawn), f => f.Reason == FlagReasons.ConsentWithdrawn);
        Assert.Empty(Evaluate(4, On(Purchase(), 0), withdrawn, On(new ConsentGiven { Purpose = "marketing-email" }, 3)));
    }

    [Fact]
    public void Returning_most_of_the_last_order_is_flagged_with_the_share()
    {
        var order = On(Purchase("o-9", 40), 1);
        var returned = On(new PurchaseReturned { OrderId = "o-9", Amount = 30, Currency = "USD", Reason = "r" }, 2);

        var flag = Assert.Single(Evaluate(3, order, returned));

        Assert.Equal((FlagReasons.LargeReturn, 0.75), (flag.Reason, flag.Figure));
        Assert.Equal([order.Item1, returned.Item1], flag.EventIds);
        Assert.Empty(Evaluate(3, order, On(new PurchaseReturned { OrderId = "o-9", Amount = 10, Currency = "USD", Reason = "r" }, 2)));
    }

    [Fact]
    public void Deciding_raises_new_reasons_clears_gone_ones_and_repeats_nothing()
    {
        var flags = new[] { new ChurnFlag(FlagReasons.ConsentWithdrawn, 0, "d", []), new ChurnFlag(FlagReasons.LargeReturn, 0.8, "d", []) };

        var first = ChurnFlagRules.Decide("c-1", new HashSet<string>(), flags, 10, null, Start);
        var again = ChurnFlagRules.Decide("c-1", ChurnFlagRules.Current(first), flags, 10, null, Start);
        var later = ChurnFlagRules.Decide("c-1", ChurnFlagRules.Current(first), flags[..1], 10, null, Start);

        Assert.Equal(2, first.OfType<ChurnFlagRaised>().Count());
        Assert.Empty(again);
        Assert.Equal(FlagReasons.LargeReturn, Assert.IsType<ChurnFlagCleared>(Assert.Single(later)).Reason);
    }
}
