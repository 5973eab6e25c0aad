using System.Globalization;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;

namespace CustomerJourney.Tests.Tracking;

/// <summary>
/// context.consent.categoryPreferences, through the table Tracking:ConsentCategories (defaults: Advertising and Marketing
/// to marketing-email): one statement per mapped category per call, read by the one consent rule like any other.
/// </summary>
public sealed class ConsentCategoryTests(AppFixture app)
{
    private static readonly DateTimeOffset May = DateTimeOffset.Parse("2024-05-01T10:00:00Z", CultureInfo.InvariantCulture);

    private static JsonObject WithConsent(JsonObject call, JsonObject preferences)
    {
        call["context"]!["consent"] = new JsonObject { ["categoryPreferences"] = preferences };
        return call;
    }

    private async Task<JsonNode> Consents(string customer)
    {
        var answer = await app.Get($"/api/customers/{customer}/consents?purpose=marketing-email");
        Assert.True(answer.Status == 200, answer.Body?.ToJsonString());
        return answer.Body!;
    }

    private async Task GiveMarketingConsent(string customer) =>
        Assert.Equal(200, (await app.PostV1("/v1/track", SegmentClient.Track(customer, "Consent Given", new JsonObject { ["purpose"] = "marketing-email" }, timestamp: May))).Status);

    [Fact]
    public async Task Advertising_said_no_withdraws_marketing_consent_given_before_and_resending_the_call_appends_nothing()
    {
        var customer = Ids.Customer("seg");
        await GiveMarketingConsent(customer);
        Assert.True((await Consents(customer))["mayContact"]!.GetValue<bool>());
        var call = WithConsent(SegmentClient.Track(customer, "Product Viewed", new JsonObject { ["product_id"] = "p-1" }, timestamp: May.AddDays(1)),
            new JsonObject { ["Advertising"] = false, ["Analytics"] = true });

        var first = await app.PostV1("/v1/batch", SegmentClient.Batch(call));
        var again = await app.PostV1("/v1/batch", SegmentClient.Batch(call));
        var single = await app.PostV1("/v1/track", call);

        Assert.Equal((2, 0), (first.Body.Int("appended"), first.Body.Int("duplicates")));
        Assert.Equal((0, 2), (again.Body.Int("appended"), again.Body.Int("duplicates")));
        Assert.Equal(200, single.Status);
        var consents = await Consents(customer);
        Assert.False(consents["mayContact"]!.GetValue<bool>());
        var standing = Assert.Single(consents["purposes"]!.AsObject());
        Assert.Equal(("marketing-email", false, May.AddDays(1)), (standing.Key, standing.Value!["given"]!.GetValue<bool>(), standing.Value["at"]!.GetValue<DateTimeOffset>()));
        var journey = await app.Journey(customer);
        Assert.Equal(["consent-given", "event-tracked", "consent-withdrawn"], journey.Select(e => e!["kind"]!.GetValue<string>()));
        var withdrawal = journey[2]!;
        Assert.Equal(($"{call["messageId"]!.GetValue<string>()}#consent:Advertising", SegmentClient.Source, May.AddDays(1)),
            (withdrawal["sourceId"]!.GetValue<string>(), withdrawal["source"]!.GetValue<string>(), withdrawal["occurredAt"]!.GetValue<DateTimeOffset>()));
        Assert.False((await app.Get($"/api/customers/{customer}", Credentials.Token(app.Token("analyst-1", "analyst")))).Body!["marketingConsent"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Two_categories_of_one_purpose_that_disagree_in_one_call_leave_it_withdrawn_as_the_one_rule_reads_a_tie()
    {
        var customer = Ids.Customer("seg");
        await GiveMarketingConsent(customer);

        await app.PostV1("/v1/track", WithConsent(SegmentClient.Track(customer, "Product Viewed", timestamp: May.AddDays(1)),
            new JsonObject { ["Marketing"] = true, ["Advertising"] = false }));

        Assert.False((await Consents(customer))["mayContact"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_refused_call_records_no_consent_and_a_mapped_category_must_be_true_or_false()
    {
        var customer = Ids.Customer("seg");
        await GiveMarketingConsent(customer);
        var badOrder = WithConsent(SegmentClient.Track(customer, "Order Completed", SegmentClient.OrderCompleted("o-1", currency: "XYZ"), timestamp: May.AddDays(1)),
            new JsonObject { ["Advertising"] = false });
        var notABoolean = WithConsent(SegmentClient.Track(customer, "Product Viewed", timestamp: May.AddDays(1)), new JsonObject { ["Advertising"] = "no" });

        var batch = await app.PostV1("/v1/batch", SegmentClient.Batch(badOrder));
        var single = await app.PostV1("/v1/track", notABoolean);

        Assert.Equal(0, batch.Body.Int("appended"));
        Assert.Contains("data.currency", Assert.Single(batch.Body!["rejected"]!.AsArray())!["problem"]!["errors"]!.AsObject().Select(e => e.Key));
        Assert.Equal(400, single.Status);
        Assert.Contains("context.consent.categoryPreferences.Advertising", single.Body!["errors"]!.AsObject().Select(e => e.Key));
        Assert.True((await Consents(customer))["mayContact"]!.GetValue<bool>());
        Assert.Equal(["consent-given"], (await app.Journey(customer)).Select(e => e!["kind"]!.GetValue<string>()));
    }
}
