using System.Text.Json.Nodes;
using CustomerJourney.TrackingApi;
using Microsoft.Extensions.Configuration;
using static CustomerJourney.Specs.Tracking.SegmentCallsSpecs;

namespace CustomerJourney.Specs.Tracking;

/// <summary>
/// context.consent.categoryPreferences through the table Tracking:ConsentCategories: one statement per mapped category per
/// call, at the call's time, with a source id derived from the call's; unmapped categories ignored.
/// </summary>
public sealed class SegmentConsentSpecs
{
    [Fact]
    public void Each_mapped_consent_category_is_one_statement_at_the_calls_time_and_unmapped_ones_are_ignored()
    {
        var consents = Translate(Track("Product Viewed", [], new JsonObject { ["Advertising"] = false, ["Analytics"] = true, ["marketing"] = true })).Consents;

        Assert.Equal(
            [("consent-withdrawn", "marketing-email", "m-1#consent:Advertising"), ("consent-given", "marketing-email", "m-1#consent:marketing")],
            consents.Select(c => (c["kind"]!.GetValue<string>(), c["data"]!["purpose"]!.GetValue<string>(), c["sourceId"]!.GetValue<string>())));
        Assert.All(consents, c => Assert.Equal(("c-1", "shop", "2024-05-01T10:00:00.0000000Z"),
            (c["customerId"]!.GetValue<string>(), c["source"]!.GetValue<string>(), c["occurredAt"]!.GetValue<string>())));
        Assert.All(consents, c => Assert.True(Intake(c).Accepted));
    }

    [Fact]
    public void The_table_is_configurable_and_an_empty_purpose_ignores_a_category()
    {
        var options = new TrackingOptions();
        options.ConsentCategories["Advertising"] = "";
        options.ConsentCategories["C0004"] = "marketing-app";

        var consents = Translate(Track("Product Viewed", [], new JsonObject { ["Advertising"] = false, ["C0004"] = false }), options).Consents;

        Assert.Equal(["marketing-app"], consents.Select(c => c["data"]!["purpose"]!.GetValue<string>()));
    }

    [Fact]
    public void Configuration_adds_to_the_default_table_any_case_matches_and_an_empty_purpose_removes_a_default()
    {
        var options = new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Tracking:ConsentCategories:C0004"] = "marketing-app",
            ["Tracking:ConsentCategories:marketing"] = "",
        }).Build().GetSection("Tracking").Get<TrackingOptions>()!;

        var consents = Translate(Track("Product Viewed", [], new JsonObject { ["advertising"] = false, ["Marketing"] = false, ["c0004"] = true }), options).Consents;

        Assert.Equal([("consent-withdrawn", "marketing-email"), ("consent-given", "marketing-app")],
            consents.Select(c => (c["kind"]!.GetValue<string>(), c["data"]!["purpose"]!.GetValue<string>())));
    }

    public static TheoryData<string, string> BadConsents => new()
    {
        { """{"consent":"yes"}""", "context.consent" },
        { """{"consent":{"categoryPreferences":["Advertising"]}}""", "context.consent.categoryPreferences" },
        { """{"consent":{"categoryPreferences":{"Advertising":"no"}}}""", "context.consent.categoryPreferences.Advertising" },
    };

    [Theory]
    [MemberData(nameof(BadConsents))]
    public void A_consent_object_we_cannot_read_refuses_the_call(string context, string field)
    {
        var call = Track("Product Viewed", []);
        call["context"] = JsonNode.Parse(context);

        var translated = Translate(call);

        Assert.Null(translated.Touchpoint);
        Assert.Equal([field], translated.Errors.ToDictionary().Keys);
    }

    [Fact]
    public void An_unmapped_category_is_ignored_whatever_its_value()
    {
        var translated = Translate(Track("Product Viewed", [], new JsonObject { ["Analytics"] = "maybe" }));

        Assert.NotNull(translated.Touchpoint);
        Assert.Empty(translated.Consents);
    }

    [Fact]
    public void A_statement_source_id_too_long_for_the_register_is_a_stable_hash()
    {
        var messageId = new string('m', 250);

        var first = SegmentConsent.SourceId(messageId, "Advertising");

        Assert.Equal(first, SegmentConsent.SourceId(messageId, "Advertising"));
        Assert.NotEqual(first, SegmentConsent.SourceId(messageId, "Marketing"));
        Assert.StartsWith("consent:", first, StringComparison.Ordinal);
        Assert.True(first.Length <= 256);
    }
}
