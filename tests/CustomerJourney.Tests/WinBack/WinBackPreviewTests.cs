using System.Globalization;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;
using CustomerJourney.WinBack;
using static CustomerJourney.Tests.Contracts.Answers;
using static CustomerJourney.Tests.WinBack.LapsedCustomers;

namespace CustomerJourney.Tests.WinBack;

/// <summary>
/// The preview answers the audience a launch on the same data selects (the launch's own selection, the plan's own
/// validation); the campaign report's daily series adds up to its totals. Each test on a store of its own.
/// </summary>
public sealed class WinBackPreviewTests
{
    private static JsonObject Withdrawn(string customer) => Touch("consent-withdrawn", customer, At.AddDays(-5), new JsonObject { ["purpose"] = "marketing-email" });

    private static JsonObject Complaint(string customer) =>
        Touch("complaint-logged", customer, At.AddDays(-20), new JsonObject { ["complaintId"] = Ids.Unique("k"), ["category"] = "delivery", ["severity"] = "low", ["description"] = "Late" });

    /// <summary>No seed: the campaign's id (from the Idempotency-Key) gives it, as the console plans.</summary>
    private static JsonObject Campaign(string name) => new()
    {
        ["name"] = name,
        ["offer"] = new JsonObject { ["kind"] = "discount-amount", ["value"] = 5, ["currency"] = "USD", ["validDays"] = 30 },
        ["channel"] = "email",
        ["controlShare"] = 0.3,
        ["at"] = Iso(At),
    };

    private static Dictionary<string, string> Key(string key) => new() { ["Idempotency-Key"] = key };

    [Fact]
    public async Task A_preview_counts_the_audience_that_planning_the_same_body_launches_and_records_nothing()
    {
        await using var host = await WinBackHost.StartAsync();
        var customers = Enumerable.Range(1, 9).Select(i => Ids.Unique($"pv{i}")).ToList();
        var (noConsent, complaining, both) = (Ids.Unique("pvnc"), Ids.Unique("pvoc"), Ids.Unique("pvboth"));
        await host.Record([.. customers.SelectMany(Lapsed), .. Lapsed(noConsent), .. Lapsed(complaining), .. Lapsed(both),
            Withdrawn(noConsent), Complaint(complaining), Withdrawn(both), Complaint(both)]);
        var marketing = host.Staff("marketing");
        var key = Ids.Unique("pv-key");

        var preview = await Call(host.Host, HttpMethod.Post, "/api/winback/campaigns/preview", marketing, Campaign("Previewed"), Key(key));
        Assert.True((int)preview["status"]! == 200, preview.ToJsonString());
        var sizes = preview["body"]!;
        Assert.Empty((await host.Get("/api/winback/campaigns")).Body!.AsArray());
        var again = await Call(host.Host, HttpMethod.Post, "/api/winback/campaigns/preview", marketing, Campaign("Previewed"), Key(key));
        // The same answer again, but for the launch time, which is "now" for a campaign launched at once.
        Assert.Equal(WithoutLaunchTime(sizes), WithoutLaunchTime(again["body"]!));

        var planned = await Call(host.Host, HttpMethod.Post, "/api/winback/campaigns", marketing, Campaign("Previewed"), Key(key));
        Assert.Equal(201, (int)planned["status"]!);
        var id = planned["body"]!["campaign"]!["campaignId"]!.GetValue<string>();
        Assert.Equal(sizes["campaignId"]!.GetValue<string>(), id);
        var launched = (await host.Eventually($"/api/winback/campaigns/{id}", c => c["campaign"]!["status"]!.GetValue<string>() == "launched"))["campaign"]!;

        var members = launched["members"]!.AsArray();
        var groups = members.GroupBy(m => m!["group"]!.GetValue<string>()).ToDictionary(g => g.Key, g => g.Count());
        var excluded = launched["excluded"]!.AsArray();
        var reasons = excluded.SelectMany(e => e!["reasons"]!.AsArray().Select(r => r!.GetValue<string>())).GroupBy(r => r)
            .OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal((members.Count, groups.GetValueOrDefault("treatment"), groups.GetValueOrDefault("control"), excluded.Count),
            (sizes["audience"]!.GetValue<int>(), sizes["treatment"]!.GetValue<int>(), sizes["control"]!.GetValue<int>(), sizes["excluded"]!.GetValue<int>()));
        Assert.Equal(reasons, sizes["exclusions"]!.AsObject().ToDictionary(r => r.Key, r => r.Value!.GetValue<int>()));
        // The same people as the data says: nine eligible, three left out, one of them for two reasons.
        Assert.Equal(customers.Order(StringComparer.Ordinal), members.Select(m => m!["customerId"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Equal(new Dictionary<string, int> { ["no-consent"] = 2, ["open-complaint"] = 2 }, reasons);
        // And the same split: the seed the preview named is the one the launch drew with.
        var control = WinBackRules.ControlGroup(customers, 0.3, sizes["seed"]!.GetValue<int>());
        Assert.Equal(control.Order(StringComparer.Ordinal), members.Where(m => m!["group"]!.GetValue<string>() == "control")
            .Select(m => m!["customerId"]!.GetValue<string>()).Order(StringComparer.Ordinal));

        // A second preview now finds everyone in the running campaign.
        var next = await Call(host.Host, HttpMethod.Post, "/api/winback/campaigns/preview", marketing, Campaign("Next"), Key(Ids.Unique("pv-key")));
        Assert.Equal((0, customers.Count), (next["body"]!["audience"]!.GetValue<int>(), next["body"]!["exclusions"]!["in-running-campaign"]!.GetValue<int>()));
    }

    [Fact]
    public async Task The_daily_series_of_a_campaign_report_sums_to_its_totals()
    {
        await using var host = await WinBackHost.StartAsync();
        var customers = Enumerable.Range(1, 10).Select(i => Ids.Unique($"ds{i}")).ToList();
        await host.Record([.. customers.SelectMany(Lapsed)]);
        var body = Campaign("Daily");
        body["seed"] = 11;
        var (created, plan) = await host.Send(HttpMethod.Post, "/api/winback/campaigns", body, "marketing");
        Assert.Equal(201, created);
        var id = plan!["campaign"]!["campaignId"]!.GetValue<string>();
        await host.Eventually($"/api/winback/campaigns/{id}", c => c["outcome"] is { } o && o["treatment"]!["sent"]!.GetValue<int>() == 7);

        var control = WinBackRules.ControlGroup(customers, 0.3, 11);
        var treated = customers.Where(c => !control.Contains(c)).ToList();
        await host.Record(
            Touch("purchase", treated[0], At.AddDays(3), new JsonObject { ["orderId"] = Ids.Unique("o"), ["amount"] = 50, ["currency"] = "USD", ["offerCode"] = WinBackRules.OfferCode(id, treated[0]) }),
            Touch("purchase", treated[0], At.AddDays(9), new JsonObject { ["orderId"] = Ids.Unique("o"), ["amount"] = 12, ["currency"] = "EUR" }),
            Touch("purchase", treated[1], At.AddDays(6), new JsonObject { ["orderId"] = Ids.Unique("o"), ["amount"] = 20, ["currency"] = "USD" }),
            Touch("purchase", control.Order(StringComparer.Ordinal).First(), At.AddDays(4), new JsonObject { ["orderId"] = Ids.Unique("o"), ["amount"] = 25, ["currency"] = "USD" }));
        var report = await host.Eventually($"/api/winback/campaigns/{id}",
            c => c["outcome"]!["treatment"]!["reactivated"]!.GetValue<int>() == 2 && c["outcome"]!["control"]!["reactivated"]!.GetValue<int>() == 1);

        var outcome = report["outcome"]!;
        var days = outcome["days"]!.AsArray();
        Assert.Equal(30, days.Count);
        Assert.Equal(At, DateTimeOffset.Parse(days[0]!["from"]!.GetValue<string>(), CultureInfo.InvariantCulture));
        foreach (var group in new[] { "treatment", "control" })
        {
            var totals = outcome[group]!;
            foreach (var field in new[] { "sent", "suppressed", "undeliverable", "redeemed", "reactivated" })
            {
                Assert.Equal(totals[field]!.GetValue<int>(), days.Sum(d => d![group]![field]!.GetValue<int>()));
                Assert.Equal(totals[field]!.GetValue<int>(), days[^1]![$"{group}ToDate"]![field]!.GetValue<int>());
            }

            var revenue = days.SelectMany(d => d![group]!["revenue"]!.AsObject()).GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.Sum(r => r.Value!.GetValue<decimal>()));
            Assert.Equal(totals["revenue"]!.AsObject().ToDictionary(r => r.Key, r => r.Value!.GetValue<decimal>()), revenue);
        }

        Assert.Equal(7, days[0]!["treatment"]!["sent"]!.GetValue<int>());
        Assert.Equal((1, 1), (days[3]!["treatment"]!["redeemed"]!.GetValue<int>(), days[3]!["treatment"]!["reactivated"]!.GetValue<int>()));
        Assert.Equal(12m, days[9]!["treatment"]!["revenue"]!["EUR"]!.GetValue<decimal>());
        Assert.Equal(1, days[4]!["control"]!["reactivated"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_bad_preview_is_refused_with_problem_details_and_only_marketing_may_preview()
    {
        await using var host = await WinBackHost.StartAsync();
        var bad = new JsonObject
        {
            ["name"] = "", ["offer"] = new JsonObject { ["kind"] = "discount-percent", ["value"] = 120 }, ["channel"] = "fax", ["controlShare"] = 0.9,
            ["filter"] = new JsonObject { ["segment"] = "vip" }, ["surprise"] = true,
        };
        var (status, contentType, text) = await host.SendRaw(HttpMethod.Post, "/api/winback/campaigns/preview", bad.ToJsonString(), "marketing");
        Assert.Equal((400, "application/problem+json"), (status, contentType));
        Assert.Equal(["channel", "controlShare", "filter.segment", "name", "offer.value", "surprise"],
            JsonNode.Parse(text)!["errors"]!.AsObject().Select(e => e.Key).Order(StringComparer.Ordinal));
        Assert.Equal(400, (await host.SendRaw(HttpMethod.Post, "/api/winback/campaigns/preview", "[1, 2]", "marketing")).Status);
        Assert.Equal(400, (await host.SendRaw(HttpMethod.Post, "/api/winback/campaigns/preview", "{\"name\":", "marketing")).Status);
        var unknownModel = Campaign("Unknown fit");
        unknownModel["filter"] = new JsonObject { ["model"] = "0190a000-0000-7000-8000-000000000000" };
        Assert.Equal((404, "application/problem+json"), Pick(await host.SendRaw(HttpMethod.Post, "/api/winback/campaigns/preview", unknownModel.ToJsonString(), "marketing")));
        foreach (var role in new[] { "analyst", "agent", "supervisor", "auditor", "admin" })
        {
            Assert.Equal(403, (await host.SendRaw(HttpMethod.Post, "/api/winback/campaigns/preview", Campaign("Not mine").ToJsonString(), role)).Status);
        }
    }

    private static string WithoutLaunchTime(JsonNode preview)
    {
        var copy = preview.DeepClone().AsObject();
        copy.Remove("launchAt");
        return copy.ToJsonString();
    }

    private static (int, string?) Pick((int Status, string? ContentType, string Text) answer) => (answer.Status, answer.ContentType);
}
