using System.Text.Json.Nodes;
using CustomerJourney.Tests.Complaints;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;
using CustomerJourney.WinBack;

namespace CustomerJourney.Tests.Access;

/// <summary>The right of access: everything held about a person in one answer, and nothing personal once they are erased.</summary>
public sealed class CustomerExportTests(AppFixture app)
{
    private Credentials Admin => Credentials.Token(app.Token("admin-ada", "admin"));

    private Task<Answer> Export(string customerId, Credentials? credentials = null) =>
        app.Send(HttpMethod.Get, $"/api/customers/{Uri.EscapeDataString(customerId)}/export", null, null, credentials ?? Admin);

    /// <summary>
    /// A launched campaign that selected the customer, and the offer it sent them. Written straight to the store: only
    /// the service records these, and launching a real campaign would select across the whole shared test store.
    /// </summary>
    private async Task<string> SelectedForWinBack(string customer)
    {
        var campaignId = Ids.Unique("wb");
        var at = DateTimeOffset.Parse("2024-06-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var offer = new WinBackOffer(OfferKind.DiscountAmount, 5m, "USD", 30);
        var code = WinBackRules.OfferCode(campaignId, customer);
        await using var session = app.Store.LightweightSession();
        session.Store(new WinBackCampaign(WinBackCampaign.StreamKey(campaignId), campaignId, "export test", new CandidateFilter(null, null, null, null), offer,
            Channel.Email, 0.1, 7, at, at, "user:marketer", CampaignStatus.Launched, at, at, null,
            [new AudienceMember(customer, AudienceGroup.Treatment, 12.5, 1.25, 0.2, ["unhappy-answer"], code)], []));
        session.Events.Append(customer, new WinBackOfferSent
        {
            CustomerId = customer, OccurredAt = at, Channel = Channel.Email, Source = "winback", SourceId = $"{campaignId}:{customer}",
            CampaignId = campaignId, OfferCode = code, Offer = offer, DeliveryKey = WinBackRules.DeliveryKey(campaignId, code),
        });
        await session.SaveChangesAsync(TestContext.Current.CancellationToken);
        return campaignId;
    }

    [Fact]
    public async Task The_export_holds_every_section_with_personal_fields_opened_and_after_erasure_none_of_them()
    {
        var customer = Ids.Customer("export");
        var secret = Guid.NewGuid().ToString("N");
        var personal = new[] { $"parcel-{secret}-late", $"sorry-{secret}", $"e{secret}@example.com", $"Name {secret}", $"comment-{secret}" };
        var complaintId = Ids.Unique("k");
        // First, while nothing else writes to the customer's stream (the flag evaluation below does).
        var campaignId = await SelectedForWinBack(customer);
        var batch = await app.PostBatch(
        [
            TouchpointJson.Purchase(customer, amount: 42.5m),
            TouchpointJson.Kind("consent-given", new JsonObject { ["purpose"] = "marketing-email" }, customer),
            TouchpointJson.Kind("contact-details-changed", new JsonObject { ["email"] = personal[2], ["name"] = personal[3] }, customer),
            TouchpointJson.Kind("survey-answered", new JsonObject { ["csat"] = 1, ["comment"] = personal[4] }, customer),
        ]);
        Assert.Equal(4, batch.Body.Int("appended"));
        var version = (await app.Call(HttpMethod.Post, "/api/complaints", new JsonObject
        {
            ["complaintId"] = complaintId, ["customerId"] = customer, ["category"] = "delivery", ["severity"] = "low", ["description"] = personal[0],
            ["channel"] = "email", ["occurredAt"] = ComplaintApi.Now.AddMinutes(-5).ToString("O"),
        }, app.Agent())).Version();
        Assert.Equal(2, (await app.Step(complaintId, "apologize", version, new JsonObject { ["by"] = "Ann", ["wording"] = personal[1] })).Version());
        // A CSAT of 1 with no follow-up call raises "unhappy-answer" once the recorded touchpoints are evaluated.
        await Waiting.Until(async () => (await app.Get($"/api/customers/{customer}/churn/flags", app.As("analyst"))).Body!["flags"]!.AsArray().Count > 0,
            TimeSpan.FromSeconds(30), "the churn flags of the customer");

        var before = await Export(customer);

        Assert.Equal((200, "application/json"), (before.Status, before.ContentType));
        var body = before.Body!;
        var text = body.ToJsonString();
        Assert.All(personal, value => Assert.Contains(value, text, StringComparison.Ordinal));
        Assert.False(body["erased"]!.GetValue<bool>());
        var events = body["events"]!.AsArray();
        Assert.Equal(new[] { "purchase", "consent-given", "contact-details-changed", "survey-answered", "complaint-logged", "apology-issued", "winback-offer-sent" }.Order(),
            events.Select(e => e!["kind"]!.GetValue<string>()).Order());
        Assert.All(events, e =>
        {
            foreach (var field in new[] { "occurredAt", "recordedAt", "channel", "source", "sourceId", "data" })
            {
                Assert.NotNull(e![field]);
            }
        });
        Assert.Equal(1, body["summary"].Int("purchaseCount"));
        Assert.Equal(42.5m, body["summary"]!["totalSpend"]!["USD"]!.GetValue<decimal>());
        Assert.True(body["consents"]!["marketing-email"]!["given"]!.GetValue<bool>());
        var complaint = Assert.Single(body["complaints"]!.AsArray())!;
        Assert.Equal(complaintId, complaint["view"]!["case"]!["complaintId"]!.GetValue<string>());
        Assert.Equal(["complaint-logged", "apology-issued"], complaint["steps"]!.AsArray().Select(s => s!["kind"]!.GetValue<string>()).ToArray());
        Assert.Equal(personal[1], complaint["steps"]![1]!["data"]!["wording"]!.GetValue<string>());
        Assert.Contains(body["churnFlags"]!["current"]!.AsArray(), f => f!["reason"]!.GetValue<string>() == "unhappy-answer");
        Assert.Contains(body["churnFlags"]!["history"]!.AsArray(), f => f!["change"]!.GetValue<string>() == "raised");
        Assert.Equal(campaignId, Assert.Single(body["winBack"]!["campaigns"]!.AsArray())!["campaignId"]!.GetValue<string>());
        Assert.Equal("winback-offer-sent", Assert.Single(body["winBack"]!["offers"]!.AsArray())!["kind"]!.GetValue<string>());

        Assert.Equal(200, (await app.Send(HttpMethod.Post, $"/api/customers/{customer}/erasure", null, null, Admin)).Status);
        var after = await Export(customer);

        Assert.Equal(200, after.Status);
        var erasedText = after.Body!.ToJsonString();
        Assert.DoesNotContain(secret, erasedText, StringComparison.Ordinal);
        Assert.True(after.Body!["erased"]!.GetValue<bool>());
        Assert.NotNull(after.Body!["erasedAt"]);
        Assert.Equal("user:admin-ada", after.Body!["erasedBy"]!.GetValue<string>());
        var logged = after.Body!["events"]!.AsArray().Single(e => e!["kind"]!.GetValue<string>() == "complaint-logged")!;
        Assert.Equal("[erased]", logged["data"]!["description"]!.GetValue<string>());
        Assert.Equal("delivery", logged["data"]!["category"]!.GetValue<string>());
        Assert.Equal(42.5m, after.Body!["summary"]!["totalSpend"]!["USD"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task An_unknown_customer_answers_404_and_an_invalid_id_400_naming_customerId()
    {
        var unknown = await Export(Ids.Customer());
        var invalid = await Export("not a valid id!");

        Assert.Equal((404, "application/problem+json"), (unknown.Status, unknown.ContentType));
        Assert.Equal((400, "application/problem+json"), (invalid.Status, invalid.ContentType));
        Assert.NotNull(invalid.Body!["errors"]!["customerId"]);
    }

    [Theory]
    [InlineData("analyst")]
    [InlineData("marketing")]
    [InlineData("agent")]
    [InlineData("supervisor")]
    [InlineData("auditor")]
    public async Task Only_an_admin_may_export(string role)
    {
        var customer = Ids.Customer();
        await app.PostTouchpoint(customer, TouchpointJson.Purchase());

        var answer = await Export(customer, app.As(role));

        Assert.Equal((403, "application/problem+json"), (answer.Status, answer.ContentType));
        Assert.Equal(200, (await Export(customer)).Status);
    }
}
