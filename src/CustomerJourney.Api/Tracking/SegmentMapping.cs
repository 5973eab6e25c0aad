using System.Collections.Frozen;
using System.Text.Json.Nodes;

namespace CustomerJourney.TrackingApi;

/// <summary>
/// Segment event names that are moments of truth (or other catalogue kinds), and how their properties become the kind's
/// `data`. The e-commerce spec's names use Segment's property names; the others use our catalogue's field names (a
/// snake_case spelling is accepted too). Mapped fields are then validated by the touchpoint intake, exactly as our own
/// API validates them. An event name not listed here is kept as an `event-tracked` touchpoint. README.md shows this table.
/// </summary>
public static class SegmentMapping
{
    /// <summary>One mapped event name: the catalogue kind, and how its data is built from the call's properties.</summary>
    public sealed record Mapped(string Kind, Func<JsonObject, TrackingOptions, JsonObject> Data);

    private static Mapped Fields(string kind, params string[] fields) => new(kind, (properties, _) =>
    {
        var data = new JsonObject();
        foreach (var field in fields)
        {
            if ((properties[field] ?? properties[SnakeCase(field)]) is { } value)
            {
                data[field] = value.DeepClone();
            }
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
            var items = new JsonArray();
            foreach (var product in products)
            {
                if (product is not JsonObject p)
                {
                    items.Add(product?.DeepClone());
                    continue;
                }

                var item = new JsonObject();
                Copy(item, "sku", p["sku"] ?? p["product_id"]);
                Copy(item, "quantity", p["quantity"] ?? 1);
                Copy(item, "unitPrice", p["price"]);
                items.Add(item);
            }

            data["items"] = items;
        }

        return data;
    }

    /// <summary>As an order, with the reason the source gave, else <see cref="TrackingOptions.DefaultReturnReason"/>.</summary>
    private static JsonObject OrderRefunded(JsonObject properties, TrackingOptions options)
    {
        var data = OrderFields(properties);
        data["reason"] = properties["reason"]?.DeepClone() ?? options.DefaultReturnReason;
        return data;
    }

    private static JsonObject OrderFields(JsonObject properties)
    {
        var data = new JsonObject();
        Copy(data, "orderId", properties["order_id"] ?? properties["orderId"]);
        Copy(data, "amount", properties["revenue"] ?? properties["total"]);
        Copy(data, "currency", properties["currency"]);
        return data;
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
