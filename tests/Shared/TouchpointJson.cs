using System.Text.Json.Nodes;

namespace CustomerJourney.Tests.Support;

/// <summary>Builds touchpoint request bodies; tests change only what they are about.</summary>
public static class TouchpointJson
{
    /// <summary>The source of touchpoints tests post unless they say otherwise.</summary>
    public const string DefaultSource = "test-source";

    public static JsonObject Purchase(string? customerId = null, DateTimeOffset? occurredAt = null, decimal amount = 20m,
        string currency = "USD", string source = DefaultSource, string? sourceId = null) =>
        Make("purchase", customerId, occurredAt, source, sourceId, "web", new JsonObject
        {
            ["orderId"] = sourceId ?? Ids.Unique("order"),
            ["amount"] = amount,
            ["currency"] = currency,
            ["items"] = new JsonArray(new JsonObject { ["sku"] = "cd-1", ["quantity"] = 2, ["unitPrice"] = amount / 2 }),
        });

    public static JsonObject Make(string kind, string? customerId, DateTimeOffset? occurredAt, string source, string? sourceId,
        string channel, JsonObject data)
    {
        var json = new JsonObject
        {
            ["kind"] = kind,
            ["occurredAt"] = (occurredAt ?? DateTimeOffset.Parse("2024-05-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture)).ToString("O"),
            ["source"] = source,
            ["sourceId"] = sourceId ?? Ids.Unique("src"),
            ["channel"] = channel,
            ["data"] = data,
        };
        if (customerId is not null)
        {
            json["customerId"] = customerId;
        }

        return json;
    }

    public static JsonObject Kind(string kind, JsonObject data, string? customerId = null, DateTimeOffset? occurredAt = null,
        string source = DefaultSource, string? sourceId = null, string channel = "phone") =>
        Make(kind, customerId, occurredAt, source, sourceId, channel, data);

    public static JsonObject Without(this JsonObject json, string field)
    {
        var copy = json.DeepClone().AsObject();
        copy.Remove(field);
        return copy;
    }

    public static JsonObject With(this JsonObject json, string path, JsonNode? value)
    {
        var copy = json.DeepClone().AsObject();
        var parts = path.Split('.');
        var target = copy;
        foreach (var part in parts[..^1])
        {
            target = target[part]!.AsObject();
        }

        target[parts[^1]] = value;
        return copy;
    }
}
