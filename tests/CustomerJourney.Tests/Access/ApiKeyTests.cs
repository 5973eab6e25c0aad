using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;

namespace CustomerJourney.Tests.Access;

public sealed class ApiKeyTests(AppFixture app)
{
    private Credentials Admin => Credentials.Token(app.Token("admin-ada", "admin"));

    private async Task<(string Id, string Key)> CreateKey(string source)
    {
        var created = await app.Send(HttpMethod.Post, "/api/access/keys", new JsonObject { ["source"] = source }.ToJsonString(), "application/json", Admin);
        Assert.Equal(201, created.Status);
        return (created.Body!["id"]!.GetValue<string>(), created.Body!["key"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_admin_creates_a_key_shown_once_lists_it_without_secret_and_revocation_stops_it_at_once()
    {
        var source = Ids.Unique("src");
        var (id, key) = await CreateKey(source);
        var customer = Ids.Customer();

        var before = await app.PostTouchpoint(customer, TouchpointJson.Purchase(source: source), Credentials.Key(key));
        var listed = await app.Get("/api/access/keys", Admin);
        var revoked = await app.Send(HttpMethod.Delete, $"/api/access/keys/{id}", null, null, Admin);
        var after = await app.PostTouchpoint(customer, TouchpointJson.Purchase(source: source), Credentials.Key(key));

        Assert.Equal(201, before.Status);
        var entry = listed.Body!.AsArray().Single(k => k!["id"]!.GetValue<string>() == id)!;
        Assert.Equal(source, entry["source"]!.GetValue<string>());
        Assert.DoesNotContain(key.Split('.')[2], listed.Body.ToJsonString(), StringComparison.Ordinal);
        Assert.Null(entry["key"]);
        Assert.Equal(200, revoked.Status);
        Assert.NotNull(revoked.Body!["revokedAt"]);
        Assert.Equal((401, "application/problem+json"), (after.Status, after.ContentType));
    }

    [Theory]
    [InlineData("staff")]
    [InlineData("Staff")]
    public async Task No_key_is_issued_for_the_staff_source_which_is_reserved_for_people(string source)
    {
        var refused = await app.Send(HttpMethod.Post, "/api/access/keys", new JsonObject { ["source"] = source }.ToJsonString(), "application/json", Admin);
        var keys = await app.Get("/api/access/keys", Admin);

        Assert.Equal((400, "application/problem+json"), (refused.Status, refused.ContentType));
        Assert.NotNull(refused.Body!["errors"]!["source"]);
        // The fixture stores keys directly, so only keys this admin asked for count.
        Assert.DoesNotContain(keys.Body!.AsArray(), k => k!["createdBy"]!.GetValue<string>() == "user:admin-ada" &&
                                                          string.Equals(k["source"]!.GetValue<string>(), source, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Keys_are_stored_hashed()
    {
        var (id, key) = await CreateKey(Ids.Unique("src"));

        await using var connection = new Npgsql.NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var select = new Npgsql.NpgsqlCommand($"select data::text from {app.Schema}.mt_doc_apikey where id = @id", connection);
        select.Parameters.AddWithValue("id", id);
        var raw = await select.ExecuteScalarAsync(TestContext.Current.CancellationToken);

        Assert.DoesNotContain(key.Split('.')[2], (string)raw!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_may_only_post_touchpoints_of_its_own_source()
    {
        var keyA = await app.KeyFor("source-a");
        var customer = Ids.Customer();

        var single = await app.PostTouchpoint(customer, TouchpointJson.Purchase(source: "source-b"), Credentials.Key(keyA));
        var batch = await app.PostBatch([TouchpointJson.Purchase(customer, source: "source-a"), TouchpointJson.Purchase(customer, source: "source-b")], Credentials.Key(keyA));

        Assert.Equal((403, "application/problem+json"), (single.Status, single.ContentType));
        Assert.Equal(200, batch.Status);
        Assert.Equal(1, batch.Body.Int("appended"));
        Assert.Equal(403, batch.Body!["rejected"]![0]!["problem"]!["status"]!.GetValue<int>());
        Assert.Equal(1, batch.Body!["rejected"]![0]!["index"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("nonsense")]
    [InlineData("cjk.0000000000000000.wrong")]
    [InlineData("cjk..")]
    public async Task An_unknown_or_malformed_key_answers_401(string key)
    {
        var answer = await app.PostTouchpoint(Ids.Customer(), TouchpointJson.Purchase(), Credentials.Key(key));

        Assert.Equal((401, "application/problem+json"), (answer.Status, answer.ContentType));
    }

    [Fact]
    public async Task A_key_with_the_right_id_but_a_wrong_secret_answers_401()
    {
        var (_, key) = await CreateKey(Ids.Unique("src"));
        var parts = key.Split('.');

        var answer = await app.PostTouchpoint(Ids.Customer(), TouchpointJson.Purchase(), Credentials.Key($"{parts[0]}.{parts[1]}.{parts[2][..^2]}xx"));

        Assert.Equal(401, answer.Status);
    }

    [Fact]
    public async Task Staff_post_with_the_staff_source_and_an_agent_bound_to_a_channel_only_for_that_channel()
    {
        var customer = Ids.Customer();
        var phoneAgent = Credentials.Token(app.Token("agent-pat", ["agent"], channel: "phone"));
        var call = TouchpointJson.Kind("follow-up-call", new JsonObject { ["outcome"] = "reached", ["satisfied"] = true }, source: "staff", channel: "phone");

        var allowed = await app.PostTouchpoint(customer, call, phoneAgent);
        var otherChannel = await app.PostTouchpoint(customer, call.With("channel", "web").With("sourceId", Ids.Unique()), phoneAgent);
        var systemSource = await app.PostTouchpoint(customer, call.With("source", "crm").With("sourceId", Ids.Unique()), phoneAgent);
        var journey = await app.Get($"/api/customers/{customer}/journey");

        Assert.Equal(201, allowed.Status);
        Assert.Equal(403, otherChannel.Status);
        Assert.Equal(403, systemSource.Status);
        Assert.Equal("user:agent-pat", journey.Body!["entries"]![0]!["recordedBy"]!.GetValue<string>());
    }
}
