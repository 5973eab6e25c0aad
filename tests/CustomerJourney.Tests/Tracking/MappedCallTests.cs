using System.Globalization;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Complaints;
using CustomerJourney.Tests.Support;

namespace CustomerJourney.Tests.Tracking;

/// <summary>
/// A `track` mapped to a moment of truth keeps what its call carried besides the kind's fields (the spec's other
/// properties, the context, Segment's four times) as the tracked kinds do: shown on the journey, sealed with the
/// customer's key, gone with an erasure; while the summary and the complaint cases see the moment exactly as before.
/// </summary>
public sealed class MappedCallTests(AppFixture app)
{
    private static readonly DateTimeOffset May = DateTimeOffset.Parse("2024-05-01T10:00:00Z", CultureInfo.InvariantCulture);

    private Credentials Admin => Credentials.Token(app.Token("admin-ada", "admin"));

    private Credentials Analyst => Credentials.Token(app.Token("analyst-1", "analyst"));

    /// <summary>An Order Completed whose coupon, product name, ip, user agent, campaign and e-mail trait all hold <paramref name="secret"/>.</summary>
    private static JsonObject OrderWithItsCall(string customer, string secret)
    {
        var properties = SegmentClient.OrderCompleted("o-1", 30m);
        properties["coupon"] = $"coupon-{secret}";
        properties["products"]![0]!["name"] = $"disc-{secret}";
        var call = SegmentClient.Track(customer, "Order Completed", properties);
        call["originalTimestamp"] = "2024-05-01T09:59:58.000Z";
        call["sentAt"] = "2024-05-01T10:00:01.000Z";
        call["context"] = new JsonObject
        {
            ["ip"] = $"ip-{secret}",
            ["userAgent"] = $"ua-{secret}",
            ["locale"] = "en-GB",
            ["campaign"] = new JsonObject { ["name"] = $"spring-{secret}", ["source"] = "newsletter", ["medium"] = "email" },
            ["traits"] = new JsonObject { ["email"] = $"{secret}@example.com" },
        };
        return call;
    }

    [Fact]
    public async Task An_order_completed_keeps_the_specs_other_properties_its_context_and_four_times_and_counts_as_a_purchase_as_before()
    {
        var customer = Ids.Customer("seg");
        var secret = Guid.NewGuid().ToString("N");

        var answer = await app.PostV1("/v1/batch", SegmentClient.Batch(OrderWithItsCall(customer, secret)));

        Assert.True(answer.Body.Int("appended") == 1, answer.Body?.ToJsonString());
        var entry = Assert.Single(await app.Journey(customer))!;
        Assert.Equal(("purchase", true, May), (entry["kind"]!.GetValue<string>(), entry["momentOfTruth"]!.GetValue<bool>(), entry["occurredAt"]!.GetValue<DateTimeOffset>()));
        var data = entry["data"]!;
        Assert.Equal((30m, "EUR"), (data["amount"]!.GetValue<decimal>(), data["currency"]!.GetValue<string>()));
        Assert.Equal("""{"sku":"sku-1","quantity":2,"unitPrice":15}""", data["items"]![0]!.ToJsonString());
        var call = data["call"]!;
        var properties = JsonNode.Parse(call["properties"]!.GetValue<string>())!;
        Assert.Equal((2, $"coupon-{secret}", $"disc-{secret}", "p-1"), (properties["tax"]!.GetValue<int>(), properties["coupon"]!.GetValue<string>(),
            properties["products"]![0]!["name"]!.GetValue<string>(), properties["products"]![0]!["product_id"]!.GetValue<string>()));
        Assert.Null(properties["revenue"]);
        Assert.Null(properties["products"]![0]!["sku"]);
        var context = JsonNode.Parse(call["context"]!.GetValue<string>())!;
        Assert.Equal(($"ip-{secret}", $"ua-{secret}", $"spring-{secret}", $"{secret}@example.com"), (context["ip"]!.GetValue<string>(),
            context["userAgent"]!.GetValue<string>(), context["campaign"]!["name"]!.GetValue<string>(), context["traits"]!["email"]!.GetValue<string>()));
        Assert.Equal((DateTimeOffset.Parse("2024-05-01T09:59:58Z", CultureInfo.InvariantCulture), DateTimeOffset.Parse("2024-05-01T10:00:01Z", CultureInfo.InvariantCulture), May),
            (call["originalTimestamp"]!.GetValue<DateTimeOffset>(), call["sentAt"]!.GetValue<DateTimeOffset>(), call["timestamp"]!.GetValue<DateTimeOffset>()));
        Assert.NotNull(call["receivedAt"]);
        Assert.Equal(customer, call["userId"]!.GetValue<string>());

        var summary = await app.Get($"/api/customers/{customer}", Analyst);
        Assert.Equal((1, 30m, May), (summary.Body.Int("purchaseCount"), summary.Body!["totalSpend"]!["EUR"]!.GetValue<decimal>(),
            summary.Body["firstPurchaseAt"]!.GetValue<DateTimeOffset>()));
        var redacted = (await app.Get($"/api/customers/{customer}/journey", Analyst)).Body!["entries"]![0]!["data"]!;
        Assert.Equal(("[redacted]", "[redacted]", "[redacted]"), (redacted["call"]!["properties"]!.GetValue<string>(),
            redacted["call"]!["context"]!.GetValue<string>(), redacted["call"]!["userId"]!.GetValue<string>()));
        Assert.Equal(30m, redacted["amount"]!.GetValue<decimal>());
        Assert.DoesNotContain(secret, redacted.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(0, await app.RowsContaining(secret));
    }

    [Fact]
    public async Task After_erasure_none_of_a_mapped_calls_sealed_values_reads_back_and_the_purchase_still_counts()
    {
        var customer = Ids.Customer("seg");
        var secret = Guid.NewGuid().ToString("N");
        await app.PostV1("/v1/batch", SegmentClient.Batch(OrderWithItsCall(customer, secret)));
        Assert.Contains(secret, (await app.Journey(customer)).ToJsonString(), StringComparison.Ordinal);

        Assert.Equal(200, (await app.Send(HttpMethod.Post, $"/api/customers/{customer}/erasure", null, null, Admin)).Status);

        var journey = await app.Journey(customer);
        var export = await app.Send(HttpMethod.Get, $"/api/customers/{customer}/export", null, null, Admin);
        Assert.DoesNotContain(secret, journey.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, export.Body!.ToJsonString(), StringComparison.Ordinal);
        var call = Assert.Single(journey)!["data"]!["call"]!;
        Assert.Equal(("[erased]", "[erased]", "[erased]"), (call["properties"]!.GetValue<string>(), call["context"]!.GetValue<string>(), call["userId"]!.GetValue<string>()));
        var summary = await app.Get($"/api/customers/{customer}", Analyst);
        Assert.Equal((1, 30m), (summary.Body.Int("purchaseCount"), summary.Body!["totalSpend"]!["EUR"]!.GetValue<decimal>()));
        Assert.Equal(0, await app.RowsContaining(secret));
    }

    [Fact]
    public async Task A_mapped_complaint_keeps_its_call_opens_its_case_as_before_and_its_audit_trail_opens_the_call_for_its_readers()
    {
        var customer = Ids.Customer("seg");
        var complaintId = Ids.Unique("k");
        var secret = Guid.NewGuid().ToString("N");
        var call = SegmentClient.Track(customer, "Complaint Logged", new JsonObject
        {
            ["complaint_id"] = complaintId,
            ["category"] = "delivery",
            ["severity"] = "high",
            ["description"] = "Parcel late",
            ["ticket_url"] = $"https://desk.example/{secret}",
        }, timestamp: ComplaintApi.Now.AddMinutes(-1));
        call["context"] = new JsonObject { ["ip"] = $"ip-{secret}" };

        var answer = await app.PostV1("/v1/track", call);

        Assert.Equal(200, answer.Status);
        var complaint = await app.Get($"/api/complaints/{complaintId}");
        Assert.Equal((200, customer, "logged"), (complaint.Status, complaint.Body!["case"]!["customerId"]!.GetValue<string>(), complaint.Status()));
        Assert.Equal(1, (await app.Get($"/api/customers/{customer}/complaints")).Body.Int("total"));
        var logged = (await app.Journey(customer)).Single(e => e!["kind"]!.GetValue<string>() == "complaint-logged")!;
        Assert.Contains($"https://desk.example/{secret}", logged["data"]!["call"]!["properties"]!.GetValue<string>(), StringComparison.Ordinal);
        var trail = await app.Get($"/api/complaints/{complaintId}/audit", app.As("auditor"));
        var audited = Assert.Single(trail.Body!["entries"]!.AsArray())!["data"]!["call"]!;
        Assert.Equal($"ip-{secret}", JsonNode.Parse(audited["context"]!.GetValue<string>())!["ip"]!.GetValue<string>());
        Assert.Equal(0, await app.RowsContaining(secret));
    }
}
