using System.Globalization;
using System.Text.Json.Nodes;
using CustomerJourney.Churn;
using CustomerJourney.Tests.Complaints;
using CustomerJourney.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Wolverine;

namespace CustomerJourney.Tests.Identity;

/// <summary>
/// Every figure follows the identity graph: one person with two customer ids is one customer of the churn model, one
/// summary, one set of flags; a wrong merge split again returns every figure to what it was.
/// </summary>
public sealed class ProfileFiguresTests(AppFixture app)
{
    // A currency no other test buys in, so the fits below count exactly this test's customers.
    private const string Currency = "MNT";
    private static readonly DateTimeOffset Day1 = DateTimeOffset.Parse("2000-03-01T12:00:00Z", CultureInfo.InvariantCulture);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);

    private Credentials Analyst => Credentials.Token(app.Token("figures-analyst", "analyst"));
    private Credentials Supervisor => Credentials.Token(app.Token("figures-supervisor", "supervisor"));

    private async Task<JsonNode> Fit()
    {
        var fit = await app.Send(HttpMethod.Post, "/api/churn/models",
            new JsonObject { ["calibrationEnd"] = "2001-01-01T00:00:00Z", ["currency"] = Currency }.ToJsonString(), "application/json", Analyst);
        Assert.Equal(201, fit.Status);
        return fit.Body!;
    }

    private async Task<JsonNode> Score(string customer, string model)
    {
        var score = await app.Get($"/api/customers/{customer}/churn?model={model}&at=2001-01-01T00:00:00Z", Analyst);
        Assert.Equal(200, score.Status);
        return score.Body!;
    }

    private async Task<JsonNode> Flags(string customer) => (await app.Get($"/api/customers/{customer}/churn/flags", Analyst)).Body!;

    // The model's own flag follows whichever model is the latest, and every fit in the shared host (this test's too) changes
    // that at any moment: the rule-based flags are the ones compared.
    private static IEnumerable<JsonNode> RuleFlags(JsonNode flags) =>
        flags["flags"]!.AsArray().Select(f => f!).Where(f => f["reason"]!.GetValue<string>() != FlagReasons.ModelSaysGone);

    private static string[] Reasons(JsonNode flags) => [.. RuleFlags(flags).Select(f => f["reason"]!.GetValue<string>()).Order(StringComparer.Ordinal)];

    private static string ReasonsAndFigures(JsonNode flags) =>
        string.Join("; ", RuleFlags(flags).Select(f => $"{f["reason"]} {f["figure"]} {f["detail"]}").Order(StringComparer.Ordinal));

    private async Task Evaluate(params string[] customers)
    {
        await using var scope = app.Host.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IMessageBus>().InvokeAsync(new EvaluateChurnFlags(customers), TestContext.Current.CancellationToken);
    }

    private static JsonObject Without(JsonNode node, params string[] fields)
    {
        var copy = node.DeepClone().AsObject();
        foreach (var field in fields)
        {
            copy.Remove(field);
        }

        return copy;
    }

    [Fact]
    public async Task A_merge_makes_two_ids_one_person_in_every_figure_and_splitting_it_again_restores_each_figure()
    {
        var ann = Ids.Customer("person-a");
        var bob = Ids.Customer("person-b");
        var others = Enumerable.Range(0, 10).Select(_ => Ids.Customer("person-other")).ToList();
        // Ann buys on days 1 and 10; Bob (the same person under another id) on day 10 too, and on day 30. Ann consents to
        // marketing mail on day 5, Bob withdraws it at the same instant; Bob answers NPS 2 on day 40, Ann takes a follow-up call on day 45.
        await app.PostBatch(
        [
            TouchpointJson.Purchase(ann, Day1, 30m, Currency),
            TouchpointJson.Purchase(ann, Day1.AddDays(9), 20m, Currency),
            TouchpointJson.Kind("consent-given", new JsonObject { ["purpose"] = "marketing-email" }, ann, Day1.AddDays(4)),
            TouchpointJson.Kind("follow-up-call", new JsonObject { ["outcome"] = "reached", ["satisfied"] = true }, ann, Day1.AddDays(44)),
            TouchpointJson.Purchase(bob, Day1.AddDays(9).AddHours(2), 15m, Currency),
            TouchpointJson.Purchase(bob, Day1.AddDays(29), 40m, Currency),
            TouchpointJson.Kind("consent-withdrawn", new JsonObject { ["purpose"] = "marketing-email" }, bob, Day1.AddDays(4)),
            TouchpointJson.Kind("survey-answered", new JsonObject { ["nps"] = 2 }, bob, Day1.AddDays(39)),
            .. others.SelectMany((c, i) => new[]
            {
                TouchpointJson.Purchase(c, Day1.AddDays(i), 10m + i, Currency),
                TouchpointJson.Purchase(c, Day1.AddDays(3 * i + 20), 12m + i, Currency),
            }),
        ]);
        await Evaluate(ann, bob);

        var fitBefore = await Fit();
        var model = fitBefore["id"]!.GetValue<string>();
        var annBefore = await Score(ann, model);
        var bobBefore = await Score(bob, model);
        var annFlagsBefore = await Flags(ann);
        var bobFlagsBefore = await Flags(bob);
        var annProfileBefore = (await app.Get($"/api/profiles/{ann}", Analyst)).Body!;
        Assert.Equal(12, fitBefore.Int("customers"));
        Assert.Equal(1, annBefore["summary"]!["x"]!.GetValue<int>());
        Assert.Equal([FlagReasons.OverduePurchase], Reasons(annFlagsBefore));
        Assert.Equal([FlagReasons.ConsentWithdrawn, FlagReasons.OverduePurchase, FlagReasons.UnhappyAnswer], Reasons(bobFlagsBefore));
        Assert.Equal(2, annProfileBefore["summary"]!["purchaseCount"]!.GetValue<int>());
        Assert.True(annProfileBefore["consents"]!["marketing-email"]!["given"]!.GetValue<bool>());

        // A supervisor knows they are one person.
        var merge = await app.Send(HttpMethod.Post, "/api/profiles/merges",
            new JsonObject { ["profiles"] = new JsonArray(ann, bob), ["reason"] = "same loyalty card" }.ToJsonString(), "application/json", Supervisor);
        Assert.Equal(200, merge.Status);
        var profileId = merge.Body!["profileId"]!.GetValue<string>();
        var founder = profileId["pf~".Length..];
        var other = founder == ann ? bob : ann;

        // The merge re-evaluates both ids' flags by itself: the person's flags sit with the founder, the other id has none.
        var mergedFlags = await Waiting.For(() => Flags(other), f => Reasons(f).SequenceEqual([FlagReasons.ConsentWithdrawn, FlagReasons.OverduePurchase]),
            Patience, "the merged person's flags");
        // The ranked list reads these documents: the person is listed once, under the founder.
        await Waiting.Until(async () =>
        {
            await using var session = app.Store.QuerySession();
            var views = await session.LoadManyAsync<ChurnFlagsView>(TestContext.Current.CancellationToken, ann, bob);
            return views.Where(v => v.FlagCount > 0).Select(v => v.Id).SequenceEqual([founder]);
        }, Patience, "one flagged entry for the person");
        Assert.Equal(profileId, mergedFlags["profileId"]!.GetValue<string>());

        var fitMerged = await Fit();
        var mergedModel = fitMerged["id"]!.GetValue<string>();
        var annMerged = await Score(ann, mergedModel);
        var bobMerged = await Score(bob, mergedModel);
        var profile = (await app.Get($"/api/profiles/{bob}", Analyst)).Body!;
        var journey = (await app.Get($"/api/profiles/{ann}/journey", Analyst)).Body!;

        Assert.Equal(11, fitMerged.Int("customers"));
        // Purchase days 1, 10 (both bought: one transaction) and 30: two repeat transactions, the last 29 days after the first.
        Assert.Equal(2, annMerged["summary"]!["x"]!.GetValue<int>());
        Assert.Equal(29 / 7.0, annMerged["summary"]!["tx"]!.GetValue<double>(), 1e-9);
        Assert.Equal(Without(annMerged, "customerId").ToJsonString(), Without(bobMerged, "customerId").ToJsonString());
        Assert.Equal(profileId, annMerged["profileId"]!.GetValue<string>());
        Assert.Equal(new[] { ann, bob }.Order(StringComparer.Ordinal), annMerged["members"]!.AsArray().Select(m => m!.GetValue<string>()));
        var summary = profile["summary"]!;
        Assert.Equal(4, summary["purchaseCount"]!.GetValue<int>());
        Assert.Equal(105m, summary["totalSpend"]![Currency]!.GetValue<decimal>());
        Assert.Equal(2, summary["lastNps"]!.GetValue<int>());
        // The same business instant: the withdrawal wins, whoever of the two made it.
        Assert.False(profile["consents"]!["marketing-email"]!["given"]!.GetValue<bool>());
        Assert.False(profile["marketingConsent"]!.GetValue<bool>());
        Assert.Contains(journey["entries"]!.AsArray(), e => e!["kind"]!.GetValue<string>() == "profiles-merged" && e["recordedBy"]!.GetValue<string>() == "user:figures-supervisor");

        // It was a mistake after all.
        var split = await app.Send(HttpMethod.Post, $"/api/profiles/{Uri.EscapeDataString(profileId)}/splits",
            new JsonObject { ["member"] = other, ["reason"] = "two people after all" }.ToJsonString(), "application/json", Supervisor);
        Assert.Equal(200, split.Status);
        await Waiting.For(() => Flags(bob), f => ReasonsAndFigures(f) == ReasonsAndFigures(bobFlagsBefore), Patience, "bob's own flags again");
        await Waiting.For(() => Flags(ann), f => ReasonsAndFigures(f) == ReasonsAndFigures(annFlagsBefore), Patience, "ann's own flags again");

        var fitAfter = await Fit();
        Assert.Equal(12, fitAfter.Int("customers"));
        Assert.Equal(fitBefore["models"]!.ToJsonString(), fitAfter["models"]!.ToJsonString());
        Assert.Equal(annBefore.ToJsonString(), (await Score(ann, model)).ToJsonString());
        Assert.Equal(bobBefore.ToJsonString(), (await Score(bob, model)).ToJsonString());
        var annProfileAfter = (await app.Get($"/api/profiles/{ann}", Analyst)).Body!;
        Assert.Equal(annProfileBefore["profileId"]!.ToJsonString(), annProfileAfter["profileId"]!.ToJsonString());
        Assert.Equal(annProfileBefore["summary"]!.ToJsonString(), annProfileAfter["summary"]!.ToJsonString());
        Assert.Equal(annProfileBefore["consents"]!.ToJsonString(), annProfileAfter["consents"]!.ToJsonString());
        var afterJourney = (await app.Get($"/api/profiles/{profileId}/journey", Analyst)).Body!;
        Assert.Contains(afterJourney["entries"]!.AsArray(), e => e!["kind"]!.GetValue<string>() == "profile-split");

        // The profile's audit trail: who merged and split, by which rule, and why (the reason only for roles that read personal data).
        var trail = (await app.Get($"/api/profiles/{Uri.EscapeDataString(profileId)}/audit", Supervisor)).Body!["entries"]!.AsArray();
        var mergedEntry = trail.Single(e => e!["type"]!.GetValue<string>() == "profiles-merged")!;
        var splitEntry = trail.Single(e => e!["type"]!.GetValue<string>() == "profile-split")!;
        Assert.Equal(("user:figures-supervisor", "manual", other), (mergedEntry["decidedBy"]!.GetValue<string>(), mergedEntry["rule"]!.GetValue<string>(),
            mergedEntry["joined"]!.AsArray().Single()!.GetValue<string>()));
        Assert.Equal(("user:figures-supervisor", other, "two people after all"), (splitEntry["decidedBy"]!.GetValue<string>(),
            splitEntry["left"]!.AsArray().Single()!.GetValue<string>(), splitEntry["reason"]!.GetValue<string>()));
        var analystTrail = (await app.Get($"/api/profiles/{Uri.EscapeDataString(profileId)}/audit", Analyst)).Body!["entries"]!.AsArray();
        Assert.Equal("[redacted]", analystTrail.Single(e => e!["type"]!.GetValue<string>() == "profile-split")!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_auditor_sees_every_members_cases_on_the_person_and_each_case_file_names_the_profile()
    {
        var web = Ids.Customer("case-web");
        var shop = Ids.Customer("case-shop");
        var (webCase, shopCase) = (Ids.Unique("case"), Ids.Unique("case"));
        Assert.Equal(201, (await app.PostTouchpoint(web, TouchpointJson.Purchase())).Status);
        Assert.Equal(201, (await app.PostTouchpoint(shop, TouchpointJson.Purchase())).Status);
        Assert.Equal(201, (await app.Log(web, webCase)).Status);
        Assert.Equal(201, (await app.Log(shop, shopCase)).Status);
        var auditor = app.As("auditor");
        Assert.Equal($"pf~{shop}", (await app.Get($"/api/complaints/{shopCase}", auditor)).Body!["profileId"]!.GetValue<string>());

        var merge = await app.Send(HttpMethod.Post, "/api/profiles/merges",
            new JsonObject { ["profiles"] = new JsonArray(web, shop) }.ToJsonString(), "application/json", Supervisor);
        Assert.Equal(200, merge.Status);
        var profileId = merge.Body!["profileId"]!.GetValue<string>();

        var cases = await app.Get($"/api/profiles/{shop}/complaints", auditor);
        Assert.Equal(200, cases.Status);
        Assert.Equal(profileId, cases.Body!["profileId"]!.GetValue<string>());
        Assert.Equal(new[] { webCase, shopCase }.Order(StringComparer.Ordinal),
            cases.Body!["cases"]!.AsArray().Select(c => c!["complaintId"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Equal(profileId, (await app.Get($"/api/complaints/{shopCase}", auditor)).Body!["profileId"]!.GetValue<string>());
        Assert.Equal(profileId, (await app.Get($"/api/complaints/{webCase}", auditor)).Body!["profileId"]!.GetValue<string>());
        Assert.Equal(2, (await app.Get($"/api/profiles/{web}", Analyst)).Body!["summary"]!["openComplaints"]!.GetValue<int>());
        // Marketing reads the person, never their cases.
        Assert.Equal(403, (await app.Get($"/api/profiles/{shop}/complaints", app.As("marketing"))).Status);
    }
}
