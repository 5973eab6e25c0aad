using System.Globalization;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;
using CustomerJourney.WinBack;

namespace CustomerJourney.Tests.WinBack;

/// <summary>
/// Win-back counts people: two customer ids that identity resolution links (a shared e-mail) are one candidate, get one
/// offer at the person's latest address, and are judged on both members; a wrong merge split again returns the
/// candidates to what they were. Each test on a <see cref="WinBackHost"/> of its own (campaigns select from the whole store).
/// </summary>
public sealed class WinBackPeopleTests
{
    private static readonly DateTimeOffset At = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-20);

    // Resolution runs after the ingest commits, through the host's durable queue; on a host of its own it is seconds.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);

    private static string Iso(DateTimeOffset t) => t.ToString("O", CultureInfo.InvariantCulture);

    private static string CandidatesUrl(bool includeExcluded = true) =>
        $"/api/winback/candidates?at={Uri.EscapeDataString(Iso(At))}&includeExcluded={(includeExcluded ? "true" : "false")}&pageSize=500";

    private static JsonObject Touch(string kind, string customer, DateTimeOffset at, JsonObject data) =>
        TouchpointJson.Make(kind, customer, at, "staff", Ids.Unique("src"), "web", data);

    private static JsonObject Email(string customer, DateTimeOffset at, string email) =>
        Touch("contact-details-changed", customer, at, new JsonObject { ["email"] = email });

    /// <summary>Consent, an e-mail address, two purchases (by default ten days apart) and then silence: overdue at <see cref="At"/>.</summary>
    private static JsonObject[] Lapsed(string customer, string email, int first = -59, int second = -49) =>
    [
        Touch("consent-given", customer, At.AddDays(-90), new JsonObject { ["purpose"] = "marketing-email" }),
        Email(customer, At.AddDays(-90), email),
        Touch("purchase", customer, At.AddDays(first), new JsonObject { ["orderId"] = Ids.Unique("o"), ["amount"] = 30, ["currency"] = "USD" }),
        Touch("purchase", customer, At.AddDays(second), new JsonObject { ["orderId"] = Ids.Unique("o"), ["amount"] = 30, ["currency"] = "USD" }),
    ];

    private static string Address(string name) => $"{name}.{Guid.NewGuid():N}@example.org";

    private static JsonObject Campaign(string name) => new()
    {
        ["name"] = name,
        ["offer"] = new JsonObject { ["kind"] = "discount-percent", ["value"] = 20, ["validDays"] = 30 },
        ["channel"] = "email",
        ["controlShare"] = 0,
        ["seed"] = 1,
        ["at"] = Iso(At),
    };

    private static string[] Members(JsonNode node) => [.. node["members"]!.AsArray().Select(m => m!.GetValue<string>())];

    private static Dictionary<string, JsonNode> ById(JsonNode page) =>
        page["candidates"]!.AsArray().ToDictionary(c => c!["customerId"]!.GetValue<string>(), c => c!);

    /// <summary>Until identity resolution put exactly these customers in one profile; answers its founder (the customer seen first).</summary>
    private static async Task<string> Linked(WinBackHost host, params string[] customers)
    {
        var profile = await Waiting.For(() => host.Get($"/api/profiles/{customers[0]}", "supervisor"),
            p => p.Status == 200 && p.Body!["members"]!.AsArray().Select(m => m!["customerId"]!.GetValue<string>()).Order(StringComparer.Ordinal)
                .SequenceEqual(customers.Order(StringComparer.Ordinal)), Patience, $"one profile of {string.Join(", ", customers)}");
        return profile.Body!["profileId"]!.GetValue<string>()["pf~".Length..];
    }

    private static async Task<string> Launch(WinBackHost host, string name)
    {
        var (created, plan) = await host.Send(HttpMethod.Post, "/api/winback/campaigns", Campaign(name), "marketing");
        Assert.True(created == 201, plan?.ToJsonString());
        return plan!["campaign"]!["campaignId"]!.GetValue<string>();
    }

    private static async Task<List<string>> Kinds(WinBackHost host, string customer)
    {
        var (_, journey) = await host.Get($"/api/customers/{customer}/journey", "agent");
        return [.. journey!["entries"]!.AsArray().Select(e => e!["kind"]!.GetValue<string>())];
    }

    [Fact]
    public async Task A_person_under_two_customer_ids_is_one_candidate_and_gets_one_offer_at_the_latest_address_recorded_on_the_member_who_gave_it()
    {
        await using var host = await WinBackHost.StartAsync();
        var (ann, annToo) = (Ids.Unique("pa"), Ids.Unique("pb"));
        var (shared, latest) = (Address("ann"), Address("ann-new"));
        // The second id shows the same e-mail (identity resolution links them), then, later in business time, a new one.
        await host.Record([.. Lapsed(ann, shared), Email(annToo, At.AddDays(-80), shared), Email(annToo, At.AddDays(-10), latest)]);
        var founder = await Linked(host, ann, annToo);

        var (_, listed) = await host.Get(CandidatesUrl());
        var candidate = Assert.Single(listed!["candidates"]!.AsArray())!;
        Assert.Equal((founder, $"pf~{founder}"), (candidate["customerId"]!.GetValue<string>(), candidate["profileId"]!.GetValue<string>()));
        Assert.Equal(new[] { ann, annToo }.Order(StringComparer.Ordinal), Members(candidate));
        Assert.Empty(candidate["exclusions"]!.AsArray());

        var id = await Launch(host, "One person");
        var launched = await host.Eventually($"/api/winback/campaigns/{id}", c => c["outcome"] is { } o && o["treatment"]!["sent"]!.GetValue<int>() == 1);
        var member = Assert.Single(launched["campaign"]!["members"]!.AsArray())!;
        Assert.Equal((founder, $"pf~{founder}"), (member["customerId"]!.GetValue<string>(), member["profileId"]!.GetValue<string>()));
        await host.Settled(1, TimeSpan.FromSeconds(30));
        Assert.Equal([latest], host.Sink.Received.Select(r => r.To));
        Assert.Contains("winback-offer-sent", await Kinds(host, annToo));
        Assert.DoesNotContain("winback-offer-sent", await Kinds(host, ann));

        // A second campaign at once: the offer just sent to one member keeps the person out.
        var (_, again) = await host.Get("/api/winback/candidates?includeExcluded=true");
        Assert.Contains("contacted-recently", Assert.Single(again!["candidates"]!.AsArray())!["exclusions"]!.AsArray().Select(r => r!.GetValue<string>()));

        // A purchase by either member is the person's: the one with the code reactivates and redeems, once, on the audience member's stream.
        await host.Record(Touch("purchase", annToo, At.AddDays(3), new JsonObject
        {
            ["orderId"] = Ids.Unique("o"), ["amount"] = 40, ["currency"] = "USD", ["offerCode"] = WinBackRules.OfferCode(id, founder),
        }));
        var measured = await host.Eventually($"/api/winback/campaigns/{id}", c => c["outcome"]!["treatment"]!["redeemed"]!.GetValue<int>() == 1);
        Assert.Equal((1, 1, 1, 40m), (measured["outcome"]!["treatment"]!["assigned"]!.GetValue<int>(), measured["outcome"]!["treatment"]!["sent"]!.GetValue<int>(),
            measured["outcome"]!["treatment"]!["reactivated"]!.GetValue<int>(), measured["outcome"]!["treatment"]!["revenue"]!["USD"]!.GetValue<decimal>()));
        var founderKinds = await Kinds(host, founder);
        Assert.Equal((1, 1), (founderKinds.Count(k => k == "customer-reactivated"), founderKinds.Count(k => k == "winback-offer-redeemed")));
    }

    [Fact]
    public async Task A_withdrawal_by_one_member_suppresses_the_persons_offer_and_an_open_complaint_on_one_member_excludes_the_person()
    {
        await using var host = await WinBackHost.StartAsync();
        var (withdraws, withdrawsToo, complains, complainsToo) = (Ids.Unique("wa"), Ids.Unique("wb"), Ids.Unique("ca"), Ids.Unique("cb"));
        var (first, second) = (Address("withdraws"), Address("complains"));
        await host.Record([.. Lapsed(withdraws, first), Email(withdrawsToo, At.AddDays(-80), first), .. Lapsed(complains, second), Email(complainsToo, At.AddDays(-80), second),
            Touch("complaint-logged", complainsToo, At.AddDays(-5), new JsonObject
            {
                ["complaintId"] = Ids.Unique("k"), ["category"] = "delivery", ["severity"] = "low", ["description"] = "Late",
            }),
            // After the campaign's instant, before its offer goes out: selected, then suppressed.
            Touch("consent-withdrawn", withdrawsToo, At.AddDays(10), new JsonObject { ["purpose"] = "marketing-email" })]);
        var withdrawing = await Linked(host, withdraws, withdrawsToo);
        var complaining = await Linked(host, complains, complainsToo);

        var (_, listed) = await host.Get(CandidatesUrl());
        var candidates = ById(listed!);
        Assert.Equal(new[] { complaining, withdrawing }.Order(StringComparer.Ordinal), candidates.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["open-complaint"], candidates[complaining]["exclusions"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Empty(candidates[withdrawing]["exclusions"]!.AsArray());

        var id = await Launch(host, "Withdrawn");
        var launched = await host.Eventually($"/api/winback/campaigns/{id}", c => c["outcome"] is { } o && o["treatment"]!["suppressed"]!.GetValue<int>() == 1);
        Assert.Equal((1, 0, 1), (launched["outcome"]!["treatment"]!["assigned"]!.GetValue<int>(), launched["outcome"]!["treatment"]!["sent"]!.GetValue<int>(),
            launched["outcome"]!["suppressions"]!["consent-withdrawn"]!.GetValue<int>()));
        Assert.Equal([complaining], launched["campaign"]!["excluded"]!.AsArray().Select(x => x!["customerId"]!.GetValue<string>()));
        await Waiting.Until(async () => await host.PendingOffers() == 0, TimeSpan.FromSeconds(30), "no offer message pending");
        Assert.Empty(host.Sink.Received);
    }

    [Fact]
    public async Task A_wrong_merge_split_again_returns_the_candidates_to_what_they_were()
    {
        await using var host = await WinBackHost.StartAsync();
        var (ann, bob) = (Ids.Unique("sa"), Ids.Unique("sb"));
        var shared = Address("household");
        await host.Record([.. Lapsed(ann, shared), .. Lapsed(bob, Address("bob"), first: -52, second: -40)]);
        var (_, before) = await host.Get(CandidatesUrl());
        Assert.Equal(2, before!["total"]!.GetValue<int>());

        // A household's shared address links two people; a supervisor splits them again.
        await host.Record(Email(bob, At.AddDays(-1), shared));
        var founder = await Linked(host, ann, bob);
        var other = founder == ann ? bob : ann;
        var (_, merged) = await host.Get(CandidatesUrl());
        var person = Assert.Single(merged!["candidates"]!.AsArray())!;
        Assert.Equal(new[] { ann, bob }.Order(StringComparer.Ordinal), Members(person));
        // One person with four purchase days (typical gap 7 days, silent for 40): neither id's figure alone (49/10 and 40/12).
        Assert.Equal([4.9, 3.33], new[] { ann, bob }.Select(c => ById(before)[c]["flags"]![0]!["figure"]!.GetValue<double>()));
        Assert.Equal(5.71, person["flags"]![0]!["figure"]!.GetValue<double>());

        var (split, _) = await host.Send(HttpMethod.Post, $"/api/profiles/{founder}/splits", new JsonObject { ["member"] = other, ["reason"] = "two people" }, "supervisor");
        Assert.Equal(200, split);
        var (_, after) = await host.Get(CandidatesUrl());
        Assert.Equal(before.ToJsonString(), after!.ToJsonString());
    }
}
