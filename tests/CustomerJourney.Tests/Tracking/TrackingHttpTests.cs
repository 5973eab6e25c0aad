using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;
using CustomerJourney.TrackingApi;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerJourney.Tests.Tracking;

/// <summary>The Segment tracking API (/v1/*) over HTTP: answers the SDKs understand, exactly once, time, pseudonyms, erasure.</summary>
public sealed class TrackingHttpTests(AppFixture app)
{
    private static readonly DateTimeOffset May = DateTimeOffset.Parse("2024-05-01T10:00:00Z", CultureInfo.InvariantCulture);

    private Credentials Admin => Credentials.Token(app.Token("admin-ada", "admin"));

    [Fact]
    public async Task An_order_completed_becomes_a_purchase_and_resending_it_appends_nothing()
    {
        var customer = Ids.Customer("seg");
        var call = SegmentClient.Track(customer, "Order Completed", SegmentClient.OrderCompleted("o-1", 30m));

        var first = await app.PostV1("/v1/track", call);
        var again = await app.PostV1("/v1/batch", SegmentClient.Batch(call));

        Assert.Equal((200, true), (first.Status, first.Body!["success"]!.GetValue<bool>()));
        Assert.Equal((200, 0, 1), (again.Status, again.Body.Int("appended"), again.Body.Int("duplicates")));
        var entry = Assert.Single(await app.Journey(customer));
        Assert.Equal(("purchase", "web", SegmentClient.Source, call["messageId"]!.GetValue<string>()),
            (entry!["kind"]!.GetValue<string>(), entry["channel"]!.GetValue<string>(), entry["source"]!.GetValue<string>(), entry["sourceId"]!.GetValue<string>()));
        Assert.Equal(30m, entry["data"]!["amount"]!.GetValue<decimal>());
        Assert.Equal("sku-1", entry["data"]!["items"]![0]!["sku"]!.GetValue<string>());
        Assert.Equal(May, entry["occurredAt"]!.GetValue<DateTimeOffset>());
        Assert.True(entry["momentOfTruth"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Moments_of_truth_from_spec_names_are_validated_as_our_own_api_validates_them()
    {
        var customer = Ids.Customer("seg");
        var answer = await app.PostV1("/v1/batch", SegmentClient.Batch(
            SegmentClient.Track(customer, "Order Refunded", new JsonObject { ["order_id"] = "o-2", ["total"] = 10, ["currency"] = "USD" }),
            SegmentClient.Track(customer, "NPS Survey Answered", new JsonObject { ["nps"] = 3, ["comment"] = "Slow", ["survey_name"] = "q2" }),
            SegmentClient.Track(customer, "Consent Given", new JsonObject { ["purpose"] = "marketing-email" }),
            SegmentClient.Track(customer, "Order Completed", SegmentClient.OrderCompleted("o-3", currency: "XYZ")),
            SegmentClient.Track(customer, "CSAT Survey Answered", new JsonObject { ["csat"] = 9 })));

        Assert.Equal((200, 3), (answer.Status, answer.Body.Int("appended")));
        var rejected = answer.Body!["rejected"]!.AsArray();
        Assert.Equal([3, 4], rejected.Select(r => r!["index"]!.GetValue<int>()));
        Assert.Contains("data.currency", rejected[0]!["problem"]!["errors"]!.AsObject().Select(e => e.Key));
        Assert.Contains("data.csat", rejected[1]!["problem"]!["errors"]!.AsObject().Select(e => e.Key));
        var kinds = (await app.Journey(customer)).Select(e => e!["kind"]!.GetValue<string>()).Order().ToList();
        Assert.Equal(["consent-given", "return", "survey-answered"], kinds);
        var summary = await app.Get($"/api/customers/{customer}", Credentials.Token(app.Token("analyst-1", "analyst")));
        Assert.Equal(3, summary.Body.Int("lastNps"));
        Assert.True(summary.Body!["marketingConsent"]!.GetValue<bool>());
        var returned = (await app.Journey(customer)).Single(e => e!["kind"]!.GetValue<string>() == "return");
        Assert.Equal("refunded", returned!["data"]!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Unmapped_tracks_pages_screens_groups_identifies_and_aliases_are_kept_and_are_not_moments_of_truth()
    {
        var customer = Ids.Customer("seg");
        var answer = await app.PostV1("/v1/batch", SegmentClient.Batch(
            SegmentClient.Track(customer, "Wishlist Shared", new JsonObject { ["note"] = "for mum" }),
            new JsonObject { ["type"] = "page", ["userId"] = customer, ["name"] = "Home", ["properties"] = new JsonObject { ["url"] = "https://shop.example/?email=a@b.c" }, ["messageId"] = Ids.Unique("m") },
            new JsonObject { ["type"] = "screen", ["userId"] = customer, ["name"] = "Basket", ["messageId"] = Ids.Unique("m") },
            new JsonObject { ["type"] = "group", ["userId"] = customer, ["groupId"] = "acme", ["traits"] = new JsonObject { ["name"] = "Acme" }, ["messageId"] = Ids.Unique("m") },
            new JsonObject { ["type"] = "identify", ["userId"] = customer, ["traits"] = new JsonObject { ["email"] = "ann@example.com" }, ["messageId"] = Ids.Unique("m") },
            new JsonObject { ["type"] = "alias", ["userId"] = customer, ["previousId"] = "anon-77", ["messageId"] = Ids.Unique("m") }));

        Assert.True(answer.Body.Int("appended") == 6, answer.Body!.ToJsonString());
        var journey = await app.Journey(customer);
        Assert.Equal(["account-grouped", "event-tracked", "identities-aliased", "identity-recorded", "page-viewed", "page-viewed"],
            journey.Select(e => e!["kind"]!.GetValue<string>()).Order().ToList());
        Assert.All(journey, e => Assert.False(e!["momentOfTruth"]!.GetValue<bool>()));
        var tracked = journey.Single(e => e!["kind"]!.GetValue<string>() == "event-tracked")!;
        Assert.Equal("Wishlist Shared", tracked["data"]!["name"]!.GetValue<string>());
        Assert.Equal("for mum", JsonNode.Parse(tracked["data"]!["call"]!["properties"]!.GetValue<string>())!["note"]!.GetValue<string>());
        var analyst = await app.Get($"/api/customers/{customer}/journey", Credentials.Token(app.Token("analyst-1", "analyst")));
        Assert.DoesNotContain("for mum", analyst.Body!.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain("ann@example.com", analyst.Body!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_write_key_may_be_the_basic_auth_user_or_in_the_body_and_unknown_or_missing_keys_get_401()
    {
        var key = await app.KeyFor(SegmentClient.Source);
        var inBody = SegmentClient.Track(Ids.Customer("seg"), "Signed Up");
        inBody["writeKey"] = key;

        Assert.Equal(200, (await app.PostV1("/v1/track", inBody, writeKey: key, basicAuth: false)).Status);
        Assert.Equal(401, (await app.PostV1("/v1/track", SegmentClient.Track(Ids.Customer("seg"), "Signed Up"), writeKey: "cjk.0000000000000000.nope")).Status);
        Assert.Equal(401, (await app.PostV1("/v1/track", SegmentClient.Track(Ids.Customer("seg"), "Signed Up"), writeKey: key, basicAuth: false)).Status);
        // A write key in the body that is not valid Unicode text is no key: 401, not a server error.
        Assert.Equal(401, (await app.PostV1Bytes("/v1/track", "{\"writeKey\":\"\\ud800\",\"type\":\"track\"}"u8.ToArray(), gzip: false, "application/json", writeKey: null)).Status);
        var agent = await app.Send(HttpMethod.Post, "/v1/track", SegmentClient.Track(Ids.Customer("seg"), "Signed Up").ToJsonString(), "application/json",
            Credentials.Token(app.Token("agent-1", "agent")));
        Assert.Equal(403, agent.Status);
    }

    [Fact]
    public async Task A_gzipped_batch_is_read_whatever_its_content_type_says_as_rudderstack_sends_it()
    {
        var customer = Ids.Customer("seg");
        var answer = await app.PostV1("/v1/batch", SegmentClient.Batch(SegmentClient.Track(customer, "Order Completed", SegmentClient.OrderCompleted("o-9"))),
            gzip: true, contentType: "application/x-www-form-urlencoded");

        Assert.True(answer.Status == 200, answer.Body?.ToJsonString());
        Assert.Equal(1, answer.Body.Int("appended"));
    }

    [Fact]
    public async Task Bodies_over_the_limits_after_decompression_are_413_and_an_oversized_call_in_a_batch_is_listed_alone()
    {
        var customer = Ids.Customer("seg");
        var bomb = Encoding.UTF8.GetBytes("{\"batch\":[],\"pad\":\"" + new string('a', 4 * 1024 * 1024) + "\"}");
        var big = SegmentClient.Track(customer, "Big", new JsonObject { ["pad"] = new string('x', 40 * 1024) });

        var gzipBomb = await app.PostV1Bytes("/v1/batch", bomb, gzip: true, "application/json", await app.KeyFor(SegmentClient.Source));
        var single = await app.PostV1("/v1/track", big);
        var whole = await app.PostV1("/v1/batch", SegmentClient.Batch(Enumerable.Range(0, 14).Select(_ => big).ToArray()));
        var mixed = await app.PostV1("/v1/batch", SegmentClient.Batch(big, SegmentClient.Track(customer, "Small")));

        Assert.Equal((413, 413, 413), (gzipBomb.Status, single.Status, whole.Status));
        Assert.Equal("application/problem+json", gzipBomb.ContentType);
        Assert.Equal((200, 1), (mixed.Status, mixed.Body.Int("appended")));
        var rejected = Assert.Single(mixed.Body!["rejected"]!.AsArray());
        Assert.Equal((0, 413), (rejected!["index"]!.GetValue<int>(), rejected["problem"]!["status"]!.GetValue<int>()));
    }

    [Fact]
    public async Task A_body_of_unknown_length_over_the_limit_is_413()
    {
        using var client = app.Host.Server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/track")
        {
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("{\"pad\":\"" + new string('a', 200 * 1024) + "\"}"))),
        };
        request.Content.Headers.ContentType = new("application/json");
        request.Content.Headers.ContentLength = null;
        request.Headers.TransferEncodingChunked = true;
        request.Headers.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(await app.KeyFor(SegmentClient.Source) + ":")));

        using var answer = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(413, (int)answer.StatusCode);
    }

    public static TheoryData<string, string> BadCalls => new()
    {
        { "/v1/track", "{\"userId\":\"u\",\"event\":" },
        { "/v1/track", "{\"event\":\"Signed Up\",\"messageId\":\"m-1\"}" },
        { "/v1/track", "{\"userId\":\"u-1\",\"messageId\":\"m-2\"}" },
        { "/v1/track", "{\"userId\":\"u-1\",\"event\":\"X\",\"timestamp\":\"yesterday\"}" },
        { "/v1/track", "{\"userId\":\"u-1\",\"event\":\"X\",\"properties\":[1]}" },
        { "/v1/identify", "[]" },
        { "/v1/batch", "{\"batch\":{}}" },
        { "/v1/batch", "{\"batch\":[],\"sentAt\":\"soon\"}" },
        { "/v1/batch", "not json" },
    };

    [Theory]
    [MemberData(nameof(BadCalls))]
    public async Task Bad_calls_are_400_problems(string path, string body)
    {
        var answer = await app.PostV1Bytes(path, Encoding.UTF8.GetBytes(body), gzip: false, "application/json", await app.KeyFor(SegmentClient.Source));

        Assert.Equal((400, "application/problem+json"), (answer.Status, answer.ContentType));
    }

    [Fact]
    public async Task A_corrupt_gzip_body_is_400_and_an_unknown_encoding_415()
    {
        var key = await app.KeyFor(SegmentClient.Source);
        using var client = app.Host.Server.CreateClient();

        using var corrupt = await SendEncoded(client, key, "gzip", Encoding.UTF8.GetBytes("not gzip at all"));
        using var brotli = await SendEncoded(client, key, "br", Encoding.UTF8.GetBytes("{}"));

        Assert.Equal((400, 415), ((int)corrupt.StatusCode, (int)brotli.StatusCode));
    }

    private static async Task<HttpResponseMessage> SendEncoded(HttpClient client, string key, string encoding, byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/batch") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Content.Headers.ContentEncoding.Add(encoding);
        request.Headers.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(key + ":")));
        return await client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_client_clock_an_hour_fast_is_corrected_by_the_skew_the_call_measures_and_batch_sent_at_applies()
    {
        var customer = Ids.Customer("seg");
        var now = DateTimeOffset.UtcNow;
        var fast = SegmentClient.Track(customer, "Order Completed", SegmentClient.OrderCompleted("o-fast"), timestamp: now.AddHours(1));
        var batch = SegmentClient.Batch(fast);
        batch["sentAt"] = now.AddHours(1).AddSeconds(2).ToString("O");
        var noSentAt = SegmentClient.Track(customer, "Order Completed", SegmentClient.OrderCompleted("o-future"), timestamp: now.AddHours(1));

        var answer = await app.PostV1("/v1/batch", batch);
        var refused = await app.PostV1("/v1/track", noSentAt);

        Assert.Equal(1, answer.Body.Int("appended"));
        var occurredAt = Assert.Single(await app.Journey(customer))!["occurredAt"]!.GetValue<DateTimeOffset>();
        Assert.InRange(occurredAt, now.AddMinutes(-1), now.AddMinutes(1));
        Assert.Equal(400, refused.Status);
        Assert.Contains("occurredAt", refused.Body!["errors"]!.AsObject().Select(e => e.Key));
    }

    [Fact]
    public async Task Times_and_context_are_kept_on_tracked_touchpoints_and_the_batch_context_is_merged()
    {
        var customer = Ids.Customer("seg");
        var call = SegmentClient.Track(customer, "Newsletter Opened");
        call["originalTimestamp"] = "2024-05-01T09:59:00.000Z";
        call["context"] = new JsonObject { ["ip"] = "203.0.113.7", ["locale"] = "de-DE" };
        var batch = SegmentClient.Batch(call);
        batch["sentAt"] = "2024-05-01T10:00:05.000Z";
        batch["context"] = new JsonObject { ["locale"] = "en-GB", ["userAgent"] = "ua/1" };

        await app.PostV1("/v1/batch", batch);

        var data = Assert.Single(await app.Journey(customer))!["data"]!["call"]!;
        Assert.Equal("2024-05-01T10:00:05.0000000+00:00", data["sentAt"]!.GetValue<DateTimeOffset>().ToString("O"));
        Assert.Equal(May, data["timestamp"]!.GetValue<DateTimeOffset>());
        Assert.NotNull(data["receivedAt"]);
        var context = JsonNode.Parse(data["context"]!.GetValue<string>())!;
        Assert.Equal(("203.0.113.7", "de-DE", "ua/1"), (context["ip"]!.GetValue<string>(), context["locale"]!.GetValue<string>(), context["userAgent"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_email_user_id_is_filed_under_a_stable_pseudonym_and_kept_only_sealed()
    {
        var email = $"{Guid.NewGuid():N}@example.com";
        var first = await app.PostV1("/v1/identify", new JsonObject { ["userId"] = email, ["traits"] = new JsonObject { ["plan"] = "gold" }, ["messageId"] = Ids.Unique("m") });
        await app.PostV1("/v1/track", SegmentClient.Track(email, "Order Completed", SegmentClient.OrderCompleted("o-p")));

        Assert.Equal(200, first.Status);
        var pseudonym = app.Host.Services.GetRequiredService<TrackingKeys>().Pseudonyms.CustomerIdFor(email);
        Assert.StartsWith(Pseudonyms.Prefix, pseudonym, StringComparison.Ordinal);
        var journey = await app.Journey(pseudonym);
        Assert.Equal(["identity-recorded", "purchase"], journey.Select(e => e!["kind"]!.GetValue<string>()).Order().ToList());
        Assert.Equal(email, journey.Single(e => e!["kind"]!.GetValue<string>() == "identity-recorded")!["data"]!["call"]!["userId"]!.GetValue<string>());
        Assert.Equal(pseudonym, app.Host.Services.GetRequiredService<TrackingKeys>().Pseudonyms.CustomerIdFor(email));
        Assert.NotEqual(pseudonym, app.Host.Services.GetRequiredService<TrackingKeys>().Pseudonyms.CustomerIdFor("+44 20 7946 0000"));
        Assert.Equal("plain-id-1", app.Host.Services.GetRequiredService<TrackingKeys>().Pseudonyms.CustomerIdFor("plain-id-1"));
        Assert.StartsWith(Pseudonyms.Prefix, app.Host.Services.GetRequiredService<TrackingKeys>().Pseudonyms.CustomerIdFor("4930123456"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_erasure_nothing_personal_reads_back_a_single_call_answers_200_and_a_batch_lists_the_call()
    {
        var customer = Ids.Customer("seg");
        var secret = Guid.NewGuid().ToString("N");
        var call = SegmentClient.Track(customer, "Wishlist Shared", new JsonObject { ["note"] = secret });
        call["context"] = new JsonObject { ["ip"] = $"ip-{secret}", ["traits"] = new JsonObject { ["email"] = $"{secret}@example.com" } };
        await app.PostV1("/v1/batch", SegmentClient.Batch(call,
            new JsonObject { ["type"] = "identify", ["userId"] = customer, ["traits"] = new JsonObject { ["phone"] = secret }, ["messageId"] = Ids.Unique("m") }));
        Assert.Contains(secret, (await app.Journey(customer)).ToJsonString(), StringComparison.Ordinal);

        Assert.Equal(200, (await app.Send(HttpMethod.Post, $"/api/customers/{customer}/erasure", null, null, Admin)).Status);
        var single = await app.PostV1("/v1/track", SegmentClient.Track(customer, "After Erasure", messageId: $"after-{secret}"));
        var batch = await app.PostV1("/v1/batch", SegmentClient.Batch(SegmentClient.Track(customer, "After Erasure")));

        Assert.DoesNotContain(secret, (await app.Journey(customer)).ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(200, single.Status);
        Assert.Equal((200, 410), (batch.Status, Assert.Single(batch.Body!["rejected"]!.AsArray())!["problem"]!["status"]!.GetValue<int>()));
        var rejections = await app.Get($"/api/tracking/rejections?source={SegmentClient.Source}&limit=500", Admin);
        Assert.Contains(rejections.Body!["recent"]!.AsArray(), r => r!["messageId"]?.GetValue<string>() == $"after-{secret}" && r["status"]!.GetValue<int>() == 410);
    }

    [Fact]
    public async Task Rejected_calls_are_counted_per_source_for_administrators_without_personal_values()
    {
        var secret = $"{Guid.NewGuid():N}@example.com";
        var messageId = Ids.Unique("bad");
        await app.PostV1("/v1/batch", SegmentClient.Batch(
            SegmentClient.Track(secret, "Order Completed", new JsonObject { ["order_id"] = secret, ["revenue"] = -1, ["currency"] = "EUR" }, messageId: messageId)));

        var forbidden = await app.Get("/api/tracking/rejections");
        var answer = await app.Get($"/api/tracking/rejections?source={SegmentClient.Source}&limit=500", Admin);

        Assert.Equal(403, forbidden.Status);
        Assert.True(answer.Body!["counts"]![0]!["count"]!.GetValue<int>() >= 1);
        var rejection = answer.Body!["recent"]!.AsArray().Single(r => r!["messageId"]?.GetValue<string>() == messageId)!;
        Assert.Equal(("Order Completed", 400), (rejection["event"]!.GetValue<string>(), rejection["status"]!.GetValue<int>()));
        Assert.Contains("data.amount", rejection["fields"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.DoesNotContain(secret, answer.Body.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_resends_of_one_message_append_it_once()
    {
        var customer = Ids.Customer("seg");
        var call = SegmentClient.Track(customer, "Order Completed", SegmentClient.OrderCompleted("o-c"));

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => app.PostV1("/v1/batch", SegmentClient.Batch(call))));

        Assert.All(answers, a => Assert.Equal(200, a.Status));
        Assert.Equal(1, answers.Sum(a => a.Body.Int("appended")));
        Assert.Single(await app.Journey(customer));
    }

    [Fact]
    public async Task The_journey_filters_by_kind_and_to_moments_of_truth_also_as_of_an_instant()
    {
        var customer = Ids.Customer("seg");
        await app.PostV1("/v1/batch", SegmentClient.Batch(
            new JsonObject { ["type"] = "page", ["userId"] = customer, ["name"] = "Home", ["messageId"] = Ids.Unique("m"), ["timestamp"] = "2024-05-01T09:00:00Z" },
            SegmentClient.Track(customer, "Order Completed", SegmentClient.OrderCompleted("o-f1")),
            SegmentClient.Track(customer, "Order Completed", SegmentClient.OrderCompleted("o-f2"), timestamp: May.AddDays(1))));
        var recorded = DateTimeOffset.UtcNow;
        await app.PostV1("/v1/track", SegmentClient.Track(customer, "NPS Survey Answered", new JsonObject { ["nps"] = 2 }, timestamp: May.AddDays(2)));

        var pages = await app.Journey(customer, "&kinds=page-viewed");
        var moments = await app.Journey(customer, "&momentsOfTruth=true");
        var momentsThen = await app.Journey(customer, $"&momentsOfTruth=true&asOf={Uri.EscapeDataString(recorded.ToString("O"))}");
        var bad = await app.Get($"/api/customers/{customer}/journey?kinds=nope");

        Assert.Equal(["page-viewed"], pages.Select(e => e!["kind"]!.GetValue<string>()));
        Assert.Equal(["purchase", "survey-answered"], moments.Select(e => e!["kind"]!.GetValue<string>()));
        Assert.Equal(["purchase"], momentsThen.Select(e => e!["kind"]!.GetValue<string>()));
        Assert.Equal(400, bad.Status);
    }
}
