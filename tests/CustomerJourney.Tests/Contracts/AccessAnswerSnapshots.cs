using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;
using CustomerJourney.Tests.WinBack;
using Snapshooter.Xunit3;
using static CustomerJourney.Tests.Contracts.Answers;

namespace CustomerJourney.Tests.Contracts;

/// <summary>
/// Snapshots of the access answers (API keys, erasure, Development tokens, 401 and 403) and of the health answers. Both run
/// on a <see cref="WinBackHost"/> of their own: the key list holds every key of the store, and the projection health
/// names every shard's position, so the shared host's would depend on the other tests.
/// </summary>
public sealed class AccessAnswerSnapshots
{
    [Fact]
    public async Task Access_answers_have_this_shape()
    {
        await using var host = await WinBackHost.StartAsync();
        var admin = Bearer(host.Host, "admin-1", "admin");
        Task<JsonObject> As(Credentials who, HttpMethod method, string url, JsonNode? body = null) => Call(host.Host, method, url, who, body);
        await host.Record(TouchpointJson.Make("consent-given", "ac-1", new DateTimeOffset(2010, 1, 1, 0, 0, 0, TimeSpan.Zero), "staff", "ac-1-c", "web",
            new JsonObject { ["purpose"] = "marketing-email" }));

        var created = await As(admin, HttpMethod.Post, "/api/access/keys", new JsonObject { ["source"] = "crm" });
        Assert.True((int)created["status"]! == 201, created.ToJsonString());
        var keyId = created["body"]!["id"]!.GetValue<string>();
        var key = Credentials.Key(created["body"]!["key"]!.GetValue<string>());
        var touchpoint = TouchpointJson.Make("consent-given", null, new DateTimeOffset(2010, 1, 1, 0, 0, 0, TimeSpan.Zero), "crm", "ac-2-c", "web",
            new JsonObject { ["purpose"] = "marketing-email" });
        Assert.Equal(201, (int)(await As(key, HttpMethod.Post, "/api/customers/ac-2/touchpoints", touchpoint))["status"]!);

        var answers = new JsonObject
        {
            ["created"] = created,
            ["createInvalid"] = await As(admin, HttpMethod.Post, "/api/access/keys", new JsonObject { ["source"] = "staff", ["owner"] = "me" }),
            ["createNotAnObject"] = await As(admin, HttpMethod.Post, "/api/access/keys", new JsonArray("crm")),
            ["revoked"] = await As(admin, HttpMethod.Delete, $"/api/access/keys/{keyId}"),
            ["revokedAgain"] = await As(admin, HttpMethod.Delete, $"/api/access/keys/{keyId}"),
            ["revokeUnknown"] = await As(admin, HttpMethod.Delete, "/api/access/keys/0000000000000000"),
            ["list"] = await As(admin, HttpMethod.Get, "/api/access/keys"),
            ["revokedKeyUsed"] = await As(key, HttpMethod.Post, "/api/customers/ac-2/touchpoints", touchpoint.With("sourceId", "ac-2-c2")),
            ["erased"] = await As(admin, HttpMethod.Post, "/api/customers/ac-1/erasure"),
            ["erasedAgain"] = await As(admin, HttpMethod.Post, "/api/customers/ac-1/erasure"),
            ["eraseUnknown"] = await As(admin, HttpMethod.Post, "/api/customers/ac-nobody/erasure"),
            ["eraseInvalid"] = await As(admin, HttpMethod.Post, "/api/customers/not%20valid/erasure"),
            ["developmentToken"] = await As(Credentials.None, HttpMethod.Post, "/api/dev/tokens", new JsonObject { ["name"] = "ann", ["roles"] = new JsonArray("analyst", "marketing"), ["channel"] = "web" }),
            ["developmentTokenInvalid"] = await As(Credentials.None, HttpMethod.Post, "/api/dev/tokens", new JsonObject { ["name"] = "not valid", ["roles"] = new JsonArray("root"), ["channel"] = "fax" }),
            ["withoutCredentials"] = await As(Credentials.None, HttpMethod.Get, "/api/access/keys"),
            ["withAForgedToken"] = await As(Credentials.Token("e30.e30.e30"), HttpMethod.Get, "/api/access/keys"),
            ["withAnUnknownKey"] = await As(Credentials.Key("cj_unknown"), HttpMethod.Post, "/api/customers/ac-2/touchpoints", touchpoint),
            ["forbidden"] = await As(Bearer(host.Host, "agent-1", "agent"), HttpMethod.Get, "/api/access/keys"),
            ["forbiddenErasure"] = await As(Bearer(host.Host, "analyst-1", "analyst"), HttpMethod.Post, "/api/customers/ac-2/erasure"),
        };

        // Masked below, so said here: a repeat keeps the first revocation and erasure.
        Assert.Equal(answers["revoked"]!["body"]!["revokedAt"]!.ToJsonString(), answers["revokedAgain"]!["body"]!["revokedAt"]!.ToJsonString());
        Assert.Equal(answers["erased"]!["body"]!["erasedAt"]!.ToJsonString(), answers["erasedAgain"]!["body"]!["erasedAt"]!.ToJsonString());
        var token = Masked(Stable(answers),
            // A key's id and secret are random per key; the secret is in the create answer only.
            "id", "key", "location",
            // Wall-clock instants of this run.
            "createdAt", "revokedAt", "erasedAt", "expiresAt",
            // A signed token of this run (its expiry is in it).
            "$.developmentToken.body.token");
        Snapshot.Match(token);
    }

    [Fact]
    public async Task Health_answers_have_this_shape()
    {
        await using var host = await WinBackHost.StartAsync();
        // A store with one event: the shard appears once it has run, so wait until it has caught up with it.
        await host.Record(TouchpointJson.Make("consent-given", "health-1", new DateTimeOffset(2010, 1, 1, 0, 0, 0, TimeSpan.Zero), "staff", "health-1-c", "web",
            new JsonObject { ["purpose"] = "marketing-email" }));
        JsonObject projections = null!;
        await Waiting.Until(async () =>
        {
            projections = await Call(host.Host, HttpMethod.Get, "/health/projections", Credentials.None);
            var shards = projections["body"]?["checks"]?["projections"]?["data"]?.AsObject().Where(s => s.Value is JsonObject).ToList() ?? [];
            return (int)projections["status"]! == 200 && shards.Count == 1
                && shards.All(s => s.Value!["agentStatus"]?.GetValue<string>() == "Running" && s.Value!["behind"]?.GetValue<long>() == 0);
        }, TimeSpan.FromSeconds(60), "the customer projections' shard (summaries and purchase histories together) running and caught up");

        Snapshot.Match(Stable(new JsonObject
        {
            ["live"] = await Call(host.Host, HttpMethod.Get, "/health/live", Credentials.None),
            ["ready"] = await Call(host.Host, HttpMethod.Get, "/health/ready", Credentials.None),
            ["projections"] = projections,
        }));
    }
}
