using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;

namespace CustomerJourney.Tests.WinBack;

/// <summary>The README's demo: a campaign on the CDNOW customers flagged as of 1997-09-30, answered by their real purchases after it.</summary>
public sealed class WinBackDemoTests
{
    [Fact]
    public async Task A_campaign_at_the_end_of_the_CDNOW_calibration_period_reports_real_reactivations_in_both_groups()
    {
        await using var host = await WinBackHost.StartAsync(new Dictionary<string, string>
        {
            ["WinBack:Smtp:FallbackAddressTemplate"] = "{customerId}@demo.invalid",
        });
        await DemoData.LoadAsync(host.Host.Services);
        var (fitted, model) = await host.Send(HttpMethod.Post, "/api/churn/models", new JsonObject { ["calibrationEnd"] = "1997-09-30T00:00:00Z" }, "analyst");
        Assert.Equal(201, fitted);

        var (_, candidates) = await host.Get($"/api/winback/candidates?at=1997-09-30T00:00:00Z&model={model!["id"]}&maxPAlive=0.5&pageSize=5");
        Assert.True(candidates!["total"]!.GetValue<int>() > 100, candidates.ToJsonString());
        var values = candidates["candidates"]!.AsArray().Select(c => c!["expectedRecovery"]!.GetValue<double>()).ToList();
        Assert.Equal(values.OrderDescending(), values);
        Assert.All(candidates["candidates"]!.AsArray(), c => Assert.True(c!["pAlive"]!.GetValue<double>() <= 0.5));

        var (created, plan) = await host.Send(HttpMethod.Post, "/api/winback/campaigns", new JsonObject
        {
            ["name"] = "CDNOW autumn 1997",
            ["filter"] = new JsonObject { ["model"] = model["id"]!.GetValue<string>(), ["maxPAlive"] = 0.5 },
            ["offer"] = new JsonObject { ["kind"] = "discount-amount", ["value"] = 5, ["currency"] = "USD", ["validDays"] = 90 },
            ["channel"] = "email",
            ["controlShare"] = 0.3,
            // A fixed seed keeps the split, and so this assertion, the same on every run.
            ["seed"] = 1997,
            ["at"] = "1997-09-30T00:00:00Z",
        }, "marketing");
        Assert.Equal(201, created);
        var id = plan!["campaign"]!["campaignId"]!.GetValue<string>();
        var report = await host.Eventually($"/api/winback/campaigns/{id}", c => c["outcome"] is { } o &&
            o["treatment"]!["sent"]!.GetValue<int>() + o["treatment"]!["suppressed"]!.GetValue<int>() == o["treatment"]!["assigned"]!.GetValue<int>() &&
            o["control"]!["reactivated"]!.GetValue<int>() > 0 && o["treatment"]!["reactivated"]!.GetValue<int>() > 0, TimeSpan.FromSeconds(180));

        var outcome = report["outcome"]!;
        var sent = outcome["treatment"]!["sent"]!.GetValue<int>();
        Assert.True(outcome["treatment"]!["revenue"]!["USD"]!.GetValue<decimal>() > 0 && outcome["control"]!["revenue"]!["USD"]!.GetValue<decimal>() > 0);
        // Run at 1997-09-30 with 90 days to use it, every offer expired long ago: none may go out.
        Assert.Equal(0, sent);
        Assert.True(outcome["suppressions"]!["offer-expired"]!.GetValue<int>() > 700, outcome.ToJsonString());
        Assert.Equal(outcome["treatment"]!["assigned"]!.GetValue<int>(),
            outcome["suppressions"]!["offer-expired"]!.GetValue<int>() + (outcome["suppressions"]!["consent-withdrawn"]?.GetValue<int>() ?? 0));
        var uplift = outcome["uplift"]!;
        Assert.True(uplift["lower"]!.GetValue<double>() < uplift["difference"]!.GetValue<double>() && uplift["difference"]!.GetValue<double>() < uplift["upper"]!.GetValue<double>());

        // Every offer reaches the sink once, and only once.
        await host.Settled(sent, TimeSpan.FromSeconds(60));
        Assert.Equal((sent, sent), (host.Sink.Distinct.Count, host.Sink.Received.Count));
    }
}
