using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;
using Npgsql;

namespace CustomerJourney.Tests.Access;

public sealed class ErasureTests(AppFixture app)
{
    private Credentials Admin => Credentials.Token(app.Token("admin-ada", "admin"));

    [Fact]
    public async Task Erasure_makes_personal_data_unreadable_everywhere_keeps_the_facts_and_refuses_new_touchpoints()
    {
        var customer = Ids.Customer("erase");
        var secret = Guid.NewGuid().ToString("N");
        var description = $"parcel-{secret}-late";
        var email = $"p{secret}@example.com";
        var comment = $"comment-{secret}";
        await app.PostBatch(
        [
            TouchpointJson.Purchase(customer, amount: 42.5m),
            TouchpointJson.Kind("complaint-logged", new JsonObject { ["complaintId"] = Ids.Unique("k"), ["category"] = "delivery", ["severity"] = "low", ["description"] = description }, customer),
            TouchpointJson.Kind("contact-details-changed", new JsonObject { ["email"] = email, ["name"] = $"Name {secret}" }, customer),
            TouchpointJson.Kind("survey-answered", new JsonObject { ["csat"] = 2, ["comment"] = comment }, customer),
        ]);

        var readable = await app.Get($"/api/customers/{customer}/journey");
        Assert.Contains(description, readable.Body!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(0, await app.RowsContaining(secret));

        var erased = await app.Send(HttpMethod.Post, $"/api/customers/{customer}/erasure", null, null, Admin);
        var again = await app.Send(HttpMethod.Post, $"/api/customers/{customer}/erasure", null, null, Admin);
        var journey = await app.Get($"/api/customers/{customer}/journey");
        var summary = await app.Get($"/api/customers/{customer}");
        var refused = await app.PostTouchpoint(customer, TouchpointJson.Purchase());
        var refusedInBatch = await app.PostBatch([TouchpointJson.Purchase(customer)]);

        Assert.Equal(200, erased.Status);
        Assert.False(erased.Body!["alreadyErased"]!.GetValue<bool>());
        Assert.Equal("user:admin-ada", erased.Body!["erasedBy"]!.GetValue<string>());
        Assert.True(again.Body!["alreadyErased"]!.GetValue<bool>());
        var text = journey.Body!.ToJsonString();
        Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        var complaint = journey.Body!["entries"]!.AsArray().Single(e => e!["kind"]!.GetValue<string>() == "complaint-logged")!;
        Assert.Equal("[erased]", complaint["data"]!["description"]!.GetValue<string>());
        Assert.Equal("delivery", complaint["data"]!["category"]!.GetValue<string>());
        Assert.Equal("user:admin-ada", journey.Body!["erasure"]!["erasedBy"]!.GetValue<string>());
        Assert.Equal(42.5m, summary.Body!["totalSpend"]!["USD"]!.GetValue<decimal>());
        Assert.Equal(2, summary.Body.Int("lastCsat"));
        Assert.NotNull(summary.Body!["erasedAt"]);
        Assert.Equal((410, "application/problem+json"), (refused.Status, refused.ContentType));
        Assert.Equal(410, refusedInBatch.Body!["rejected"]![0]!["problem"]!["status"]!.GetValue<int>());
        Assert.Equal(0, await app.RowsContaining(secret));
        Assert.Equal(0, await KeysOf(customer));
    }

    private async Task<long> KeysOf(string customer)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var count = new NpgsqlCommand($"select count(wrapped_key) from {app.Schema}_keys.customer_keys where customer_id = @id", connection);
        count.Parameters.AddWithValue("id", customer);
        return (long)(await count.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    [Fact]
    public async Task Concurrent_erasures_of_one_customer_record_it_once()
    {
        var customer = Ids.Customer("erase");
        await app.PostTouchpoint(customer, TouchpointJson.Purchase());

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            Task.Run(() => app.Send(HttpMethod.Post, $"/api/customers/{customer}/erasure", null, null, Admin))));

        Assert.All(answers, a => Assert.Equal(200, a.Status));
        Assert.Single(answers, a => !a.Body!["alreadyErased"]!.GetValue<bool>());
        await using var session = app.Store.QuerySession();
        var events = await session.Events.FetchStreamAsync(customer, token: TestContext.Current.CancellationToken);
        Assert.Single(events, e => e.Data is CustomerJourney.Access.CustomerErased);
    }

    [Fact]
    public async Task Erasing_an_unknown_customer_answers_404_and_only_an_admin_may_erase()
    {
        var customer = Ids.Customer();
        await app.PostTouchpoint(customer, TouchpointJson.Purchase());

        var unknown = await app.Send(HttpMethod.Post, $"/api/customers/{Ids.Customer()}/erasure", null, null, Admin);
        var byAgent = await app.Send(HttpMethod.Post, $"/api/customers/{customer}/erasure", null, null, Credentials.Token(app.Token("agent-x", "agent", "supervisor")));

        Assert.Equal(404, unknown.Status);
        Assert.Equal(403, byAgent.Status);
    }
}
