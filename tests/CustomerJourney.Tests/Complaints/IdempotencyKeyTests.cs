using System.Text.Json.Nodes;
using CustomerJourney.Infrastructure;
using CustomerJourney.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerJourney.Tests.Complaints;

/// <summary>
/// An Idempotency-Key means "this caller's retry of this request" (the IETF Idempotency-Key draft): scoped by caller and
/// by what the request targets. Keys are often short counters or form UUIDs, so two people, or one person on two cases,
/// will send the same one.
/// </summary>
public sealed class IdempotencyKeyTests(AppFixture app)
{
    private static readonly System.Text.Json.JsonSerializerOptions WebJson = new(System.Text.Json.JsonSerializerDefaults.Web);

    private static JsonObject NewComplaint(string customer, string description, string? complaintId = null)
    {
        var body = new JsonObject
        {
            ["customerId"] = customer, ["category"] = "delivery", ["severity"] = "low", ["description"] = description,
            ["channel"] = "phone", ["occurredAt"] = ComplaintApi.Now.AddMinutes(-5).ToString("O"),
        };
        if (complaintId is not null)
        {
            body["complaintId"] = complaintId;
        }

        return body;
    }

    [Fact]
    public async Task Two_staff_members_sending_the_same_key_each_log_their_own_complaint()
    {
        var key = "1";
        var ann = Credentials.Token(app.Token("agent-ann-idem", "agent"));
        var bob = Credentials.Token(app.Token("agent-bob-idem", "agent"));

        var first = await app.Call(HttpMethod.Post, "/api/complaints", NewComplaint(Ids.Customer("idem-a"), "Ann's customer"), ann, idempotencyKey: key);
        var second = await app.Call(HttpMethod.Post, "/api/complaints", NewComplaint(Ids.Customer("idem-b"), "Bob's customer"), bob, idempotencyKey: key);

        Assert.Equal(201, first.Status);
        Assert.True(second.Status == 201, second.Body?.ToJsonString());
        Assert.NotEqual(first.Body!["case"]!["complaintId"]!.GetValue<string>(), second.Body!["case"]!["complaintId"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_same_key_on_a_step_of_another_case_is_a_new_request_and_is_stored()
    {
        var caseA = Ids.Unique("idem-case-a");
        var caseB = Ids.Unique("idem-case-b");
        Assert.Equal(201, (await app.Log(Ids.Customer("idem-c"), caseA)).Status);
        Assert.Equal(201, (await app.Log(Ids.Customer("idem-d"), caseB)).Status);
        var key = Guid.NewGuid().ToString();

        var onA = await app.Step(caseA, "acknowledge", 1, idempotencyKey: key);
        var onB = await app.Step(caseB, "acknowledge", 1, idempotencyKey: key);

        Assert.Equal((200, 2L), (onA.Status, onA.Version()));
        Assert.Equal(200, onB.Status);
        Assert.Equal(("acknowledged", 2L), (onB.Status(), onB.Version()));
    }

    [Fact]
    public async Task A_retry_of_the_same_request_answers_as_before_and_appends_once()
    {
        var complaintId = Ids.Unique("idem-retry");
        Assert.Equal(201, (await app.Log(Ids.Customer("idem-e"), complaintId)).Status);
        var key = Guid.NewGuid().ToString();

        var at = ComplaintApi.Now;
        var first = await app.Step(complaintId, "acknowledge", 1, new JsonObject { ["reason"] = "Read it" }, at, idempotencyKey: key);
        // The same request again, its members in another order: the same parsed body.
        var retry = await app.Call(HttpMethod.Post, $"/api/complaints/{complaintId}/acknowledge",
            new JsonObject { ["occurredAt"] = at.ToString("O"), ["reason"] = "Read it" }, app.Agent(), ifMatch: "\"1\"", idempotencyKey: key);

        Assert.Equal((200, 2L), (first.Status, first.Version()));
        Assert.Equal((200, 2L), (retry.Status, retry.Version()));
    }

    [Fact]
    public async Task The_same_key_with_a_different_body_answers_422_and_stores_nothing()
    {
        var customer = Ids.Customer("idem-f");
        var key = Guid.NewGuid().ToString();
        var first = await app.Call(HttpMethod.Post, "/api/complaints", NewComplaint(customer, "The parcel was late"), app.Agent(), idempotencyKey: key);

        var changed = await app.Call(HttpMethod.Post, "/api/complaints", NewComplaint(customer, "The parcel was lost"), app.Agent(), idempotencyKey: key);

        Assert.Equal(201, first.Status);
        Assert.Equal((422, "application/problem+json"), (changed.Status, changed.ContentType));
        var cases = await app.Get($"/api/customers/{customer}/complaints");
        Assert.Single(cases.Body!["cases"]!.AsArray());
    }

    [Fact]
    public async Task The_same_key_while_the_first_request_is_still_served_answers_409()
    {
        var complaintId = Ids.Unique("idem-busy");
        Assert.Equal(201, (await app.Log(Ids.Customer("idem-g"), complaintId)).Status);
        var key = Guid.NewGuid().ToString();
        var body = new JsonObject { ["occurredAt"] = ComplaintApi.Now.ToString("O") };
        // The first request, as another instance holds it: claimed a moment ago, not yet answered.
        var keys = app.Host.Services.GetRequiredService<IdempotencyKeys>();
        var fingerprint = IdempotencyKeys.Fingerprint(System.Text.Json.JsonSerializer.Deserialize<CustomerJourney.Complaints.AcknowledgeComplaint>(body.ToJsonString(),
            WebJson)!);
        Assert.Equal(IdempotencyClaim.New, await keys.ClaimAsync(IdempotencyKeys.Scoped("user:agent-ann", $"POST /api/complaints/{complaintId}/acknowledge", key),
            fingerprint, TestContext.Current.CancellationToken));

        var second = await app.Call(HttpMethod.Post, $"/api/complaints/{complaintId}/acknowledge", body, app.Agent(), ifMatch: "\"1\"", idempotencyKey: key);

        Assert.Equal((409, "application/problem+json"), (second.Status, second.ContentType));
        Assert.Equal("logged", (await app.Get($"/api/complaints/{complaintId}")).Body!["case"]!["status"]!.GetValue<string>());
    }
}
