using System.Globalization;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Complaints;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;
using Newtonsoft.Json.Linq;
using Snapshooter;
using Snapshooter.Xunit3;
using static CustomerJourney.Tests.Contracts.Answers;

namespace CustomerJourney.Tests.Contracts;

/// <summary>
/// Snapshots (Snapshooter, under __snapshots__) of every event as stored and of each endpoint's answer. A
/// changed snapshot means stored data or clients change: review it, then delete the old .snap file to accept.
/// </summary>
// One collection: the audit tests sign every case's chain head at once (as an admin does), which would slip a signed head
// into the complaint snapshot's verify answer if the two ran side by side.
[Collection("Signed chain heads")]
public sealed class ContractSnapshots(AppFixture app)
{
    private static JToken Token(string json) => JToken.Parse(json);

    public static TheoryData<string> Kinds => new(TouchpointCatalogue.Names);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Each_event_is_stored_as_this_json(string kind)
    {
        var data = TouchpointExamples.DataFor(kind);
        var body = TouchpointJson.Kind(kind, data, occurredAt: DateTimeOffset.Parse("2024-05-01T10:00:00+02:00", CultureInfo.InvariantCulture),
            source: "crm", sourceId: "snapshot-1").With("correlationId", "corr-1");
        using var document = System.Text.Json.JsonDocument.Parse(body.ToJsonString());
        var touchpoint = TouchpointIntake.Read(document.RootElement, "customer-1", DateTimeOffset.UnixEpoch.AddYears(60), new PlaintextPersonalData()).Touchpoint!;

        var stored = app.Store.Options.Serializer().ToJson(touchpoint);

        Snapshot.Match(Token(stored), SnapshotNameExtension.Create(kind));
    }

    public static TheoryData<string> TrackedKinds => new(TouchpointCatalogue.Tracked.Select(k => k.Name));

    /// <summary>The Segment tracking API's own kinds (Tracking/), stored like every other touchpoint.</summary>
    [Theory]
    [MemberData(nameof(TrackedKinds))]
    public void Each_tracked_event_is_stored_as_this_json(string kind)
    {
        var body = TouchpointJson.Kind(kind, Tracking.TrackedExamples.DataFor(kind), occurredAt: DateTimeOffset.Parse("2024-05-01T10:00:00+02:00", CultureInfo.InvariantCulture),
            source: "shop", sourceId: "snapshot-1", channel: "web");
        using var document = System.Text.Json.JsonDocument.Parse(body.ToJsonString());
        var read = TouchpointIntake.Read(document.RootElement, "customer-1", DateTimeOffset.UnixEpoch.AddYears(60), new PlaintextPersonalData());
        Assert.True(read.Accepted, string.Join("; ", read.Errors.ToDictionary().Select(e => $"{e.Key}: {string.Join(",", e.Value)}")));

        Snapshot.Match(Token(app.Store.Options.Serializer().ToJson(read.Touchpoint!)), SnapshotNameExtension.Create(kind));
    }

    [Fact]
    public async Task Ingestion_answers_have_this_shape()
    {
        const string customer = "snapshot-ingestion";
        var created = await app.PostTouchpoint(customer, TouchpointJson.Purchase(sourceId: "snap-1"));
        var duplicate = await app.PostTouchpoint(customer, TouchpointJson.Purchase(sourceId: "snap-1"));
        var invalid = await app.PostTouchpoint(customer, TouchpointJson.Purchase(sourceId: "snap-2").With("data.currency", "XYZ").With("channel", "fax"));
        var batch = await app.PostBatch([TouchpointJson.Purchase(customer, sourceId: "snap-3"), TouchpointJson.Purchase(customer, sourceId: "snap-1"), TouchpointJson.Purchase(customer).With("kind", "nope")]);
        var tooBig = await app.PostBatch(Enumerable.Range(0, 10_001).Select(_ => new JsonObject()));

        Snapshot.Match(Stable(new JsonObject
        {
            ["created"] = created.Body!.DeepClone(),
            ["duplicate"] = duplicate.Body!.DeepClone(),
            ["invalid"] = invalid.Body!.DeepClone(),
            ["batch"] = batch.Body!.DeepClone(),
            ["tooBig"] = tooBig.Body!.DeepClone(),
        }));
    }

    [Fact]
    public async Task Import_answers_have_this_shape()
    {
        const string customer = "snapshot-import";
        var lines = string.Join("\n", new JsonNode[]
        {
            TouchpointJson.Purchase(customer, DateTimeOffset.Parse("2001-02-01T00:00:00Z", CultureInfo.InvariantCulture), 12m, sourceId: "snap-i1"),
            TouchpointJson.Purchase(customer, sourceId: "snap-i2").With("kind", "nope"),
        }.Select(n => n.ToJsonString()));
        var key = Credentials.Key(await app.KeyFor(AppFixture.DefaultSource));
        var accepted = await app.Send(HttpMethod.Post, "/api/imports", lines + "\n", "application/x-ndjson", key);
        var status = await app.Get(accepted.Response.Headers.Location!.ToString(), key);
        var unknown = await app.Get("/api/imports/snapshot-nothing", key);
        var notNdJson = await app.Send(HttpMethod.Post, "/api/imports", "a,b\n", "text/csv", key);

        // Whether the projections have caught up yet depends on everything else the shared host is doing.
        Snapshot.Match(Masked(Stable(new JsonObject
        {
            ["accepted"] = accepted.Body!.DeepClone(),
            ["status"] = status.Body!.DeepClone(),
            ["unknown"] = unknown.Body!.DeepClone(),
            ["notNdJson"] = notNdJson.Body!.DeepClone(),
        }), "id", "state", "progress", "eventsBehind", "reactionsPending", "startedAt", "appendedAt"));
    }

    [Fact]
    public async Task Journey_and_summary_answers_have_this_shape()
    {
        // Dated after the CDNOW years, so that churn fits over the whole test store see only the CDNOW cohort.
        const string customer = "snapshot-journey";
        await app.PostBatch(
        [
            TouchpointJson.Purchase(customer, DateTimeOffset.Parse("2001-01-01T00:00:00Z", CultureInfo.InvariantCulture), 29.33m, sourceId: "snap-j1"),
            TouchpointJson.Kind("complaint-logged", new JsonObject { ["complaintId"] = "snap-k1", ["category"] = "delivery", ["severity"] = "high", ["description"] = "Arrived late", ["orderIds"] = new JsonArray("snap-j1") },
                customer, DateTimeOffset.Parse("2001-01-03T09:30:00Z", CultureInfo.InvariantCulture), sourceId: "snap-j2"),
            TouchpointJson.Kind("consent-given", new JsonObject { ["purpose"] = "marketing-email" }, customer, DateTimeOffset.Parse("2001-01-01T00:00:00Z", CultureInfo.InvariantCulture), sourceId: "snap-j3", channel: "web"),
        ]);

        var journey = await app.Get($"/api/customers/{customer}/journey");
        var summary = await app.Get($"/api/customers/{customer}");
        var unknown = await app.Get("/api/customers/snapshot-nobody/journey");

        Snapshot.Match(Stable(new JsonObject
        {
            ["journey"] = journey.Body!.DeepClone(),
            ["summary"] = summary.Body!.DeepClone(),
            ["unknown"] = unknown.Body!.DeepClone(),
        }));
    }

    [Fact]
    public async Task Complaint_answers_have_this_shape()
    {
        const string customer = "snapshot-complaints";
        const string id = "snap-c1";
        DateTimeOffset At(string instant) => DateTimeOffset.Parse(instant, CultureInfo.InvariantCulture);
        JsonObject Step(string kind, JsonObject data, string at) => TouchpointJson.Kind(kind, data.With("complaintId", id), customer, At(at), sourceId: $"snap-c1-{kind}");

        // One batch, one transaction: these past promises are all kept, so no timer slips a breach in between.
        var batch = await app.PostBatch(
        [
            TouchpointJson.Purchase(customer, At("2001-02-01T00:00:00Z"), 40m, sourceId: "snap-c-o1"),
            Step("complaint-logged", new JsonObject { ["category"] = "delivery", ["severity"] = "high", ["description"] = "Arrived late", ["orderIds"] = new JsonArray("snap-c-o1") }, "2001-02-02T09:00:00Z"),
            Step("complaint-acknowledged", [], "2001-02-02T10:00:00Z").With("correlationId", "crm-ticket-7"),
            Step("apology-issued", new JsonObject { ["by"] = "Ann", ["wording"] = "We are sorry" }, "2001-02-02T11:00:00Z"),
            Step("remedy-offered", new JsonObject { ["remedy"] = "refund", ["amount"] = 15, ["currency"] = "USD" }, "2001-02-02T12:00:00Z"),
            Step("remedy-accepted", [], "2001-02-02T13:00:00Z"),
            Step("complaint-resolved", new JsonObject { ["rootCause"] = "carrier-delay", ["summary"] = "Refunded the postage" }, "2001-02-03T09:00:00Z"),
            Step("follow-up-call", new JsonObject { ["outcome"] = "reached", ["satisfied"] = true }, "2001-02-03T15:00:00Z"),
            Step("complaint-closed", [], "2001-02-04T09:00:00Z"),
        ]);
        Assert.True(batch.Body.Int("appended") == 9, batch.Body?.ToJsonString());

        var logged = (await app.Call(HttpMethod.Post, "/api/complaints", new JsonObject
        {
            ["complaintId"] = "snap-c2", ["customerId"] = customer, ["category"] = "billing", ["severity"] = "critical",
            ["description"] = "Charged twice", ["orderIds"] = new JsonArray("snap-c-o1"), ["channel"] = "phone", ["occurredAt"] = "2001-03-01T09:00:00Z",
        }, app.Agent())).Body!.DeepClone();
        // Its promises fell due in 2001: the timer records the breaches at once, so wait for them rather than race them.
        await Waiting.Until(async () => (await app.Get("/api/complaints/snap-c2")).Body?["case"]?["breaches"]?.AsArray().Count > 0,
            TimeSpan.FromSeconds(60), "the breaches of snap-c2 to be recorded");
        // Heads are signed periodically and by any admin's request in other tests; sign the case's head now, so the
        // verification always checks one stored head, whichever test ran first.
        Assert.Equal(200, (await app.Call(HttpMethod.Post, "/api/complaints/audit/heads", null, app.As("admin"))).Status);
        var answers = new JsonObject
        {
            ["logged"] = logged,
            ["stale"] = (await app.Step(id, "reopen", 1, new JsonObject { ["reason"] = "Again" }, At("2001-02-05T09:00:00Z"))).Body!.DeepClone(),
            ["closed"] = (await app.Step(id, "reopen", 9, new JsonObject { ["reason"] = "Again" }, At("2001-02-05T09:00:00Z"))).Body!.DeepClone(),
            ["withoutVersion"] = (await app.Call(HttpMethod.Post, $"/api/complaints/{id}/close", new JsonObject(), app.Agent())).Body!.DeepClone(),
            ["case"] = (await app.Get($"/api/complaints/{id}")).Body!.DeepClone(),
            ["customerCases"] = (await app.Get($"/api/customers/{customer}/complaints")).Body!.DeepClone(),
            ["sla"] = (await app.Get($"/api/complaints/{id}/sla?policy=business-hours")).Body!.DeepClone(),
            ["audit"] = (await app.Get($"/api/complaints/{id}/audit", app.As("auditor"))).Body!.DeepClone(),
            ["verify"] = (await app.Get($"/api/complaints/{id}/audit/verify", app.As("auditor"))).Body!.DeepClone(),
        };

        // The audit trail's correlationId is the caller's (crm-ticket-7 on the acknowledgement), so it is not masked; its traceId varies.
        var token = Masked(Stable(answers, "$.audit.entries[*].traceId"), "sequence", "sourceId", "traceId", "causationId", "entryHash", "chainHash",
            "previousHash", "headHash", "counted", "overdueBy");
        // The what-if clocks are computed as of the request.
        token["sla"]!["at"] = "<now>";
        // The audit trail shows personal fields opened for auditors, as the journey does; no sealed text reaches an answer.
        Snapshot.Match(token);
    }

    [Fact]
    public async Task Export_answers_have_this_shape()
    {
        const string customer = "snapshot-export";
        const string id = "snap-e1";
        DateTimeOffset At(string instant) => DateTimeOffset.Parse(instant, CultureInfo.InvariantCulture);
        JsonObject Step(string kind, JsonObject data, string at) => TouchpointJson.Kind(kind, data.With("complaintId", id), customer, At(at), sourceId: $"snap-e1-{kind}");

        // No purchase, and every promise of the case kept in one batch: no churn flag or breach can arrive while the test reads.
        // An e-mail no other test sends: a shared one would link this customer into another test's profile, and the erasure
        // below (naming no members) would rightly answer 409.
        var batch = await app.PostBatch(
        [
            TouchpointJson.Kind("consent-given", new JsonObject { ["purpose"] = "marketing-email" }, customer, At("2001-04-01T00:00:00Z"), sourceId: "snap-e-consent", channel: "web"),
            TouchpointJson.Kind("contact-details-changed", new JsonObject { ["name"] = "Ann Example", ["email"] = "snapshot-export@example.com" }, customer, At("2001-04-01T00:00:00Z"),
                sourceId: "snap-e-contact", channel: "web"),
            Step("complaint-logged", new JsonObject { ["category"] = "delivery", ["severity"] = "low", ["description"] = "Arrived late" }, "2001-04-02T09:00:00Z"),
            Step("complaint-acknowledged", [], "2001-04-02T10:00:00Z"),
            Step("apology-issued", new JsonObject { ["by"] = "Ann", ["wording"] = "We are sorry" }, "2001-04-02T11:00:00Z"),
            Step("remedy-offered", new JsonObject { ["remedy"] = "goodwill-credit", ["amount"] = 5, ["currency"] = "USD" }, "2001-04-02T12:00:00Z"),
            Step("remedy-accepted", [], "2001-04-02T13:00:00Z"),
            Step("complaint-resolved", new JsonObject { ["rootCause"] = "carrier-delay", ["summary"] = "Credited 5 USD" }, "2001-04-03T09:00:00Z"),
            Step("follow-up-call", new JsonObject { ["outcome"] = "reached", ["satisfied"] = true }, "2001-04-03T15:00:00Z"),
            Step("complaint-closed", [], "2001-04-04T09:00:00Z"),
        ]);
        Assert.True(batch.Body.Int("appended") == 10, batch.Body?.ToJsonString());
        var admin = Credentials.Token(app.Token("admin-ada", "admin"));

        var before = await app.Get($"/api/customers/{customer}/export", admin);
        Assert.Equal(200, (await app.Send(HttpMethod.Post, $"/api/customers/{customer}/erasure", null, null, admin)).Status);
        var after = await app.Get($"/api/customers/{customer}/export", admin);
        var invalid = await app.Get("/api/customers/not%20valid/export", admin);

        var token = Masked(Stable(new JsonObject
        {
            ["before"] = before.Body!.DeepClone(),
            ["after"] = after.Body!.DeepClone(),
            ["invalid"] = invalid.Body!.DeepClone(),
        }), "exportedAt", "erasedAt", "counted", "overdueBy");
        Snapshot.Match(token);
    }
}
