using CustomerJourney.Journeys;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Specs.Journeys;

/// <summary>
/// A person's summary combines their profile's members' summaries: it must say what one summary of all their touchpoints
/// would say, whoever of the members made each one.
/// </summary>
public sealed class PersonSummarySpecs
{
    private static DateTimeOffset Day(int day) => new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).AddDays(day);

    private static Touchpoint On(Touchpoint touchpoint, string customer, int day) =>
        touchpoint.As(customer, Day(day), sourceId: $"{customer}-{touchpoint.GetType().Name}-{day}", channel: Channel.Web);

    private static CustomerSummary Fold(string id, IEnumerable<Touchpoint> touchpoints) =>
        touchpoints.Aggregate(new CustomerSummary { Id = id }, CustomerSummaryProjection.Fold);

    private static readonly Touchpoint[] Ann =
    [
        On(new PurchaseMade { OrderId = "a1", Amount = 30, Currency = "USD" }, "ann", 1),
        On(new PurchaseMade { OrderId = "a2", Amount = 5, Currency = "EUR" }, "ann", 12),
        On(new SurveyAnswered { Nps = 9, Csat = 5 }, "ann", 20),
        On(new ConsentGiven { Purpose = "marketing-email" }, "ann", 4),
        On(new LoyaltyPointsEarned { Points = 50, Reason = "order" }, "ann", 2),
    ];

    private static readonly Touchpoint[] Bob =
    [
        On(new PurchaseMade { OrderId = "b1", Amount = 15, Currency = "USD" }, "bob", 0),
        On(new PurchaseReturned { OrderId = "b1", Amount = 15, Currency = "USD", Reason = "damaged" }, "bob", 3),
        On(new SurveyAnswered { Nps = 2 }, "bob", 25),
        On(new ConsentWithdrawn { Purpose = "marketing-email" }, "bob", 4),
        On(new ConsentGiven { Purpose = "marketing-sms" }, "bob", 8),
        On(new LoyaltyPointsRedeemed { Points = 20, Reason = "voucher" }, "bob", 9),
    ];

    [Fact]
    public void The_person_has_what_one_summary_of_all_the_members_touchpoints_has()
    {
        var person = CustomerSummaryProjection.Combine("pf~ann", [Fold("ann", Ann), Fold("bob", Bob)]);
        var asOne = Fold("pf~ann", [.. Ann, .. Bob]);

        Assert.Equal((asOne.PurchaseCount, asOne.ReturnCount, asOne.TouchpointCount, asOne.LoyaltyPoints), (person.PurchaseCount, person.ReturnCount, person.TouchpointCount, person.LoyaltyPoints));
        Assert.Equal((Day(0), Day(12)), (person.FirstPurchaseAt!.Value, person.LastPurchaseAt!.Value));
        Assert.Equal(asOne.TotalSpend, person.TotalSpend);
        Assert.Equal(asOne.TotalReturned, person.TotalReturned);
        Assert.Equal((2, Day(25)), (person.LastNps!.Value, person.LastNpsAt!.Value));
        Assert.Equal((5, Day(20)), (person.LastCsat!.Value, person.LastCsatAt!.Value));
        Assert.Equal(asOne.LastTouchpointAt, person.LastTouchpointAt);
        Assert.Equal(asOne.Consents, person.Consents);
        Assert.Equal(30m + 15m, person.TotalSpend["USD"]);
    }

    [Fact]
    public void A_withdrawal_by_one_member_at_the_same_instant_as_another_members_grant_stands_in_either_order()
    {
        var annFirst = CustomerSummaryProjection.Combine("pf~ann", [Fold("ann", Ann), Fold("bob", Bob)]);
        var bobFirst = CustomerSummaryProjection.Combine("pf~bob", [Fold("bob", Bob), Fold("ann", Ann)]);

        Assert.False(annFirst.Consents["marketing-email"].Given);
        Assert.False(bobFirst.Consents["marketing-email"].Given);
        Assert.True(annFirst.Consents["marketing-sms"].Given);
        Assert.True(annFirst.MarketingConsent);
    }

    [Fact]
    public void A_later_grant_by_another_member_stands_over_an_earlier_withdrawal()
    {
        var later = On(new ConsentGiven { Purpose = "marketing-email" }, "cy", 30);

        var person = CustomerSummaryProjection.Combine("pf~bob", [Fold("bob", Bob), Fold("cy", [later])]);

        Assert.Equal(new ConsentStatus(true, Day(30)), person.Consents["marketing-email"]);
    }

    [Fact]
    public void A_person_of_one_is_that_customer()
    {
        var alone = Fold("ann", Ann);

        var person = CustomerSummaryProjection.Combine("pf~ann", [alone]);

        Assert.Equal((alone.PurchaseCount, alone.LastNps, alone.LoyaltyPoints, alone.FirstPurchaseAt), (person.PurchaseCount, person.LastNps, person.LoyaltyPoints, person.FirstPurchaseAt));
        Assert.Equal(alone.TotalSpend, person.TotalSpend);
        Assert.Equal(alone.Consents, person.Consents);
    }
}
