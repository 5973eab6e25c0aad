using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;
using Npgsql;

namespace CustomerJourney.Tests.Access;

/// <summary>
/// Nothing of a refused item is stored, its customer's personal-data key included: otherwise any key holder could grow
/// the key store by a row per refused item.
/// </summary>
public sealed class RefusedItemKeyTests(AppFixture app)
{
    [Fact]
    public async Task A_refused_single_post_creates_no_key_for_its_new_customer()
    {
        var invalid = Ids.Customer("refused-400");
        var notYours = Ids.Customer("refused-403");
        var brokenRule = Ids.Customer("refused-rule");
        var accepted = Ids.Customer("accepted");

        var bad = await app.PostTouchpoint(invalid, TouchpointJson.Kind("survey-answered", new JsonObject { ["csat"] = 9, ["comment"] = "too high" }));
        var other = TouchpointJson.Kind("survey-answered", new JsonObject { ["csat"] = 2, ["comment"] = "someone else's" }, source: "refused-other-source");
        var forbidden = await app.PostTouchpoint(notYours, other, Credentials.Key(await app.KeyFor(AppFixture.DefaultSource)));
        var step = await app.PostTouchpoint(brokenRule, TouchpointJson.Kind("complaint-acknowledged",
            new JsonObject { ["complaintId"] = Ids.Unique("no-such-case"), ["reason"] = "Read it" }));
        var good = await app.PostTouchpoint(accepted, TouchpointJson.Kind("survey-answered", new JsonObject { ["csat"] = 4, ["comment"] = "fine" }));

        Assert.Equal(400, bad.Status);
        Assert.Equal(403, forbidden.Status);
        Assert.InRange(step.Status, 409, 422);
        Assert.Equal(201, good.Status);
        Assert.Equal(0, await KeyRows(invalid, notYours, brokenRule));
        Assert.Equal(1, await KeyRows(accepted));
    }

    [Fact]
    public async Task Refused_batch_items_create_no_keys_while_the_accepted_ones_do()
    {
        var invalid = Ids.Customer("batch-400");
        var notYours = Ids.Customer("batch-403");
        var brokenRule = Ids.Customer("batch-rule");
        var accepted = Ids.Customer("batch-ok");
        var items = new JsonNode[]
        {
            TouchpointJson.Kind("survey-answered", new JsonObject { ["nps"] = 11, ["comment"] = "out of range" }, customerId: invalid),
            TouchpointJson.Kind("survey-answered", new JsonObject { ["nps"] = 3, ["comment"] = "not mine" }, customerId: notYours, source: "refused-other-source"),
            TouchpointJson.Kind("complaint-acknowledged", new JsonObject { ["complaintId"] = Ids.Unique("no-such-case"), ["reason"] = "Read it" }, customerId: brokenRule),
            TouchpointJson.Kind("survey-answered", new JsonObject { ["nps"] = 8, ["comment"] = "good" }, customerId: accepted),
        };

        var answer = await app.PostBatch(items);

        Assert.Equal(200, answer.Status);
        Assert.Equal(1, answer.Body.Int("appended"));
        Assert.Equal([0, 1, 2], answer.Body!["rejected"]!.AsArray().Select(r => r!["index"]!.GetValue<int>()));
        Assert.Equal(0, await KeyRows(invalid, notYours, brokenRule));
        Assert.Equal(1, await KeyRows(accepted));
    }

    private async Task<long> KeyRows(params string[] customers)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var count = new NpgsqlCommand($"select count(*) from {app.Schema}_keys.customer_keys where customer_id = any(@ids)", connection);
        count.Parameters.AddWithValue("ids", customers);
        return (long)(await count.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }
}
