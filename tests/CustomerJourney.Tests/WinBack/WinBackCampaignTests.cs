using System.Globalization;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;
using CustomerJourney.WinBack;
using Microsoft.Extensions.DependencyInjection;
using Wolverine;
using static CustomerJourney.Tests.WinBack.LapsedCustomers;

namespace CustomerJourney.Tests.WinBack;

/// <summary>
/// Campaigns end to end against the real PostgreSQL and a real SMTP sink on loopback, each test on a store of its own.
/// Exactly-once is shown by counting distinct Message-IDs at the sink, and every delivery the sink saw at all.
/// </summary>
public sealed class WinBackCampaignTests
{
    private static JsonObject Campaign(string name, int seed, double controlShare = 0.2) => new()
    {
        ["name"] = name,
        ["offer"] = new JsonObject { ["kind"] = "discount-percent", ["value"] = 20, ["validDays"] = 30 },
        ["channel"] = "email",
        ["controlShare"] = controlShare,
        ["seed"] = seed,
        ["at"] = Iso(At),
    };

    private static int Count(JsonNode campaign, string group, string field) => campaign["outcome"]![group]![field]!.GetValue<int>();

    [Fact]
    public async Task A_campaign_lists_candidates_splits_them_delivers_each_offer_once_and_reports_the_uplift()
    {
        await using var host = await WinBackHost.StartAsync();
        var customers = Enumerable.Range(1, 10).Select(i => Ids.Unique($"wb{i}")).ToList();
        var (noConsent, complaining, withdrawsLater) = (Ids.Unique("nc"), Ids.Unique("oc"), customers[0]);
        await host.Record([.. customers.SelectMany(Lapsed), .. Lapsed(noConsent), .. Lapsed(complaining),
            Touch("consent-withdrawn", noConsent, At.AddDays(-5), new JsonObject { ["purpose"] = "marketing-email" }),
            Touch("complaint-logged", complaining, At.AddDays(-20), new JsonObject { ["complaintId"] = Ids.Unique("k"), ["category"] = "delivery", ["severity"] = "low", ["description"] = "Late" }),
            // After the campaign's instant, before its offers go out: selected, then suppressed.
            Touch("consent-withdrawn", withdrawsLater, At.AddDays(10), new JsonObject { ["purpose"] = "marketing-email" })]);

        var (_, listed) = await host.Get($"/api/winback/candidates?at={Uri.EscapeDataString(Iso(At))}&includeExcluded=true");
        var reasons = listed!["candidates"]!.AsArray().ToDictionary(c => c!["customerId"]!.GetValue<string>(), c => c!["exclusions"]!.AsArray().Select(r => r!.GetValue<string>()).ToList());
        Assert.Equal(12, reasons.Count);
        Assert.Equal(["no-consent"], reasons[noConsent]);
        Assert.Contains("open-complaint", reasons[complaining]);
        Assert.All(customers, c => Assert.Empty(reasons[c]));
        var flags = listed["candidates"]!.AsArray().First(c => c!["customerId"]!.GetValue<string>() == customers[1])!["flags"]!.AsArray();
        Assert.Equal("overdue-purchase", Assert.Single(flags)!["reason"]!.GetValue<string>());
        Assert.NotEmpty(flags[0]!["eventIds"]!.AsArray());
        var (_, eligible) = await host.Get($"/api/winback/candidates?at={Uri.EscapeDataString(Iso(At))}");
        Assert.Equal(10, eligible!["total"]!.GetValue<int>());

        // A seed that puts the customer who withdraws later into the treatment group.
        var seed = Enumerable.Range(1, 1000).First(s => !WinBackRules.ControlGroup(customers, 0.2, s).Contains(withdrawsLater));
        var control = WinBackRules.ControlGroup(customers, 0.2, seed);
        var treated = customers.Where(c => !control.Contains(c)).ToList();
        Assert.Equal(403, (await host.Send(HttpMethod.Post, "/api/winback/campaigns", Campaign("Spring back", seed), "analyst")).Status);
        var (created, plan) = await host.Send(HttpMethod.Post, "/api/winback/campaigns", Campaign("Spring back", seed), "marketing");
        Assert.Equal(201, created);
        var id = plan!["campaign"]!["campaignId"]!.GetValue<string>();

        var launched = await host.Eventually($"/api/winback/campaigns/{id}", c => c["outcome"] is { } o && o["treatment"]!["sent"]!.GetValue<int>() + o["treatment"]!["suppressed"]!.GetValue<int>() == 8);
        Assert.Equal((8, 7, 1, 2), (Count(launched, "treatment", "assigned"), Count(launched, "treatment", "sent"), Count(launched, "treatment", "suppressed"), Count(launched, "control", "assigned")));
        Assert.Equal(1, launched["outcome"]!["suppressions"]!["consent-withdrawn"]!.GetValue<int>());
        Assert.Equal(2, launched["campaign"]!["excluded"]!.AsArray().Count);

        // Delivery is asynchronous: wait until the sink has them and nothing is left to deliver or retry.
        await host.Settled(7, TimeSpan.FromSeconds(30));
        var expected = treated.Where(c => c != withdrawsLater).Select(c => $"{c}@example.com").Order().ToList();
        Assert.Equal(expected, host.Sink.Distinct.Select(r => r.To).Order().ToList());
        Assert.Equal(7, host.Sink.Received.Count);

        // A repeated launch finds the audience recorded and sends nothing more.
        await using (var scope = host.Host.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IMessageBus>().InvokeAsync(new LaunchWinBackCampaign(id), TestContext.Current.CancellationToken);
        }

        await host.Settled(7, TimeSpan.FromSeconds(30));
        Assert.Equal(7, host.Sink.Received.Count);

        // A treated customer comes back with the code, a control customer without one.
        var buyer = treated.First(c => c != withdrawsLater);
        var code = WinBackRules.OfferCode(id, buyer);
        await host.Record(
            Touch("purchase", buyer, At.AddDays(5), new JsonObject { ["orderId"] = Ids.Unique("o"), ["amount"] = 50, ["currency"] = "USD", ["offerCode"] = code }),
            Touch("purchase", control.First(), At.AddDays(7), new JsonObject { ["orderId"] = Ids.Unique("o"), ["amount"] = 25, ["currency"] = "USD" }),
            // Before the window opens: no reactivation.
            Touch("purchase", treated.Last(), At.AddDays(-1), new JsonObject { ["orderId"] = Ids.Unique("o"), ["amount"] = 99, ["currency"] = "USD" }));
        var measured = await host.Eventually($"/api/winback/campaigns/{id}", c => Count(c, "treatment", "reactivated") == 1 && Count(c, "control", "reactivated") == 1);
        Assert.Equal((1, 50m, 25m, 10m), (Count(measured, "treatment", "redeemed"), measured["outcome"]!["treatment"]!["revenue"]!["USD"]!.GetValue<decimal>(),
            measured["outcome"]!["control"]!["revenue"]!["USD"]!.GetValue<decimal>(), measured["outcome"]!["offerCost"]!.GetValue<decimal>()));
        var uplift = measured["outcome"]!["uplift"]!;
        Assert.Equal(1.0 / 8 - 1.0 / 2, uplift["difference"]!.GetValue<double>(), 4);
        Assert.True(uplift["lower"]!.GetValue<double>() < uplift["difference"]!.GetValue<double>() && uplift["difference"]!.GetValue<double>() < uplift["upper"]!.GetValue<double>());

        var (_, journey) = await host.Get($"/api/customers/{buyer}/journey", "agent");
        var kinds = journey!["entries"]!.AsArray().Select(e => e!["kind"]!.GetValue<string>()).ToList();
        Assert.Contains("winback-offer-sent", kinds);
        Assert.Contains("winback-offer-redeemed", kinds);
        Assert.Contains("customer-reactivated", kinds);
        Assert.All(journey["entries"]!.AsArray().Where(e => e!["kind"]!.GetValue<string>() is "winback-offer-sent" or "winback-offer-redeemed"),
            e => Assert.True(e!["momentOfTruth"]!.GetValue<bool>()));
        Assert.Contains(code, journey["entries"]!.AsArray().Single(e => e!["kind"]!.GetValue<string>() == "winback-offer-sent")!["summary"]!.GetValue<string>());

        var (_, before) = await host.Get($"/api/winback/campaigns/{id}?asOf={Uri.EscapeDataString(Iso(DateTimeOffset.Parse(launched["campaign"]!["selectedAt"]!.GetValue<string>(), CultureInfo.InvariantCulture).AddMilliseconds(-1)))}");
        Assert.Equal("planned", before!["campaign"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_customer_who_gave_and_withdrew_consent_at_the_same_instant_is_never_mailed_whatever_the_record_order()
    {
        await using var host = await WinBackHost.StartAsync();
        var (mailed, tieBefore, tieAfter) = (Ids.Unique("ct"), Ids.Unique("tb"), Ids.Unique("ta"));
        JsonObject[] Tie(string customer, DateTimeOffset at) =>
        [
            // The withdrawal recorded first: reading by record order would let the later-recorded grant win.
            Touch("consent-withdrawn", customer, at, new JsonObject { ["purpose"] = "marketing-email" }),
            Touch("consent-given", customer, at, new JsonObject { ["purpose"] = "marketing-email" }),
        ];
        // One tie before the campaign's instant (selection must exclude), one after it (the send decision must suppress).
        await host.Record([.. Lapsed(mailed), .. Lapsed(tieBefore), .. Lapsed(tieAfter), .. Tie(tieBefore, At.AddDays(-5)), .. Tie(tieAfter, At.AddDays(10))]);

        var (_, listed) = await host.Get($"/api/winback/candidates?at={Uri.EscapeDataString(Iso(At))}&includeExcluded=true");
        var reasons = listed!["candidates"]!.AsArray().ToDictionary(c => c!["customerId"]!.GetValue<string>(), c => c!["exclusions"]!.AsArray().Select(r => r!.GetValue<string>()).ToList());
        Assert.Equal(["no-consent"], reasons[tieBefore]);
        Assert.Empty(reasons[tieAfter]);

        var (created, plan) = await host.Send(HttpMethod.Post, "/api/winback/campaigns", Campaign("Tie", seed: 1, controlShare: 0), "marketing");
        Assert.Equal(201, created);
        var id = plan!["campaign"]!["campaignId"]!.GetValue<string>();
        var launched = await host.Eventually($"/api/winback/campaigns/{id}", c => c["outcome"] is { } o && o["treatment"]!["sent"]!.GetValue<int>() + o["treatment"]!["suppressed"]!.GetValue<int>() == 2);
        Assert.Equal((1, 1), (Count(launched, "treatment", "sent"), launched["outcome"]!["suppressions"]!["consent-withdrawn"]!.GetValue<int>()));
        await host.Settled(1, TimeSpan.FromSeconds(30));
        Assert.Equal([$"{mailed}@example.com"], host.Sink.Received.Select(r => r.To).ToList());

        foreach (var customer in new[] { tieBefore, tieAfter })
        {
            var (status, consents) = await host.Get($"/api/customers/{customer}/consents?purpose=marketing-email");
            Assert.Equal(200, status);
            Assert.False(consents!["mayContact"]!.GetValue<bool>());
            Assert.False(consents["purposes"]!["marketing-email"]!["given"]!.GetValue<bool>());
        }
    }

    [Fact]
    public async Task A_host_stopped_between_commit_and_delivery_delivers_each_offer_exactly_once_after_restart()
    {
        await using var host = await WinBackHost.StartAsync();
        var customers = Enumerable.Range(1, 3).Select(i => Ids.Unique($"rs{i}")).ToList();
        await host.Record([.. customers.SelectMany(Lapsed)]);
        host.Sink.Refuse(int.MaxValue);

        var (_, plan) = await host.Send(HttpMethod.Post, "/api/winback/campaigns", Campaign("Restart", seed: 1, controlShare: 0), "marketing");
        var id = plan!["campaign"]!["campaignId"]!.GetValue<string>();
        await host.Eventually($"/api/winback/campaigns/{id}", c => c["outcome"] is { } o && o["treatment"]!["sent"]!.GetValue<int>() == 3);
        // Committed, and every first attempt refused: the deliveries wait in the durable store for their retry.
        await Waiting.Until(async () => await host.ScheduledDeliveries() == 3, TimeSpan.FromSeconds(30), "3 deliveries waiting for their retry");
        Assert.Equal(3, await host.PendingOffers());
        await host.StopAsync();
        Assert.Empty(host.Sink.Received);

        host.Sink.Refuse(0);
        await host.RestartAsync();
        await host.Settled(3, TimeSpan.FromSeconds(60));
        Assert.Equal(customers.Select(c => $"{c}@example.com").Order(), host.Sink.Distinct.Select(r => r.To).Order());
        Assert.Equal(3, host.Sink.Received.Count);
    }

    [Fact]
    public async Task A_failing_sink_is_retried_with_back_off_and_a_lost_acknowledgement_is_absorbed_by_the_message_id()
    {
        await using var host = await WinBackHost.StartAsync();
        var customer = Ids.Unique("fs");
        await host.Record(Lapsed(customer));
        // First attempt refused; the second kept by the sink but reported as failed; the third acknowledged.
        host.Sink.Refuse(1);
        host.Sink.AcceptButFail(1);

        var (_, plan) = await host.Send(HttpMethod.Post, "/api/winback/campaigns", Campaign("Flaky", seed: 1, controlShare: 0), "marketing");
        var id = plan!["campaign"]!["campaignId"]!.GetValue<string>();
        await host.Settled(1, TimeSpan.FromSeconds(30));
        var received = host.Sink.Received;
        Assert.Equal(2, received.Count);
        Assert.Equal(WinBackRules.DeliveryKey(id, WinBackRules.OfferCode(id, customer)), Assert.Single(host.Sink.Distinct).Key);
        Assert.True(received[1].At - received[0].At >= TimeSpan.FromMilliseconds(900), $"retried after {received[1].At - received[0].At}");
        Assert.Equal(0, await host.PendingOffers());
    }

    [Fact]
    public async Task Bad_campaigns_are_refused_with_problem_details_and_nothing_is_planned()
    {
        await using var host = await WinBackHost.StartAsync();
        var bad = new JsonObject
        {
            ["name"] = "",
            ["offer"] = new JsonObject { ["kind"] = "discount-percent", ["value"] = 120 },
            ["channel"] = "fax",
            ["controlShare"] = 0.9,
            ["at"] = Iso(DateTimeOffset.UtcNow.AddDays(1)),
            ["filter"] = new JsonObject { ["segment"] = "vip", ["model"] = "nope" },
            ["surprise"] = true,
        };
        var (status, problem) = await host.Send(HttpMethod.Post, "/api/winback/campaigns", bad, "marketing");
        Assert.Equal(400, status);
        var fields = problem!["errors"]!.AsObject().Select(e => e.Key).Order().ToList();
        Assert.Equal(["at", "channel", "controlShare", "filter.model", "filter.segment", "name", "offer.value", "surprise"], fields);
        var (_, list) = await host.Get("/api/winback/campaigns");
        Assert.Empty(list!.AsArray());
        Assert.Equal(400, (await host.Get("/api/winback/candidates?maxPAlive=2&segment=vip")).Status);
        Assert.Equal(404, (await host.Get("/api/winback/campaigns/wb-nope")).Status);
    }
    [Fact]
    public async Task With_two_instances_launching_at_once_a_campaign_selects_its_audience_once_and_each_offer_reaches_the_customer_once()
    {
        await using var first = await WinBackHost.StartAsync();
        await using var second = await WinBackHost.JoinAsync(first);
        var customers = Enumerable.Range(1, 12).Select(i => Ids.Unique($"tw{i}")).ToList();
        await first.Record([.. customers.SelectMany(Lapsed)]);

        // Planned on one instance (its launch is scheduled through the durable outbox, for whichever node takes it),
        // and launched by hand on both at the same moment, as two operators retrying would.
        var (created, plan) = await first.Send(HttpMethod.Post, "/api/winback/campaigns", Campaign("Twins", seed: 7), "marketing");
        Assert.Equal(201, created);
        var id = plan!["campaign"]!["campaignId"]!.GetValue<string>();
        await Task.WhenAll(new[] { first, second }.Select(async host =>
        {
            await using var scope = host.Host.Services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<IMessageBus>().InvokeAsync(new LaunchWinBackCampaign(id), TestContext.Current.CancellationToken);
        }));

        var treated = customers.Except(WinBackRules.ControlGroup(customers, 0.2, 7)).ToList();
        await first.Settled(treated.Count, TimeSpan.FromSeconds(60));
        Assert.Equal(treated.Select(c => $"{c}@example.com").Order(), first.Sink.Distinct.Select(r => r.To).Order());
        Assert.Equal(treated.Count, first.Sink.Received.Count);

        await using var session = first.Store.QuerySession();
        var campaign = await session.Events.FetchStreamAsync(WinBackCampaign.StreamKey(id), token: TestContext.Current.CancellationToken);
        Assert.Single(campaign, e => e.Data is WinBackAudienceSelected);
        foreach (var customer in treated)
        {
            var stream = await session.Events.FetchStreamAsync(customer, token: TestContext.Current.CancellationToken);
            Assert.Single(stream, e => e.Data is WinBackOfferSent sent && sent.CampaignId == id);
        }
    }
}
