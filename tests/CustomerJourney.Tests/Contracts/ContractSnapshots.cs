using System.Globalization;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;
using Marten;
using Newtonsoft.Json.Linq;
using Snapshooter;
using Snapshooter.Xunit3;

namespace CustomerJourney.Tests.Contracts;

/// <summary>
/// Snapshots (Snapshooter, under __snapshots__) of every event as stored and of each endpoint's answer. A
/// changed snapshot means stored data or clients change: review it, then delete the old .snap file to accept.
/// </summary>
public sealed class ContractSnapshots(AppFixture app)
{
    private static JToken Token(string json) => JToken.Parse(json);

    /// <summary>The answer without the values that differ on every run (trace ids, record times).</summary>
    private static JToken Stable(JsonObject answers)
    {
        var token = Token(answers.ToJsonString());
        foreach (var volatileField in token.SelectTokens("$..traceId").Concat(token.SelectTokens("$..recordedAt")).ToList())
        {
            volatileField.Parent!.Remove();
        }

        // API key ids are random per run.
        foreach (var recordedBy in token.SelectTokens("$..recordedBy").OfType<JValue>().Where(v => v.Value is string))
        {
            recordedBy.Value = System.Text.RegularExpressions.Regex.Replace((string)recordedBy.Value!, "^key:[0-9a-f]{16}$", "key:<id>");
        }

        return token;
    }

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
}
