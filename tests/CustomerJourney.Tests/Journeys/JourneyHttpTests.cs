using System.Globalization;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;

namespace CustomerJourney.Tests.Journeys;

public sealed class JourneyHttpTests(AppFixture app)
{
    private static DateTimeOffset At(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_journey_lists_touchpoints_in_business_time_whatever_the_arrival_order()
    {
        var customer = Ids.Customer();
        await app.PostTouchpoint(customer, TouchpointJson.Kind("survey-answered", new JsonObject { ["csat"] = 2 }, occurredAt: At("2024-03-01T00:00:00Z"), channel: "email"));
        await app.PostTouchpoint(customer, TouchpointJson.Purchase(occurredAt: At("2024-01-01T00:00:00Z")));
        await app.PostTouchpoint(customer, TouchpointJson.Purchase(occurredAt: At("2024-02-01T00:00:00Z")));

        var journey = await app.Get($"/api/customers/{customer}/journey");

        Assert.Equal(200, journey.Status);
        var entries = journey.Body!["entries"]!.AsArray();
        Assert.Equal(["purchase", "purchase", "survey-answered"], entries.Select(e => e!["kind"]!.GetValue<string>()));
        Assert.Equal([true, false, true], entries.Select(e => e!["momentOfTruth"]!.GetValue<bool>()));
        Assert.StartsWith("First purchase", entries[0]!["summary"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("Survey answered: CSAT 2/5", entries[2]!["summary"]!.GetValue<string>());
        Assert.Equal(3, journey.Body.Int("total"));
    }

    [Fact]
    public async Task The_journey_pages()
    {
        var customer = Ids.Customer();
        var items = Enumerable.Range(1, 7).Select(d => TouchpointJson.Purchase(customer, At($"2024-01-{d:00}T00:00:00Z")));
        await app.PostBatch(items);

        var page2 = await app.Get($"/api/customers/{customer}/journey?page=2&pageSize=3");
        var page3 = await app.Get($"/api/customers/{customer}/journey?page=3&pageSize=3");

        Assert.Equal((7, 2, 3), (page2.Body.Int("total"), page2.Body.Int("page"), page2.Body.Int("pageSize")));
        Assert.Equal(["2024-01-04", "2024-01-05", "2024-01-06"],
            page2.Body!["entries"]!.AsArray().Select(e => e!["occurredAt"]!.GetValue<string>()[..10]));
        Assert.Single(page3.Body!["entries"]!.AsArray());
    }

    [Theory]
    [InlineData("page=0")]
    [InlineData("page=abc")]
    [InlineData("pageSize=501")]
    [InlineData("pageSize=-1")]
    [InlineData("asOf=yesterday")]
    [InlineData("asOf=2024-01-01")]
    public async Task Malformed_query_parameters_answer_400(string query)
    {
        var customer = Ids.Customer();
        await app.PostTouchpoint(customer, TouchpointJson.Purchase());

        var answer = await app.Get($"/api/customers/{customer}/journey?{query}");

        Assert.Equal((400, "application/problem+json"), (answer.Status, answer.ContentType));
    }

    [Fact]
    public async Task AsOf_replays_the_journey_and_the_summary_as_they_were_known_at_that_instant()
    {
        var customer = Ids.Customer();
        await app.PostTouchpoint(customer, TouchpointJson.Purchase(occurredAt: At("2024-01-10T00:00:00Z"), amount: 10m));
        var firstKnown = (await app.Get($"/api/customers/{customer}/journey")).Body!["entries"]![0]!["recordedAt"]!.GetValue<DateTimeOffset>();
        // A late-arriving fact about an earlier day: recorded after firstKnown, dated before it in business time.
        await app.PostTouchpoint(customer, TouchpointJson.Purchase(occurredAt: At("2024-01-05T00:00:00Z"), amount: 5m));

        var asOf = Uri.EscapeDataString(firstKnown.ToString("O", CultureInfo.InvariantCulture));
        var then = await app.Get($"/api/customers/{customer}/journey?asOf={asOf}");
        var now = await app.Get($"/api/customers/{customer}/journey");
        var summaryThen = await app.Get($"/api/customers/{customer}?asOf={asOf}");
        var summaryNow = await app.Get($"/api/customers/{customer}");

        Assert.Equal(1, then.Body.Int("total"));
        Assert.Equal(2, now.Body.Int("total"));
        Assert.Equal("2024-01-05", now.Body!["entries"]![0]!["occurredAt"]!.GetValue<string>()[..10]);
        Assert.True(now.Body!["entries"]![0]!["momentOfTruth"]!.GetValue<bool>());
        Assert.False(now.Body!["entries"]![1]!["momentOfTruth"]!.GetValue<bool>());
        Assert.Equal((1, 10m), (summaryThen.Body.Int("purchaseCount"), summaryThen.Body!["totalSpend"]!["USD"]!.GetValue<decimal>()));
        Assert.Equal((2, 15m), (summaryNow.Body.Int("purchaseCount"), summaryNow.Body!["totalSpend"]!["USD"]!.GetValue<decimal>()));
        Assert.Equal("2024-01-05", summaryNow.Body!["firstPurchaseAt"]!.GetValue<string>()[..10]);
    }

    [Fact]
    public async Task An_unknown_customer_answers_404_and_so_does_a_customer_not_yet_known_at_asOf()
    {
        var customer = Ids.Customer();

        var journey = await app.Get($"/api/customers/{customer}/journey");
        var summary = await app.Get($"/api/customers/{customer}");
        await app.PostTouchpoint(customer, TouchpointJson.Purchase());
        var before = await app.Get($"/api/customers/{customer}/journey?asOf=2000-01-01T00:00:00Z");

        Assert.Equal((404, "application/problem+json"), (journey.Status, journey.ContentType));
        Assert.Equal(404, summary.Status);
        Assert.Equal(404, before.Status);
    }

    [Fact]
    public async Task The_summary_reflects_every_kind_on_the_very_next_read()
    {
        var customer = Ids.Customer();
        await app.PostBatch(
        [
            TouchpointJson.Purchase(customer, At("2024-01-01T00:00:00Z"), 10m, "USD"),
            TouchpointJson.Purchase(customer, At("2024-03-01T00:00:00Z"), 7.5m, "EUR"),
            TouchpointJson.Kind("return", new JsonObject { ["orderId"] = "o", ["amount"] = 2, ["currency"] = "USD", ["reason"] = "damaged" }, customer, At("2024-01-05T00:00:00Z"), channel: "store"),
            TouchpointJson.Kind("complaint-logged", new JsonObject { ["complaintId"] = Ids.Unique("k"), ["category"] = "delivery", ["severity"] = "high", ["description"] = "late" }, customer),
            TouchpointJson.Kind("survey-answered", new JsonObject { ["csat"] = 4, ["nps"] = 9 }, customer, At("2024-02-01T00:00:00Z")),
            TouchpointJson.Kind("survey-answered", new JsonObject { ["csat"] = 1 }, customer, At("2024-01-15T00:00:00Z")),
            TouchpointJson.Kind("consent-given", new JsonObject { ["purpose"] = "marketing-email" }, customer, At("2024-01-01T00:00:00Z")),
            TouchpointJson.Kind("consent-withdrawn", new JsonObject { ["purpose"] = "marketing-email" }, customer, At("2024-02-01T00:00:00Z")),
        ]);

        var summary = (await app.Get($"/api/customers/{customer}")).Body!;

        Assert.Equal("2024-01-01", summary["firstPurchaseAt"]!.GetValue<string>()[..10]);
        Assert.Equal("2024-03-01", summary["lastPurchaseAt"]!.GetValue<string>()[..10]);
        Assert.Equal(2, summary.Int("purchaseCount"));
        Assert.Equal((10m, 7.5m), (summary["totalSpend"]!["USD"]!.GetValue<decimal>(), summary["totalSpend"]!["EUR"]!.GetValue<decimal>()));
        Assert.Equal(1, summary.Int("returnCount"));
        Assert.Equal(1, summary.Int("openComplaints"));
        Assert.Equal((4, 9), (summary.Int("lastCsat"), summary.Int("lastNps")));
        Assert.False(summary["marketingConsent"]!.GetValue<bool>());
    }
}
