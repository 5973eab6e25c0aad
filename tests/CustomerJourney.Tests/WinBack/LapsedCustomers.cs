using System.Globalization;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;

namespace CustomerJourney.Tests.WinBack;

/// <summary>The win-back tests' customers: consent, an e-mail address, two purchases ten days apart and then silence.</summary>
internal static class LapsedCustomers
{
    /// <summary>A recent instant: a campaign run at it still has valid offers (30 days) to send.</summary>
    public static readonly DateTimeOffset At = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-20);

    public static string Iso(DateTimeOffset t) => t.ToString("O", CultureInfo.InvariantCulture);

    public static JsonObject Touch(string kind, string customer, DateTimeOffset at, JsonObject data) =>
        TouchpointJson.Make(kind, customer, at, "staff", Ids.Unique("src"), "web", data);

    /// <summary>Overdue at <see cref="At"/>.</summary>
    public static JsonObject[] Lapsed(string customer) =>
    [
        Touch("consent-given", customer, At.AddDays(-90), new JsonObject { ["purpose"] = "marketing-email" }),
        Touch("contact-details-changed", customer, At.AddDays(-90), new JsonObject { ["email"] = $"{customer}@example.com" }),
        Touch("purchase", customer, At.AddDays(-59), new JsonObject { ["orderId"] = Ids.Unique("o"), ["amount"] = 30, ["currency"] = "USD" }),
        Touch("purchase", customer, At.AddDays(-49), new JsonObject { ["orderId"] = Ids.Unique("o"), ["amount"] = 30, ["currency"] = "USD" }),
    ];
}
