using System.Globalization;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;
using CustomerJourney.Tests.WinBack;
using CustomerJourney.WinBack;
using Snapshooter.Xunit3;
using static CustomerJourney.Tests.Contracts.Answers;

namespace CustomerJourney.Tests.Contracts;

/// <summary>
/// Snapshots of the win-back answers: candidates, a preview, a planned campaign, the campaign before and after its launch with its
/// report (outcome per group, uplift, the daily series), the campaign list, and their problem answers. Campaigns select from the whole
/// store, so the test runs on a <see cref="WinBackHost"/> of its own (own schema, a real SMTP sink), with fixed customer
/// ids; the Idempotency-Key names the campaign, so its id, offer codes and split are the same on every run.
/// </summary>
public sealed class WinBackAnswerSnapshots
{
    private static readonly DateTimeOffset At = new(2010, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private static string Iso(DateTimeOffset t) => t.ToString("O", CultureInfo.InvariantCulture);

    private static JsonObject Touch(string kind, string customer, DateTimeOffset at, string sourceId, JsonObject data) =>
        TouchpointJson.Make(kind, customer, at, "staff", sourceId, "web", data);

    /// <summary>Consent, an e-mail address, two purchases ten days apart and then silence: overdue at <see cref="At"/>.</summary>
    private static JsonObject[] Lapsed(string customer) =>
    [
        Touch("consent-given", customer, At.AddDays(-90), $"{customer}-c", new JsonObject { ["purpose"] = "marketing-email" }),
        Touch("contact-details-changed", customer, At.AddDays(-90), $"{customer}-e", new JsonObject { ["email"] = $"{customer}@example.com" }),
        Touch("purchase", customer, At.AddDays(-59), $"{customer}-p1", new JsonObject { ["orderId"] = $"{customer}-o1", ["amount"] = 30, ["currency"] = "USD" }),
        Touch("purchase", customer, At.AddDays(-49), $"{customer}-p2", new JsonObject { ["orderId"] = $"{customer}-o2", ["amount"] = 30, ["currency"] = "USD" }),
    ];

    private static readonly string[] Customers = [.. Enumerable.Range(1, 10).Select(i => $"wb-{i:00}")];

    private static JsonObject Campaign(string name) => new()
    {
        ["name"] = name,
        ["offer"] = new JsonObject { ["kind"] = "discount-percent", ["value"] = 20, ["validDays"] = 30 },
        ["channel"] = "email",
        ["controlShare"] = 0.2,
        ["seed"] = 7,
        ["at"] = Iso(At),
    };

    [Fact]
    public async Task WinBack_answers_have_this_shape()
    {
        await using var host = await WinBackHost.StartAsync();
        var marketing = Bearer(host.Host, "marketing-1", "marketing");
        Task<JsonObject> Get(string url) => Call(host.Host, HttpMethod.Get, url, marketing);
        Task<JsonObject> Plan(JsonObject body, string key, Credentials? as_ = null) =>
            Call(host.Host, HttpMethod.Post, "/api/winback/campaigns", as_ ?? marketing, body, new Dictionary<string, string> { ["Idempotency-Key"] = key });
        await host.Record([.. Customers.SelectMany(Lapsed), .. Lapsed("wb-nc"), .. Lapsed("wb-oc"),
            Touch("consent-withdrawn", "wb-nc", At.AddDays(-5), "wb-nc-w", new JsonObject { ["purpose"] = "marketing-email" }),
            Touch("complaint-logged", "wb-oc", At.AddDays(-20), "wb-oc-k", new JsonObject { ["complaintId"] = "wb-oc-k1", ["category"] = "delivery", ["severity"] = "low", ["description"] = "Late" })]);

        var candidates = await Get($"/api/winback/candidates?at={Uri.EscapeDataString(Iso(At))}&includeExcluded=true&pageSize=5");
        var eligible = await Get($"/api/winback/candidates?at={Uri.EscapeDataString(Iso(At))}&segment=repeat-buyer&page=2&pageSize=4");

        // Previewed with the key it is then planned with: the same campaign id, seed and audience.
        var preview = await Call(host.Host, HttpMethod.Post, "/api/winback/campaigns/preview", marketing, Campaign("Spring back"),
            new Dictionary<string, string> { ["Idempotency-Key"] = "snapshot-spring" });
        var previewInvalid = await Call(host.Host, HttpMethod.Post, "/api/winback/campaigns/preview", marketing,
            new JsonObject { ["name"] = "Nope", ["offer"] = new JsonObject { ["kind"] = "free-lunch" }, ["channel"] = "email", ["controlShare"] = 0.9 });
        var planned = await Plan(Campaign("Spring back"), "snapshot-spring");
        Assert.True((int)planned["status"]! == 201, planned.ToJsonString());
        var id = planned["body"]!["campaign"]!["campaignId"]!.GetValue<string>();
        // Planned for a later launch: it stays planned while the test runs.
        var laterBody = Campaign("Next spring");
        laterBody.Remove("at");
        laterBody["launchAt"] = "2099-03-01T00:00:00Z";
        var later = await Plan(laterBody, "snapshot-later");

        // Run at a 2010 instant with offers valid for 30 days: each expired long before it could go out, so each is suppressed
        // (offer-expired) and none is mailed, which the report shows.
        var launched = await host.Eventually($"/api/winback/campaigns/{id}", c => c["outcome"] is { } o && o["treatment"]!["suppressed"]!.GetValue<int>() == 8);
        var control = WinBackRules.ControlGroup(Customers, 0.2, 7);
        var buyer = Customers.First(c => !control.Contains(c));
        await host.Record(
            Touch("purchase", buyer, At.AddDays(5), "wb-back-1", new JsonObject { ["orderId"] = "wb-back-o1", ["amount"] = 50, ["currency"] = "USD", ["offerCode"] = WinBackRules.OfferCode(id, buyer) }),
            Touch("purchase", control.Order(StringComparer.Ordinal).First(), At.AddDays(7), "wb-back-2", new JsonObject { ["orderId"] = "wb-back-o2", ["amount"] = 25, ["currency"] = "USD" }));
        await host.Eventually($"/api/winback/campaigns/{id}", c => c["outcome"]!["treatment"]!["reactivated"]!.GetValue<int>() == 1 && c["outcome"]!["control"]!["reactivated"]!.GetValue<int>() == 1);
        var beforeLaunch = DateTimeOffset.Parse(launched["campaign"]!["selectedAt"]!.GetValue<string>(), CultureInfo.InvariantCulture).AddMilliseconds(-1);

        var answers = new JsonObject
        {
            ["candidates"] = candidates,
            ["eligible"] = eligible,
            ["candidatesInvalid"] = await Get("/api/winback/candidates?at=2999-01-01T00:00:00Z&segment=sleepy&channel=fax&maxPAlive=2&model=latest"),
            ["candidatesUnknownModel"] = await Get("/api/winback/candidates?model=0190a000-0000-7000-8000-000000000000"),
            ["preview"] = preview,
            ["previewInvalid"] = previewInvalid,
            ["previewForbidden"] = await Call(host.Host, HttpMethod.Post, "/api/winback/campaigns/preview", Bearer(host.Host, "analyst-1", "analyst"), Campaign("Spring back")),
            ["planned"] = planned,
            ["plannedLater"] = later,
            ["planRepeated"] = await Plan(Campaign("Spring back"), "snapshot-spring"),
            ["planInvalid"] = await Plan(new JsonObject
            {
                ["name"] = "", ["offer"] = new JsonObject { ["kind"] = "free-lunch", ["value"] = -1 }, ["channel"] = "fax", ["controlShare"] = 0.9,
                ["at"] = "2999-01-01T00:00:00Z", ["launchAt"] = "2999-01-02T00:00:00Z", ["filter"] = new JsonObject { ["segment"] = "sleepy", ["model"] = "latest" }, ["colour"] = "red",
            }, "snapshot-invalid"),
            ["planForbidden"] = await Plan(Campaign("Spring back"), "snapshot-forbidden", Bearer(host.Host, "analyst-1", "analyst")),
            ["beforeLaunch"] = await Get($"/api/winback/campaigns/{id}?asOf={Uri.EscapeDataString(Iso(beforeLaunch))}"),
            ["report"] = await Get($"/api/winback/campaigns/{id}"),
            ["list"] = await Get("/api/winback/campaigns"),
            ["unknown"] = await Get("/api/winback/campaigns/wb-nothing"),
            ["invalid"] = await Get("/api/winback/campaigns/not%20valid?asOf=soon"),
        };

        var token = Masked(Stable(answers),
            // Wall-clock instants of this run: when the campaign run at a past instant was queued (its launchAt) and launched.
            $"$..[?(@.campaignId == '{id}')].launchAt", "selectedAt",
            // The as-of instant of the view before the launch is derived from selectedAt.
            "$.beforeLaunch.body.asOf",
            // The preview launches at once, so at the run's own instant.
            "$.preview.body.launchAt",
            // Event ids (a flag's evidence) are the run's own.
            "eventIds");
        Snapshot.Match(token);
    }
}
