using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CustomerJourney.Complaints;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Specs.Touchpoints;

/// <summary>Given a submitted touchpoint, when it is read at a known time, then this event or these field errors.</summary>
public sealed class TouchpointIntakeSpecs
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2025-01-01T12:00:00Z", CultureInfo.InvariantCulture);

    private static IntakeResult Read(JsonNode body, string? routeCustomerId = "c-1", IPersonalDataCipher? personal = null)
    {
        using var document = JsonDocument.Parse(body.ToJsonString());
        return TouchpointIntake.Read(document.RootElement, routeCustomerId, Now, personal ?? new PlaintextPersonalData());
    }

    [Fact]
    public void A_valid_purchase_becomes_PurchaseMade_with_its_envelope()
    {
        var body = TouchpointJson.Purchase(amount: 29.33m, currency: "USD", source: "shop", sourceId: "o-7")
            .With("correlationId", "corr-1");

        var result = Read(body);

        Assert.True(result.Accepted);
        var purchase = Assert.IsType<PurchaseMade>(result.Touchpoint);
        Assert.Equal(("c-1", "shop", "o-7", Channel.Web, "corr-1"), (purchase.CustomerId, purchase.Source, purchase.SourceId, purchase.Channel, purchase.CorrelationId));
        Assert.Equal((29.33m, "USD", "o-7"), (purchase.Amount, purchase.Currency, purchase.OrderId));
        Assert.Equal(new LineItem("cd-1", 2, 14.665m), Assert.Single(purchase.Items));
        Assert.Equal(DateTimeOffset.Parse("2024-05-01T10:00:00Z", CultureInfo.InvariantCulture), purchase.OccurredAt);
    }

    public static TheoryData<string, JsonObject, Type> EveryKind()
    {
        var data = new TheoryData<string, JsonObject, Type>();
        foreach (var (kind, example, eventType) in TouchpointExamples.All)
        {
            data.Add(kind, example, eventType);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryKind))]
    public void Every_catalogue_kind_becomes_its_own_event(string kind, JsonObject data, Type eventType)
    {
        var result = Read(TouchpointJson.Kind(kind, data));

        Assert.True(result.Accepted, string.Join("; ", result.Errors.ToDictionary().Select(e => $"{e.Key}: {string.Join(",", e.Value)}")));
        Assert.IsType(eventType, result.Touchpoint);
        Assert.Equal(kind, TouchpointCatalogue.KindOf(result.Touchpoint!));
    }

    [Fact]
    public void The_catalogue_covers_every_touchpoint_event_exactly_once()
    {
        var eventTypes = typeof(Touchpoint).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(Touchpoint)) && !t.IsAbstract).ToHashSet();

        Assert.Equal(eventTypes, TouchpointCatalogue.All.Concat(TouchpointCatalogue.Tracked).Concat(TouchpointCatalogue.RecordedByService).Select(k => k.EventType).ToHashSet());
        Assert.Equal(TouchpointCatalogue.All.Count, TouchpointCatalogue.Names.Distinct().Count());
        // What the service records itself is never taken from a source.
        Assert.All(TouchpointCatalogue.RecordedByService, k => Assert.Null(TouchpointCatalogue.Find(k.Name)));
    }

    /// <summary>Each bad input, the field the problem must name.</summary>
    public static TheoryData<string, JsonObject, string?, string> BadInput
    {
        get
        {
            var purchase = TouchpointJson.Purchase();
            var survey = TouchpointJson.Kind("survey-answered", new JsonObject { ["csat"] = 3 });
            return new()
            {
                { "unknown kind", purchase.With("kind", "teleportation"), "c-1", "kind" },
                { "missing kind", purchase.Without("kind"), "c-1", "kind" },
                { "missing occurredAt", purchase.Without("occurredAt"), "c-1", "occurredAt" },
                { "occurredAt without offset", purchase.With("occurredAt", "2024-05-01T10:00:00"), "c-1", "occurredAt" },
                { "occurredAt not a date", purchase.With("occurredAt", "yesterday"), "c-1", "occurredAt" },
                { "occurredAt as a number", purchase.With("occurredAt", 1714557600), "c-1", "occurredAt" },
                { "occurredAt in the future beyond skew", purchase.With("occurredAt", Now.AddMinutes(6).ToString("O")), "c-1", "occurredAt" },
                { "occurredAt before 1970", purchase.With("occurredAt", "1969-12-31T23:59:59Z"), "c-1", "occurredAt" },
                { "missing source", purchase.Without("source"), "c-1", "source" },
                { "missing sourceId", purchase.Without("sourceId"), "c-1", "sourceId" },
                { "empty sourceId", purchase.With("sourceId", ""), "c-1", "sourceId" },
                { "sourceId with NUL", purchase.With("sourceId", "a\u0000b"), "c-1", "sourceId" },
                { "unknown channel", purchase.With("channel", "carrier-pigeon"), "c-1", "channel" },
                { "channel in capitals", purchase.With("channel", "WEB"), "c-1", "channel" },
                { "missing data", purchase.Without("data"), "c-1", "data" },
                { "data not an object", purchase.With("data", "x"), "c-1", "data" },
                { "undefined envelope field", purchase.With("extra", 1), "c-1", "extra" },
                { "undefined data field", purchase.With("data.giftWrap", true), "c-1", "data.giftWrap" },
                { "customerId in a single post body", purchase.With("customerId", "c-2"), "c-1", "customerId" },
                { "negative amount", purchase.With("data.amount", -0.01), "c-1", "data.amount" },
                { "absurd amount", purchase.With("data.amount", 1e12), "c-1", "data.amount" },
                { "amount as a string", purchase.With("data.amount", "12.00"), "c-1", "data.amount" },
                { "amount beyond decimal range", purchase.With("data.amount", JsonNode.Parse("1e400")), "c-1", "data.amount" },
                { "missing currency", purchase.With("data.currency", null), "c-1", "data.currency" },
                { "currency not ISO 4217", purchase.With("data.currency", "XYZ"), "c-1", "data.currency" },
                { "currency in lower case", purchase.With("data.currency", "usd"), "c-1", "data.currency" },
                { "item quantity zero", purchase.With("data.items", new JsonArray(new JsonObject { ["sku"] = "a", ["quantity"] = 0, ["unitPrice"] = 1 })), "c-1", "data.items[0].quantity" },
                { "csat out of range", survey.With("data.csat", 6), "c-1", "data.csat" },
                { "csat not whole", survey.With("data.csat", 4.5), "c-1", "data.csat" },
                { "nps out of range", survey.With("data.nps", 11), "c-1", "data.nps" },
                { "survey without a score", survey.With("data.csat", null), "c-1", "data.csat" },
                { "invalid route customer id", purchase, "bad id!", "customerId" },
                { "route customer id too long", purchase, new string('a', 65), "customerId" },
                { "batch item without customerId", purchase, null, "customerId" },
                { "batch item with invalid customerId", purchase.With("customerId", "über"), null, "customerId" },
                { "complaint severity unknown", TouchpointJson.Kind("complaint-logged", new JsonObject { ["complaintId"] = "k", ["category"] = "c", ["severity"] = "apocalyptic", ["description"] = "d" }), "c-1", "data.severity" },
                { "remedy unknown", TouchpointJson.Kind("remedy-offered", new JsonObject { ["complaintId"] = "k", ["remedy"] = "hug", ["amount"] = 1, ["currency"] = "EUR" }), "c-1", "data.remedy" },
                { "satisfied when not reached", TouchpointJson.Kind("follow-up-call", new JsonObject { ["outcome"] = "not-reached", ["satisfied"] = true }), "c-1", "data.satisfied" },
                { "consent purpose malformed", TouchpointJson.Kind("consent-given", new JsonObject { ["purpose"] = "Marketing Email" }), "c-1", "data.purpose" },
                { "e-mail malformed", TouchpointJson.Kind("contact-details-changed", new JsonObject { ["email"] = "not-an-email" }), "c-1", "data.email" },
                { "contact details empty", TouchpointJson.Kind("contact-details-changed", new JsonObject()), "c-1", "data.name" },
                { "points negative", TouchpointJson.Kind("loyalty-points-earned", new JsonObject { ["points"] = -5, ["reason"] = "x" }), "c-1", "data.points" },
                { "description too long", TouchpointJson.Kind("complaint-logged", new JsonObject { ["complaintId"] = "k", ["category"] = "c", ["severity"] = "low", ["description"] = new string('x', 4001) }), "c-1", "data.description" },
            };
        }
    }

    [Theory]
    [MemberData(nameof(BadInput))]
    public void Bad_input_is_refused_naming_the_field(string because, JsonObject body, string? routeCustomerId, string field)
    {
        var result = Read(body, routeCustomerId);

        Assert.False(result.Accepted, because);
        Assert.Null(result.Touchpoint);
        Assert.Contains(field, result.Errors.ToDictionary().Keys);
    }

    [Fact]
    public void A_lone_surrogate_is_refused_not_stored()
    {
        using var document = JsonDocument.Parse(TouchpointJson.Purchase().ToJsonString().Replace("\"test-source\"", "\"\\ud800\"", StringComparison.Ordinal));

        var result = TouchpointIntake.Read(document.RootElement, "c-1", Now, new PlaintextPersonalData());

        Assert.Contains("source", result.Errors.ToDictionary().Keys);
    }

    [Fact]
    public void OccurredAt_within_the_clock_skew_allowance_is_accepted()
    {
        Assert.True(Read(TouchpointJson.Purchase(occurredAt: Now.AddMinutes(4))).Accepted);
    }

    [Fact]
    public void Personal_fields_pass_through_the_seam()
    {
        var sealer = new MarkingProtector();
        var body = TouchpointJson.Kind("complaint-logged", new JsonObject { ["complaintId"] = "k-1", ["category"] = "delivery", ["severity"] = "low", ["description"] = "My parcel is late" });

        var complaint = Assert.IsType<ComplaintLogged>(Read(body, personal: sealer).Touchpoint);

        Assert.Equal("sealed[c-1]:My parcel is late", complaint.Description);
        Assert.Equal("My parcel is late", ((ComplaintLogged)PersonalFields.ForReader(complaint, sealer, mayReadPersonalData: true)).Description);
        Assert.Equal(PersonalFields.Redacted, ((ComplaintLogged)PersonalFields.ForReader(complaint, sealer, mayReadPersonalData: false)).Description);
    }

    /// <summary>A protector whose output is recognisable, to prove a field went through the seam.</summary>
    public sealed class MarkingProtector : IPersonalDataCipher
    {
        public bool IsErased(string customerId) => false;

        public string Seal(string customerId, string plaintext) => $"sealed[{customerId}]:{plaintext}";

        public OpenedField Open(string customerId, string stored) => OpenedField.Of(stored[$"sealed[{customerId}]:".Length..]);

        public Task<bool> KeepNewKeysAsync(IReadOnlyCollection<string> customerIds, CancellationToken cancellation) => Task.FromResult(true);

        public Task<IReadOnlySet<string>> TakeKeysStoredMeanwhileAsync(IReadOnlyCollection<string> customerIds, CancellationToken cancellation) =>
            Task.FromResult<IReadOnlySet<string>>(new HashSet<string>());

        public string Reseal(string customerId, string sealedValue) => sealedValue;
    }
}
