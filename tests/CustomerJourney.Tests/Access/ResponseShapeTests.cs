using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;

namespace CustomerJourney.Tests.Access;

public sealed class ResponseShapeTests(AppFixture app)
{
    [Theory]
    [InlineData("analyst", false)]
    [InlineData("marketing", false)]
    [InlineData("agent", true)]
    [InlineData("supervisor", true)]
    [InlineData("auditor", true)]
    public async Task Only_service_staff_and_auditors_see_free_text_and_contact_details(string role, bool sees)
    {
        var customer = Ids.Customer();
        await app.PostBatch(
        [
            TouchpointJson.Kind("complaint-logged", new JsonObject { ["complaintId"] = Ids.Unique("k"), ["category"] = "billing", ["severity"] = "medium", ["description"] = "Charged twice" }, customer),
            TouchpointJson.Kind("survey-answered", new JsonObject { ["nps"] = 3, ["comment"] = "Never again" }, customer),
            TouchpointJson.Kind("contact-details-changed", new JsonObject { ["phone"] = "+44 20 7946 0000" }, customer),
        ]);

        var journey = await app.Get($"/api/customers/{customer}/journey", Credentials.Token(app.Token($"reader-{role}", role)));

        Assert.Equal(200, journey.Status);
        var values = journey.Body!["entries"]!.AsArray().SelectMany(e => e!["data"]!.AsObject()).Select(p => p.Value?.ToString()).ToList();
        foreach (var personal in new[] { "Charged twice", "Never again", "+44 20 7946 0000" })
        {
            Assert.Equal(sees, values.Contains(personal));
        }

        Assert.Equal(sees ? 0 : 3, values.Count(v => v == "[redacted]"));
        Assert.Contains("billing", values);
    }

    [Fact]
    public async Task Consent_can_be_asked_per_purpose_now_and_as_of_an_instant()
    {
        var customer = Ids.Customer();
        await app.PostBatch(
        [
            TouchpointJson.Kind("consent-given", new JsonObject { ["purpose"] = "marketing-email" }, customer, DateTimeOffset.UtcNow.AddDays(-10)),
            TouchpointJson.Kind("consent-withdrawn", new JsonObject { ["purpose"] = "marketing-email" }, customer, DateTimeOffset.UtcNow.AddDays(-1)),
        ]);
        var marketing = Credentials.Token(app.Token("mia", "marketing"));

        var now = await app.Get($"/api/customers/{customer}/consents?purpose=marketing-email", marketing);
        var other = await app.Get($"/api/customers/{customer}/consents?purpose=marketing-sms", marketing);

        Assert.False(now.Body!["mayContact"]!.GetValue<bool>());
        Assert.False(other.Body!["mayContact"]!.GetValue<bool>());
        Assert.False(now.Body!["purposes"]!["marketing-email"]!["given"]!.GetValue<bool>());
    }
}
