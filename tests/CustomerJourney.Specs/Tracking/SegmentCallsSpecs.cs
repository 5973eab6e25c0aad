using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CustomerJourney.Specs.Touchpoints;
using CustomerJourney.Touchpoints;
using CustomerJourney.TrackingApi;

namespace CustomerJourney.Specs.Tracking;

/// <summary>
/// How a Segment call becomes touchpoint JSON, and that the intake reads it: a mapped moment of truth keeps its call (what
/// its mapping left of the properties, the context, the four times) sealed as the tracked kinds do, and its mapped fields
/// are validated as before.
/// </summary>
public sealed class SegmentCallsSpecs
{
    private static readonly DateTimeOffset Received = DateTimeOffset.Parse("2024-05-01T10:00:02Z", CultureInfo.InvariantCulture);
    private static readonly Pseudonyms Keys = new(Convert.FromBase64String(TrackingOptions.DevelopmentPseudonymKey));

    internal static TranslatedCall Translate(JsonObject call, TrackingOptions? options = null)
    {
        using var document = JsonDocument.Parse(call.ToJsonString());
        return SegmentCalls.Translate(document.RootElement, null, BatchDefaults.None, "shop", Received, Keys, options ?? new TrackingOptions());
    }

    internal static IntakeResult Intake(JsonObject touchpoint, IPersonalDataCipher? personal = null)
    {
        using var document = JsonDocument.Parse(touchpoint.ToJsonString());
        return TouchpointIntake.Read(document.RootElement, null, Received, personal ?? new PlaintextPersonalData());
    }

    internal static JsonObject Track(string @event, JsonObject properties, JsonObject? consent = null, string messageId = "m-1") => new()
    {
        ["type"] = "track",
        ["userId"] = "c-1",
        ["event"] = @event,
        ["messageId"] = messageId,
        ["timestamp"] = "2024-05-01T10:00:00.000Z",
        ["properties"] = properties,
        ["context"] = new JsonObject { ["ip"] = "203.0.113.7", ["consent"] = consent is null ? null : new JsonObject { ["categoryPreferences"] = consent } },
    };

    private static JsonObject Order() => new()
    {
        ["order_id"] = "o-1",
        ["revenue"] = 30,
        ["total"] = 32,
        ["tax"] = 2,
        ["coupon"] = "SUMMER",
        ["currency"] = "EUR",
        ["products"] = new JsonArray(
            new JsonObject { ["product_id"] = "p-1", ["sku"] = "sku-1", ["name"] = "Disc", ["price"] = 15, ["quantity"] = 2 },
            new JsonObject { ["sku"] = "sku-2", ["price"] = 0 }),
    };

    [Fact]
    public void A_mapped_order_keeps_what_its_mapping_left_as_the_calls_properties()
    {
        var data = Translate(Track("Order Completed", Order())).Touchpoint!["data"]!;

        Assert.Equal("""{"sku":"sku-1","quantity":2,"unitPrice":15}""", data["items"]![0]!.ToJsonString());
        Assert.Equal(30, data["amount"]!.GetValue<int>());
        Assert.Equal("""{"total":32,"tax":2,"coupon":"SUMMER","products":[{"product_id":"p-1","name":"Disc"},{}]}""", data["call"]!["properties"]!.GetValue<string>());
    }

    [Fact]
    public void A_mapped_order_reads_as_a_purchase_with_its_call_and_every_personal_field_of_the_call_sealed()
    {
        var sealer = new TouchpointIntakeSpecs.MarkingProtector();

        var read = Intake(Translate(Track("Order Completed", Order())).Touchpoint!, sealer);

        var purchase = Assert.IsType<PurchaseMade>(read.Touchpoint);
        Assert.Equal((30m, 2), (purchase.Amount, purchase.Items.Count));
        var call = purchase.Call!;
        Assert.Equal((Received, DateTimeOffset.Parse("2024-05-01T10:00:00Z", CultureInfo.InvariantCulture)), (call.ReceivedAt!.Value, call.Timestamp!.Value));
        Assert.All(new[] { call.UserId, call.Context, call.Properties }, field => Assert.StartsWith("sealed[c-1]:", field, StringComparison.Ordinal));
        var shown = PersonalFields.ForReader(purchase, sealer, mayReadPersonalData: true).Call!;
        Assert.Equal(("c-1", "SUMMER"), (shown.UserId, JsonNode.Parse(shown.Properties!)!["coupon"]!.GetValue<string>()));
        Assert.Equal(PersonalFields.Redacted, PersonalFields.ForReader(purchase, sealer, mayReadPersonalData: false).Call!.Context);
    }

    [Fact]
    public void A_mapped_field_is_still_validated_as_our_own_api_validates_it()
    {
        var order = Order();
        order["currency"] = "XYZ";

        var read = Intake(Translate(Track("Order Completed", order)).Touchpoint!);

        Assert.False(read.Accepted);
        Assert.Equal(["data.currency"], read.Errors.ToDictionary().Keys);
    }
}
