using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Specs.Touchpoints;

/// <summary>Generated touchpoints, mostly wrong in some way: the intake never throws and always explains a refusal.</summary>
public sealed class TouchpointIntakeProperties
{
    private static readonly string[] EnvelopeFields = ["customerId", "kind", "occurredAt", "source", "sourceId", "channel", "correlationId", "data", "surprise"];

    private static readonly string[] DataFields =
    [
        "orderId", "amount", "currency", "items", "reason", "complaintId", "category", "severity", "description", "orderIds", "by", "wording",
        "remedy", "outcome", "satisfied", "notes", "csat", "nps", "comment", "topic", "resolvedOnFirstContact", "points", "purpose", "name",
        "email", "phone", "unknown",
    ];

    private static JsonNode?[] Values() =>
    [
        null, true, false, 0, -1, 3, 11, 1.5, 1e300, 0.00001m, "", " ", "x", "c-1", "2024-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "1969-01-01T00:00:00Z",
        "a\u0000b", "\ud800", "purchase", "return", "survey-answered", "complaint-logged", "consent-given", "contact-details-changed",
        "follow-up-call", "web", "phone", "USD", "usd", "high", "refund", "reached", "not-reached", "marketing-email", "a@example.com",
        "+44 20 7946 0000", new string('x', 5000), new JsonArray(), new JsonArray("o-1"), new JsonArray(1, 2),
        new JsonArray(new JsonObject { ["sku"] = "s", ["quantity"] = 1, ["unitPrice"] = 1 }), new JsonObject(), new JsonObject { ["csat"] = 4 },
    ];

    private static readonly Gen<JsonObject> Touchpoints =
        Gen.Int[-1, Values().Length - 1].Array[EnvelopeFields.Length]
            .Select(Gen.Int[-1, Values().Length - 1].Array[DataFields.Length], (envelope, data) =>
            {
                var dataObject = Build(DataFields, data);
                var json = Build(EnvelopeFields, envelope);
                if (envelope[Array.IndexOf(EnvelopeFields, "data")] >= 0)
                {
                    json["data"] = dataObject;
                }

                return json;
            });

    private static JsonObject Build(string[] fields, int[] choices)
    {
        var values = Values();
        var json = new JsonObject();
        for (var i = 0; i < fields.Length; i++)
        {
            if (choices[i] >= 0)
            {
                json[fields[i]] = values[choices[i]]?.DeepClone();
            }
        }

        return json;
    }

    [Fact]
    public void Reading_any_touchpoint_never_throws_and_a_refusal_always_names_a_field()
    {
        var now = DateTimeOffset.Parse("2025-01-01T00:00:00Z", CultureInfo.InvariantCulture);
        Touchpoints.Sample(body =>
        {
            using var document = JsonDocument.Parse(body.ToJsonString());
            foreach (var route in new[] { null, "c-1", "bad id" })
            {
                var result = TouchpointIntake.Read(document.RootElement, route, now, new PlaintextPersonalData());
                if (result.Accepted)
                {
                    Assert.Equal(route ?? body["customerId"]!.GetValue<string>(), result.Touchpoint!.CustomerId);
                }
                else
                {
                    Assert.True(result.Errors.Any);
                    Assert.Null(result.Touchpoint);
                }
            }
        }, iter: 10_000);
    }
}
