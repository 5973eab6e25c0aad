using System.Collections.Frozen;
using System.Text.Json.Nodes;

namespace CustomerJourney.TrackingApi;

/// <summary>
/// Segment event names that are moments of truth (or other catalogue kinds), and how their properties become the kind's
/// `data`. The e-commerce spec's names use Segment's property names; the others use our catalogue's field names (a
/// snake_case spelling is accepted too). Mapped fields are then validated by the touchpoint intake, exactly as our own
/// API validates them. A mapping takes the properties it uses out of the call's; what it leaves (an order's tax, coupon,
/// products[].name...) is kept on the touchpoint as its properties. An event name not listed here is kept as an
/// `event-tracked` touchpoint. README.md shows this table.
/// </summary>
public static class SegmentMapping
{
    /// <summary>One mapped event name: the catalogue kind, and how its data is taken out of the call's properties (a copy, which keeps the rest).</summary>
    public sealed record Mapped(string Kind, Func<JsonObject, TrackingOptions, JsonObject> Data);

    private static Mapped Fields(string kind, params string[] fields) => new(kind, (properties, _) =>
    {
        var data = new JsonObject();
        foreach (var field in fields)
        {
            Copy(data, field, Take(properties, field) ?? Take(properties, SnakeCase(field)));
        }

        return data;
    });

    public static readonly FrozenDictionary<string, Mapped> Events = new Dictionary<string, Mapped>(StringComparer.Ordinal)
    {
        ["Order Completed"] = new("purchase", OrderCompleted),
        ["Order Refunded"] = new("return", OrderRefunded),
        ["Complaint Logged"] = Fields("complaint-logged", "complaintId", "category", "severity", "description", "orderIds"),
        ["Complaint Acknowledged"] = Fields("complaint-acknowledged", "complaintId", "reason"),
        ["Complaint Escalated"] = Fields("complaint-escalated", "complaintId", "to", "reason"),
        ["Complaint Awaiting Customer"] = Fields("complaint-awaiting-customer", "complaintId", "reason"),
        ["Customer Responded"] = Fields("customer-responded", "complaintId"),
        ["Complaint Resolved"] = Fields("complaint-resolved", "complaintId", "rootCause", "summary"),
        ["Complaint Closed"] = Fields("complaint-closed", "complaintId", "reason"),
        ["Complaint Reopened"] = Fields("complaint-reopened", "complaintId", "reason"),
        ["Apology Issued"] = Fields("apology-issued", "complaintId", "by", "wording"),
        ["Remedy Offered"] = Fields("remedy-offered", "complaintId", "remedy", "amount", "currency"),
        ["Remedy Accepted"] = Fields("remedy-accepted", "complaintId"),
        ["Remedy Declined"] = Fields("remedy-declined", "complaintId", "reason"),
        ["Follow-up Call Completed"] = Fields("follow-up-call", "complaintId", "outcome", "satisfied", "notes"),
        ["NPS Survey Answered"] = Fields("survey-answered", "nps", "comment"),
        ["CSAT Survey Answered"] = Fields("survey-answered", "csat", "comment"),
        ["Survey Answered"] = Fields("survey-answered", "csat", "nps", "comment"),
        ["Support Contact Made"] = Fields("support-contact", "topic", "resolvedOnFirstContact"),
        ["Loyalty Points Earned"] = Fields("loyalty-points-earned", "points", "reason"),
        ["Loyalty Points Redeemed"] = Fields("loyalty-points-redeemed", "points", "reason"),
        ["Consent Given"] = Fields("consent-given", "purpose"),
        ["Consent Withdrawn"] = Fields("consent-withdrawn", "purpose"),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>order_id, revenue (else total), currency, products[] (sku else product_id, quantity (default 1), price).</summary>
    private static JsonObject OrderCompleted(JsonObject properties, TrackingOptions options)
    {
        var data = OrderFields(properties);
        if (properties["products"] is JsonArray products)
        {
            // Each product's other fields (name, category, url...) stay in properties.products, index for index.
            var items = new JsonArray();
            var rest = new JsonArray();
            foreach (var product in products)
            {
                if (product is not JsonObject p)
                {
                    items.Add(product?.DeepClone());
                    rest.Add(new JsonObject());
                    continue;
                }

                var item = new JsonObject();
                Copy(item, "sku", Take(p, "sku") ?? Take(p, "product_id"));
                Copy(item, "quantity", Take(p, "quantity") ?? 1);
                Copy(item, "unitPrice", Take(p, "price"));
                items.Add(item);
                rest.Add(p.DeepClone());
            }

            data["items"] = items;
            properties.Remove("products");
            if (rest.Any(r => r is JsonObject { Count: > 0 }))
            {
                properties["products"] = rest;
            }
        }

        return data;
    }

    /// <summary>As an order, with the reason the source gave, else <see cref="TrackingOptions.DefaultReturnReason"/>.</summary>
    private static JsonObject OrderRefunded(JsonObject properties, TrackingOptions options)
    {
        var data = OrderFields(properties);
        data["reason"] = Take(properties, "reason") ?? options.DefaultReturnReason;
        return data;
    }

    private static JsonObject OrderFields(JsonObject properties)
    {
        var data = new JsonObject();
        Copy(data, "orderId", Take(properties, "order_id") ?? Take(properties, "orderId"));
        Copy(data, "amount", Take(properties, "revenue") ?? Take(properties, "total"));
        Copy(data, "currency", Take(properties, "currency"));
        return data;
    }

    /// <summary>The property's value, removed from <paramref name="properties"/>; null (and nothing removed) when it has none.</summary>
    public static JsonNode? Take(JsonObject properties, string name)
    {
        if (properties[name] is not { } value)
        {
            return null;
        }

        properties.Remove(name);
        return value;
    }

    private static void Copy(JsonObject to, string name, JsonNode? value)
    {
        if (value is not null)
        {
            to[name] = value.DeepClone();
        }
    }

    private static string SnakeCase(string name) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(name);
}
