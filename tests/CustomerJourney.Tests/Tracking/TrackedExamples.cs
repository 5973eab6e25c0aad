using System.Text.Json.Nodes;

namespace CustomerJourney.Tests.Tracking;

/// <summary>One valid `data` example per tracked kind, as SegmentCalls writes it: the kind's own fields and the call it came from.</summary>
public static class TrackedExamples
{
    private static JsonObject Call(JsonObject own, string? properties = null)
    {
        own["call"] = new JsonObject
        {
            ["originalTimestamp"] = "2024-05-01T07:59:58.000Z",
            ["sentAt"] = "2024-05-01T08:00:01.000Z",
            ["receivedAt"] = "2024-05-01T08:00:02.000Z",
            ["timestamp"] = "2024-05-01T08:00:00.000Z",
            ["userId"] = "u-1",
            ["anonymousId"] = "a-1",
            ["context"] = "{\"ip\":\"203.0.113.7\",\"locale\":\"en-GB\"}",
            ["properties"] = properties,
        };
        return own;
    }

    public static JsonObject DataFor(string kind) => kind switch
    {
        "event-tracked" => Call(new JsonObject { ["name"] = "Wishlist Shared" }, "{\"note\":\"for later\"}"),
        "page-viewed" => Call(new JsonObject { ["view"] = "page", ["name"] = "Home", ["category"] = "Shop" }, "{\"path\":\"/\"}"),
        "account-grouped" => Call(new JsonObject { ["groupId"] = "acme", ["traits"] = "{\"name\":\"Acme\"}" }),
        "identity-recorded" => Call(new JsonObject { ["traits"] = "{\"email\":\"ann@example.com\"}" }),
        "identities-aliased" => Call(new JsonObject { ["previousId"] = "anon-7" }),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a tracked kind"),
    };
}
