using System.Globalization;
using System.Text.Json.Nodes;
using CustomerJourney.Churn;
using CustomerJourney.Tests.Faults;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;
using CustomerJourney.WinBack;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Wolverine;

namespace CustomerJourney.Tests.WinBack;

/// <summary>
/// Issue 16, the promises made to a person, end to end against the real SMTP sink (and a webhook), with restarts where
/// the case needs them: consent at the moment of sending, the frequency cap in real time, no offer lost in silence, and
/// a bad event that degrades win-back instead of stopping it. Retry schedules are compressed to seconds.
/// </summary>
public sealed class WinBackPromiseTests
{
    private static DateTimeOffset Today => new(DateTime.UtcNow.Date, TimeSpan.Zero);

    private static string Iso(DateTimeOffset t) => t.ToString("O", CultureInfo.InvariantCulture);

    private static JsonObject Touch(string kind, string customer, DateTimeOffset at, JsonObject data) =>
        TouchpointJson.Make(kind, customer, at, "staff", Ids.Unique("src"), "web", data);

    /// <summary>Consent for <paramref name="purpose"/>, an e-mail address, two purchases ten days apart, then silence: overdue at <paramref name="at"/> and ever after.</summary>
    private static JsonObject[] Lapsed(string customer, DateTimeOffset at, string purpose = "marketing-email") =>
    [
        Touch("consent-given", customer, at.AddDays(-90), new JsonObject { ["purpose"] = purpose }),
        Touch("contact-details-changed", customer, at.AddDays(-90), new JsonObject { ["email"] = $"{customer}@example.com" }),
        Touch("purchase", customer, at.AddDays(-59), new JsonObject { ["orderId"] = Ids.Unique("o"), ["amount"] = 30, ["currency"] = "USD" }),
        Touch("purchase", customer, at.AddDays(-49), new JsonObject { ["orderId"] = Ids.Unique("o"), ["amount"] = 30, ["currency"] = "USD" }),
    ];

    private static JsonObject Campaign(string name, DateTimeOffset? at, int validDays = 30, string channel = "email")
    {
        var campaign = new JsonObject
        {
            ["name"] = name,
            ["offer"] = new JsonObject { ["kind"] = "discount-percent", ["value"] = 20, ["validDays"] = validDays },
            ["channel"] = channel,
            ["controlShare"] = 0,
            ["seed"] = 1,
        };
        if (at is { } instant)
        {
            campaign["at"] = Iso(instant);
        }

        return campaign;
    }

    /// <summary>A quick in-process retry, then durable retries <paramref name="every"/> apart: the real ~43 minutes in seconds.</summary>
    private static Dictionary<string, string> Compressed(int scheduled, string every)
    {
        var settings = new Dictionary<string, string> { ["WinBack:Delivery:Cooldowns:0"] = "00:00:00.1" };
        for (var i = 0; i < scheduled; i++)
        {
            settings[$"WinBack:Delivery:Schedule:{i}"] = every;
        }

        return settings;
    }

    private static async Task<string> Plan(WinBackHost host, JsonObject campaign)
    {
        var (status, plan) = await host.Send(HttpMethod.Post, "/api/winback/campaigns", campaign, "marketing");
        Assert.True(status == 201, $"{status} {plan}");
        return plan!["campaign"]!["campaignId"]!.GetValue<string>();
    }

    private static int Count(JsonNode campaign, string field) => campaign["outcome"]!["treatment"]![field]!.GetValue<int>();

    private static int Suppressed(JsonNode campaign, string reason) => campaign["outcome"]!["suppressions"]![reason]?.GetValue<int>() ?? 0;

    private static Task<JsonNode> Report(WinBackHost host, string id, Func<JsonNode, bool> holds, int seconds = 60) =>
        host.Eventually($"/api/winback/campaigns/{id}", c => c["outcome"] is JsonObject && holds(c), TimeSpan.FromSeconds(seconds));

    private static Task NothingPending(WinBackHost host) =>
        Waiting.Until(async () => await host.PendingOffers() == 0, TimeSpan.FromSeconds(60), "no offer message left to handle");

    // Case 3: consent, erasure and open complaints are checked at the moment of sending.

    [Fact]
    public async Task A_consent_withdrawn_while_an_offer_waits_for_its_retry_stops_it_even_after_a_restart()
    {
        await using var host = await WinBackHost.StartAsync(Compressed(3, "00:00:05"));
        var customer = Ids.Unique("cw");
        await host.Record(Lapsed(customer, Today));
        host.Sink.Refuse(int.MaxValue);

        var id = await Plan(host, Campaign("Withdrawn meanwhile", Today.AddDays(-1)));
        await Report(host, id, c => Count(c, "sent") == 1);
        await Waiting.Until(() => host.Sink.Attempts >= 1, TimeSpan.FromSeconds(30), "a first, refused attempt");
        // Recorded as sent, refused by the sink, waiting for its retry: the customer says no.
        await host.Record(Touch("consent-withdrawn", customer, DateTimeOffset.UtcNow, new JsonObject { ["purpose"] = "marketing-email" }));
        await host.StopAsync();

        host.Sink.Refuse(0);
        await host.RestartAsync();
        var report = await Report(host, id, c => Suppressed(c, SuppressionReasons.ConsentWithdrawn) == 1);
        await NothingPending(host);
        Assert.Empty(host.Sink.Received);
        Assert.Equal((0, 1, 0), (Count(report, "sent"), Count(report, "suppressed"), Count(report, "undeliverable")));
    }

    [Fact]
    public async Task A_consent_withdrawn_while_a_webhook_offer_waits_for_its_retry_stops_it()
    {
        await using var webhook = new WebhookReceiver { Status = 503 };
        var settings = Compressed(3, "00:00:03");
        settings["WinBack:Webhook:Url"] = webhook.Url.AbsoluteUri;
        await using var host = await WinBackHost.StartAsync(settings);
        var customer = Ids.Unique("wh");
        await host.Record(Lapsed(customer, Today, "marketing-app"));

        var id = await Plan(host, Campaign("App offer", Today.AddDays(-1), channel: "app"));
        await Waiting.Until(() => webhook.Attempts >= 1, TimeSpan.FromSeconds(30), "a first, refused post to the webhook");
        await host.Record(Touch("consent-withdrawn", customer, DateTimeOffset.UtcNow, new JsonObject { ["purpose"] = "marketing-app" }));
        webhook.Status = 200;

        await Report(host, id, c => Suppressed(c, SuppressionReasons.ConsentWithdrawn) == 1);
        await NothingPending(host);
        Assert.Empty(webhook.Accepted);
    }

    [Fact]
    public async Task Every_offer_mail_carries_a_one_click_unsubscribe_that_records_the_withdrawal()
    {
        await using var host = await WinBackHost.StartAsync();
        var customer = Ids.Unique("un");
        await host.Record(Lapsed(customer, Today));
        await Plan(host, Campaign("Unsubscribe", Today.AddDays(-1)));
        await host.Settled(1, TimeSpan.FromSeconds(30));

        var mail = Assert.Single(host.Sink.Received);
        Assert.Equal("List-Unsubscribe=One-Click", mail.ListUnsubscribePost);
        Assert.True(mail.ListUnsubscribe is ['<', .., '>'], mail.ListUnsubscribe);
        var link = new Uri(mail.ListUnsubscribe[1..^1]);
        Assert.StartsWith("/api/winback/unsubscribe/", link.AbsolutePath, StringComparison.Ordinal);

        const string OneClick = "List-Unsubscribe=One-Click";
        const string Form = "application/x-www-form-urlencoded";
        var path = link.AbsolutePath;
        var forged = path[..^5] + (path[^5] == 'A' ? 'B' : 'A') + path[^4..];
        Assert.Equal(404, (await host.SendAnonymous(HttpMethod.Post, forged, OneClick, Form)).Status);
        Assert.Equal(200, (await host.SendAnonymous(HttpMethod.Post, path, OneClick, Form)).Status);
        Assert.Equal(200, (await host.SendAnonymous(HttpMethod.Post, path, OneClick, Form)).Status);

        var (_, consents) = await host.Get($"/api/customers/{customer}/consents?purpose=marketing-email");
        Assert.False(consents!["purposes"]!["marketing-email"]!["given"]!.GetValue<bool>());
        var (_, journey) = await host.Get($"/api/customers/{customer}/journey", "agent");
        Assert.Single(journey!["entries"]!.AsArray(), e => e!["kind"]!.GetValue<string>() == "consent-withdrawn");
    }

    // Case 4: the frequency cap counts wall-clock sends; a past-instant campaign never mails an expired offer.

    [Fact]
    public async Task A_live_campaign_minutes_after_a_past_instant_campaign_does_not_write_to_the_same_person_again()
    {
        await using var host = await WinBackHost.StartAsync();
        var past = Today.AddDays(-40);
        var customer = Ids.Unique("cap");
        await host.Record(Lapsed(customer, past));

        var first = await Plan(host, Campaign("Replayed autumn", past, validDays: 90));
        await host.Settled(1, TimeSpan.FromSeconds(30));
        var report = await Report(host, first, c => Count(c, "sent") == 1);
        Assert.NotNull(report["outcome"]!["lastSentAt"]);
        Assert.True(DateTimeOffset.Parse(report["outcome"]!["lastSentAt"]!.GetValue<string>(), CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.AddMinutes(-5));

        var (_, listed) = await host.Get("/api/winback/candidates?includeExcluded=true");
        var candidate = listed!["candidates"]!.AsArray().Single(c => c!["customerId"]!.GetValue<string>() == customer)!;
        Assert.Contains(ExclusionReasons.ContactedRecently, candidate["exclusions"]!.AsArray().Select(r => r!.GetValue<string>()));

        var second = await Plan(host, Campaign("Live, minutes later", null));
        var launched = await host.Eventually($"/api/winback/campaigns/{second}", c => c["campaign"]!["status"]!.GetValue<string>() == "launched");
        Assert.Empty(launched["campaign"]!["members"]!.AsArray());
        await NothingPending(host);
        Assert.Single(host.Sink.Distinct);
    }

    [Fact]
    public async Task A_campaign_run_at_a_past_instant_never_mails_an_offer_that_has_already_expired()
    {
        await using var host = await WinBackHost.StartAsync();
        var past = Today.AddDays(-40);
        var customer = Ids.Unique("exp");
        await host.Record(Lapsed(customer, past));

        var id = await Plan(host, Campaign("Expired", past, validDays: 30));
        var report = await Report(host, id, c => Suppressed(c, SuppressionReasons.OfferExpired) == 1);
        await NothingPending(host);
        Assert.Equal(0, Count(report, "sent"));
        Assert.Empty(host.Sink.Received);
    }

    // Case 5: no offer lost in silence.

    [Fact]
    public async Task A_permanent_rejection_is_not_retried_and_the_offer_ends_undeliverable()
    {
        await using var host = await WinBackHost.StartAsync();
        var customer = Ids.Unique("rej");
        await host.Record(Lapsed(customer, Today));
        host.Sink.RejectPermanently(int.MaxValue);

        var id = await Plan(host, Campaign("Rejected", Today.AddDays(-1)));
        var report = await Report(host, id, c => Count(c, "undeliverable") == 1);
        Assert.Equal((0, 1), (Count(report, "sent"), report["outcome"]!["undeliverable"]!["rejected"]!.GetValue<int>()));
        // Once the offer is dead-lettered no retry can follow: wait for that, not for a fixed time.
        var (status, health) = (0, "");
        await Waiting.Until(async () =>
        {
            (status, health) = await host.SendAnonymous(HttpMethod.Get, "/health/deliveries");
            return status == 503;
        }, TimeSpan.FromSeconds(30), "the offer to be dead-lettered");
        Assert.Equal(1, JsonNode.Parse(health)!["checks"]!["deliveries"]!["data"]!["deadLettered"]!.GetValue<int>());
        Assert.Equal(1, host.Sink.Attempts);

        var (_, journey) = await host.Get($"/api/customers/{customer}/journey", "agent");
        Assert.Single(journey!["entries"]!.AsArray(), e => e!["kind"]!.GetValue<string>() == "winback-offer-undeliverable");
    }

    [Fact]
    public async Task An_offer_whose_retries_run_out_is_recorded_undeliverable_dead_lettered_and_re_driven_by_an_admin_with_every_check_again()
    {
        await using var host = await WinBackHost.StartAsync(Compressed(1, "00:00:01"));
        var (kept, withdrawing) = (Ids.Unique("rd"), Ids.Unique("rw"));
        await host.Record([.. Lapsed(kept, Today), .. Lapsed(withdrawing, Today)]);
        host.Sink.Refuse(int.MaxValue);

        var id = await Plan(host, Campaign("Sink down", Today.AddDays(-1)));
        var report = await Report(host, id, c => Count(c, "undeliverable") == 2, seconds: 90);
        Assert.Equal((0, 2), (Count(report, "sent"), report["outcome"]!["undeliverable"]!["retries-exhausted"]!.GetValue<int>()));
        // Three attempts each: the first, one in process, one from the durable store.
        Assert.Equal(6, host.Sink.Attempts);
        await using (var session = host.Store.QuerySession())
        {
            var undeliverable = (await session.Events.FetchStreamAsync(kept, token: TestContext.Current.CancellationToken)).Select(e => e.Data).OfType<WinBackOfferUndeliverable>().Single();
            Assert.Equal((3, false), (undeliverable.Attempts, undeliverable.Permanent));
        }

        var health = await Waiting2.Health(host, h => h["checks"]!["deliveries"]!["data"]!["deadLettered"]!.GetValue<int>() == 2);
        var ids = health["checks"]!["deliveries"]!["data"]!["messages"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(2, ids.Count);
        var redrive = new JsonObject { ["ids"] = new JsonArray([.. ids.Select(i => JsonValue.Create(i))]) };
        Assert.Equal(403, (await host.Send(HttpMethod.Post, "/api/dead-letters/replay", redrive, "marketing")).Status);
        Assert.Equal(200, (await host.Send(HttpMethod.Post, "/api/dead-letters/", new JsonObject(), "admin")).Status);

        // Meanwhile one of them withdrew consent; the sink is back.
        await host.Record(Touch("consent-withdrawn", withdrawing, DateTimeOffset.UtcNow, new JsonObject { ["purpose"] = "marketing-email" }));
        host.Sink.Refuse(0);
        var (replayed, answer) = await host.Send(HttpMethod.Post, "/api/dead-letters/replay", redrive, "admin");
        Assert.True(replayed == 200, $"{replayed} {answer}");

        report = await Report(host, id, c => Count(c, "sent") == 1 && Suppressed(c, SuppressionReasons.ConsentWithdrawn) == 1, seconds: 90);
        Assert.Equal(0, Count(report, "undeliverable"));
        await host.Settled(1, TimeSpan.FromSeconds(30));
        Assert.Equal([$"{kept}@example.com"], host.Sink.Received.Select(r => r.To).ToList());
        await Waiting2.Health(host, h => h["checks"]!["deliveries"]!["data"]!["deadLettered"]!.GetValue<int>() == 0);
    }

    // Case 7: a fit that did not converge is marked, and a campaign on it refused unless the plan allows it.

    [Fact]
    public async Task A_fit_that_did_not_converge_is_marked_on_candidates_and_a_campaign_on_it_is_refused_unless_allowed()
    {
        await using var host = await WinBackHost.StartAsync();
        var customer = Ids.Unique("cv");
        await host.Record(Lapsed(customer, Today));
        var modelId = Guid.CreateVersion7();
        FittedParameters Fit(bool converged, params string[] names) => new(names.ToDictionary(n => n, _ => 1.0), -100, converged);
        await using (var session = host.Store.LightweightSession())
        {
            session.Events.StartStream(ChurnModel.StreamKey(modelId), new ChurnModelFitted(modelId, Today.AddDays(-30), null, "USD", 1, 5,
                new FittedModels(Fit(true, "r", "alpha", "a", "b"), Fit(false, "r", "alpha", "s", "beta"), Fit(true, "p", "q", "gamma")), DateTimeOffset.UtcNow, "user:test"));
            await session.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        var (_, listed) = await host.Get($"/api/winback/candidates?model={modelId}");
        Assert.False(listed!["converged"]!.GetValue<bool>());

        var plan = Campaign("On a bad fit", Today.AddDays(-1));
        plan["filter"] = new JsonObject { ["model"] = modelId.ToString() };
        var (refused, problem) = await host.Send(HttpMethod.Post, "/api/winback/campaigns", plan, "marketing");
        Assert.Equal(422, refused);
        Assert.Equal("model-not-converged", problem!["rule"]!.GetValue<string>());
        var (_, campaigns) = await host.Get("/api/winback/campaigns");
        Assert.Empty(campaigns!.AsArray());

        plan["allowUnconvergedModel"] = true;
        var (created, allowed) = await host.Send(HttpMethod.Post, "/api/winback/campaigns", plan, "marketing");
        Assert.Equal(201, created);
        Assert.False(allowed!["converged"]!.GetValue<bool>());
        var id = allowed["campaign"]!["campaignId"]!.GetValue<string>();
        var launched = await host.Eventually($"/api/winback/campaigns/{id}", c => c["campaign"]!["status"]!.GetValue<string>() == "launched");
        Assert.False(launched["converged"]!.GetValue<bool>());
        Assert.Equal(modelId.ToString(), launched["campaign"]!["modelId"]!.GetValue<string>());
    }

    // Case 6: a bad event degrades, never stops, win-back and the flag sweep.

    [Fact]
    public async Task A_customer_whose_history_cannot_be_read_is_left_out_while_candidates_a_launch_and_the_sweep_carry_on()
    {
        await using var host = await WinBackHost.StartAsync();
        var (good, other, poisoned) = (Ids.Unique("ok"), Ids.Unique("ok"), Ids.Unique("bad"));
        await host.Record([.. Lapsed(good, Today), .. Lapsed(other, Today), .. Lapsed(poisoned, Today)]);
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await Invariants.CaughtUp(connection, host.Schema);

        // Another tool writes a consent statement no reader can parse: a withdrawal, for all we can tell.
        var events = $"{host.Schema}.mt_events";
        await Invariants.AppendUnreadableCopy(connection, host.Schema, poisoned, "consent_given");

        var (listedStatus, listed) = await host.Get("/api/winback/candidates?includeExcluded=true");
        Assert.True(listedStatus == 200, $"{listedStatus} {listed}");
        var reasons = listed!["candidates"]!.AsArray().ToDictionary(c => c!["customerId"]!.GetValue<string>(), c => c!["exclusions"]!.AsArray().Select(r => r!.GetValue<string>()).ToList());
        Assert.Equal([ExclusionReasons.Unreadable], reasons[poisoned]);
        Assert.Empty(reasons[good]);
        Assert.Empty(reasons[other]);
        Assert.Equal(1, listed["unreadable"]!.GetValue<int>());
        var (_, health) = await host.SendAnonymous(HttpMethod.Get, "/health/projections");
        Assert.Contains(poisoned, JsonNode.Parse(health)!["checks"]!["unreadable-streams"]!["description"]!.GetValue<string>(), StringComparison.Ordinal);

        var id = await Plan(host, Campaign("Despite a bad event", Today.AddDays(-1)));
        var report = await Report(host, id, c => Count(c, "sent") == 2);
        Assert.Equal([ExclusionReasons.Unreadable], report["campaign"]!["excluded"]!.AsArray().Single(x => x!["customerId"]!.GetValue<string>() == poisoned)!["reasons"]!
            .AsArray().Select(r => r!.GetValue<string>()));
        await host.Settled(2, TimeSpan.FromSeconds(30));

        // A send decision for them (here a campaign that selected them before the bad event arrived) fails closed.
        var selectedBefore = Ids.Unique("wb");
        await using (var session = host.Store.LightweightSession())
        {
            var offer = new WinBackOffer(OfferKind.DiscountPercent, 10, "USD", 30);
            var member = new AudienceMember(poisoned, AudienceGroup.Treatment, 10, 1, null, [FlagReasons.OverduePurchase], WinBackRules.OfferCode(selectedBefore, poisoned));
            session.Events.StartStream(WinBackCampaign.StreamKey(selectedBefore),
                new WinBackCampaignPlanned(selectedBefore, "Before", new CandidateFilter(null, null, null, null), offer, Channel.Email, 0, 1, Today.AddDays(-1), Today, "user:test"),
                new WinBackAudienceSelected(selectedBefore, Today.AddDays(-1), null, [member], [], DateTimeOffset.UtcNow));
            await session.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        await using var scope = host.Host.Services.CreateAsyncScope();
        var bus = scope.ServiceProvider.GetRequiredService<IMessageBus>();
        await bus.InvokeAsync(new SendWinBackOffer(selectedBefore, poisoned), TestContext.Current.CancellationToken);
        Assert.Equal(1, await Invariants.Scalar(connection,
            $"select count(*) from {events} where stream_id = '{poisoned}' and data->>'campaignId' = '{selectedBefore}' and data->>'reason' = 'unreadable'"));
        await NothingPending(host);
        Assert.Equal(2, host.Sink.Received.Count);

        // The sweep: the chunk holding the bad customer still evaluates the others, and the whole sweep completes.
        await using (var session = host.Store.LightweightSession())
        {
            session.Events.Append(good, new ConsentWithdrawn
            {
                CustomerId = good, OccurredAt = DateTimeOffset.UtcNow, Channel = Channel.Web, Source = "staff", SourceId = Ids.Unique("src"), Purpose = "marketing-email",
            });
            await session.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        await bus.InvokeAsync(new EvaluateChurnFlags([good, poisoned]), TestContext.Current.CancellationToken);
        var (_, flags) = await host.Get($"/api/customers/{good}/churn/flags");
        Assert.Contains(FlagReasons.ConsentWithdrawn, flags!["flags"]!.AsArray().Select(f => f!["reason"]!.GetValue<string>()));
        await bus.InvokeAsync(new EvaluateAllChurnFlags(), TestContext.Current.CancellationToken);
    }
}

/// <summary>Polls an open probe until its JSON holds.</summary>
internal static class Waiting2
{
    public static async Task<JsonNode> Health(WinBackHost host, Func<JsonNode, bool> holds, string probe = "/health/deliveries")
    {
        JsonNode? last = null;
        await Waiting.Until(async () =>
        {
            var (_, text) = await host.SendAnonymous(HttpMethod.Get, probe);
            last = JsonNode.Parse(text);
            return holds(last!);
        }, TimeSpan.FromSeconds(60), $"{probe} to hold; last: {last}");
        return last!;
    }
}
