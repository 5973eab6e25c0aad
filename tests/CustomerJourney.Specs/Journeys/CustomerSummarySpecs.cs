using System.Globalization;
using CustomerJourney.Journeys;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Specs.Journeys;

/// <summary>Given touchpoints (in arrival order), then the summary; folded through the projection's own function.</summary>
public sealed class CustomerSummarySpecs
{
    private static DateTimeOffset Day(int day) => new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).AddDays(day);

    private static T On<T>(T touchpoint, int day) where T : Touchpoint =>
        touchpoint.As("c-1", Day(day), sourceId: $"{typeof(T).Name}-{day}", channel: Channel.Web);

    private static readonly Spec<CustomerSummary, Touchpoint> Summary = Spec.Summary("c-1");

    private static PurchaseMade Purchase(decimal amount, string currency = "USD") =>
        new() { OrderId = "o", Amount = amount, Currency = currency };

    [Fact]
    public void Purchases_arriving_out_of_order_still_give_the_true_first_and_last_purchase()
    {
        var summary = Summary.Given(On(Purchase(5), 10), On(Purchase(7), 2), On(Purchase(1), 20), On(Purchase(3), 1));

        Assert.Equal((Day(1), Day(20)), (summary.FirstPurchaseAt!.Value, summary.LastPurchaseAt!.Value));
        Assert.Equal(4, summary.PurchaseCount);
        Assert.Equal(16m, summary.TotalSpend["USD"]);
    }

    [Fact]
    public void Spend_is_kept_per_currency()
    {
        var summary = Summary.Given(On(Purchase(5, "USD"), 1), On(Purchase(7, "EUR"), 2), On(Purchase(0, "EUR"), 3));

        Assert.Equal(new Dictionary<string, decimal> { ["USD"] = 5, ["EUR"] = 7 }, summary.TotalSpend);
    }

    [Fact]
    public void The_latest_survey_in_business_time_sets_each_score_even_when_an_older_one_arrives_later()
    {
        var summary = Summary.Given(
            On(new SurveyAnswered { Csat = 5, Nps = 10 }, 10),
            On(new SurveyAnswered { Csat = 1, Nps = 0 }, 3),
            On(new SurveyAnswered { Nps = 8 }, 12));

        Assert.Equal((5, 8), (summary.LastCsat, summary.LastNps));
    }

    [Theory]
    [InlineData(new[] { "given:1" }, true)]
    [InlineData(new[] { "given:1", "withdrawn:2" }, false)]
    [InlineData(new[] { "withdrawn:2", "given:1" }, false)]
    [InlineData(new[] { "withdrawn:1", "given:2" }, true)]
    [InlineData(new[] { "given:1", "withdrawn:1" }, false)]
    [InlineData(new[] { "withdrawn:1", "given:1" }, false)]
    public void Marketing_consent_follows_the_latest_statement_in_business_time(string[] statements, bool expected)
    {
        var touchpoints = statements.Select(s => s.Split(':')).Select(p => p[0] == "given"
            ? (Touchpoint)On(new ConsentGiven { Purpose = "marketing-email" }, int.Parse(p[1], CultureInfo.InvariantCulture))
            : On(new ConsentWithdrawn { Purpose = "marketing-email" }, int.Parse(p[1], CultureInfo.InvariantCulture)));

        Assert.Equal(expected, Summary.Given([.. touchpoints]).MarketingConsent);
    }

    [Fact]
    public void Without_any_consent_statement_marketing_consent_is_unknown()
    {
        Assert.Null(Summary.Given(On(Purchase(1), 1), On(new ConsentGiven { Purpose = "analytics" }, 2)).MarketingConsent);
    }

    [Fact]
    public void Returns_are_counted_and_summed_per_currency()
    {
        var summary = Summary.Given(On(new PurchaseReturned { OrderId = "o", Amount = 3, Currency = "USD", Reason = "r" }, 3),
            On(new PurchaseReturned { OrderId = "p", Amount = 2, Currency = "USD", Reason = "r" }, 4));

        Assert.Equal((2, 5m), (summary.ReturnCount, summary.TotalReturned["USD"]));
    }

    [Fact]
    public void Loyalty_points_earned_and_redeemed_net_out()
    {
        var summary = Summary.Given(On(new LoyaltyPointsEarned { Points = 100, Reason = "r" }, 1), On(new LoyaltyPointsRedeemed { Points = 30, Reason = "r" }, 2));

        Assert.Equal(70, summary.LoyaltyPoints);
    }
}
