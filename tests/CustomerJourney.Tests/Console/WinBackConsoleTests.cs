using System.Globalization;
using System.Text.Json.Nodes;
using CustomerJourney.Access;
using CustomerJourney.Tests.Support;
using CustomerJourney.Tests.WinBack;
using CustomerJourney.WinBack;
using Microsoft.Playwright;
using static CustomerJourney.Tests.Contracts.Answers;
using static CustomerJourney.Tests.WebConsole.ConsoleTests;
using static CustomerJourney.Tests.WinBack.LapsedCustomers;

namespace CustomerJourney.Tests.WebConsole;

/// <summary>
/// A win-back host on a store of its own (campaigns select from the whole store and send real offers, which must not
/// reach the shared host's customers), with a browser looking at it.
/// </summary>
public sealed class WinBackConsole : IAsyncLifetime
{
    public WinBackHost Host { get; private set; } = null!;

    public ConsoleBrowser Browser { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Host = await WinBackHost.StartAsync();
        Browser = new ConsoleBrowser(Host);
        await Browser.InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        await Host.DisposeAsync();
    }
}

/// <summary>
/// The win-back pages in a real browser: marketing previews a campaign's audience and launches it, then reads its
/// report; an analyst reads both pages but is refused planning; every other role is refused the pages. What a page
/// shows is compared with what the API answers for the same data; axe checks each page; a screenshot of each is saved.
/// </summary>
public sealed class WinBackConsoleTests(WinBackConsole console) : IClassFixture<WinBackConsole>
{
    private WinBackHost Host => console.Host;

    /// <summary>Lapsed customers, one without consent and one with an open complaint: candidates with and without exclusions.</summary>
    private async Task<List<string>> SeedAsync(string prefix)
    {
        var customers = Enumerable.Range(1, 8).Select(i => Ids.Unique($"{prefix}{i}")).ToList();
        var (noConsent, complaining) = (Ids.Unique($"{prefix}nc"), Ids.Unique($"{prefix}oc"));
        await Host.Record([.. customers.SelectMany(Lapsed), .. Lapsed(noConsent), .. Lapsed(complaining),
            Touch("consent-withdrawn", noConsent, At.AddDays(-5), new JsonObject { ["purpose"] = "marketing-email" }),
            Touch("complaint-logged", complaining, At.AddDays(-20), new JsonObject { ["complaintId"] = Ids.Unique("k"), ["category"] = "delivery", ["severity"] = "low", ["description"] = "Late" })]);
        return customers;
    }

    [Fact]
    public async Task Marketing_previews_a_campaigns_audience_launches_it_and_reads_its_report_as_the_api_answers_them()
    {
        var customers = await SeedAsync("wbc");
        var page = await console.Browser.NewPageAsync();
        await SignInAsync(page, "max-marketing");
        // The same person as signed in: an Idempotency-Key names a campaign per person.
        var marketing = Credentials.Token(Host.Token("max-marketing", Roles.Marketing));

        Assert.Equal(200, await OpenWithPartsAsync(page, "/console/winback", "marketing-winback"));
        var candidates = (await Host.Get("/api/winback/candidates?includeExcluded=true&pageSize=50")).Body!;
        Assert.Equal(candidates.Int("total").ToString(CultureInfo.InvariantCulture), await page.Locator("#candidates [data-field=total]").InnerTextAsync());
        Assert.Equal(candidates.Int("excluded").ToString(CultureInfo.InvariantCulture), await page.Locator("#candidates [data-field=excluded]").InnerTextAsync());
        Assert.Equal(candidates["candidates"]!.AsArray().Select(c => c!["customerId"]!.GetValue<string>()),
            await page.Locator("#candidate-list tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.customer)"));
        foreach (var candidate in candidates["candidates"]!.AsArray().Where(c => c!["exclusions"]!.AsArray().Count > 0))
        {
            Assert.Equal(string.Join(", ", candidate!["exclusions"]!.AsArray().Select(r => r!.GetValue<string>())),
                await page.Locator($"#candidate-list tr[data-customer='{candidate["customerId"]!.GetValue<string>()}'] td.exclusions").InnerTextAsync());
        }

        await page.Locator("#plan-name").FillAsync("Console spring");
        await page.Locator("#plan-control").FillAsync("0.25");
        await page.Locator("#plan-at").FillAsync(At.UtcDateTime.ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture));
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview the audience" }).ClickAsync();
        await page.Locator("#preview").WaitForAsync();
        await CheckAsync(page, "marketing-winback-preview");

        // The API's preview of the same body, with the key the form carries, answers what the page shows.
        var key = await page.Locator("input[name=Key]").InputValueAsync();
        var body = new JsonObject
        {
            ["name"] = "Console spring", ["offer"] = new JsonObject { ["kind"] = "discount-percent", ["value"] = 20, ["currency"] = "USD", ["validDays"] = 30 },
            ["channel"] = "email", ["controlShare"] = 0.25, ["at"] = At.ToString("O", CultureInfo.InvariantCulture),
        };
        var preview = (await Call(Host.Host, HttpMethod.Post, "/api/winback/campaigns/preview", marketing, body, new Dictionary<string, string> { ["Idempotency-Key"] = key }))["body"]!;
        foreach (var field in new[] { "audience", "treatment", "control", "excluded" })
        {
            Assert.Equal(preview[field]!.GetValue<int>().ToString(CultureInfo.InvariantCulture), await page.Locator($"#preview [data-field={field}]").InnerTextAsync());
        }


        var launch = await page.RunAndWaitForResponseAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Launch the campaign" }).ClickAsync(),
            response => response.Request.Method == "POST");
        Assert.True(launch.Status == 302, $"the launch answered {launch.Status}: {(launch.Status == 302 ? "" : await launch.TextAsync())}");
        var id = preview["campaignId"]!.GetValue<string>();
        Assert.Equal($"/console/winback/campaigns/{id}", launch.Headers["location"]);
        var treated = preview["treatment"]!.GetValue<int>();
        var launched = await Host.Eventually($"/api/winback/campaigns/{id}",
            c => c["outcome"] is { } o && o["treatment"]!["sent"]!.GetValue<int>() + o["treatment"]!["suppressed"]!.GetValue<int>() == treated);
        // The audience launched is the one previewed, this test's lapsed customers among it.
        Assert.Subset(launched["campaign"]!["members"]!.AsArray().Select(m => m!["customerId"]!.GetValue<string>()).ToHashSet(), customers.ToHashSet());
        Assert.Equal((preview["audience"]!.GetValue<int>(), preview["excluded"]!.GetValue<int>()),
            (launched["campaign"]!["members"]!.AsArray().Count, launched["campaign"]!["excluded"]!.AsArray().Count));

        // Two come back in the window: a treated person with their code, a control person without.
        var control = launched["campaign"]!["members"]!.AsArray().Where(m => m!["group"]!.GetValue<string>() == "control").Select(m => m!["customerId"]!.GetValue<string>()).ToList();
        var buyer = customers.First(c => !control.Contains(c));
        await Host.Record(
            Touch("purchase", buyer, At.AddDays(4), new JsonObject { ["orderId"] = Ids.Unique("o"), ["amount"] = 40, ["currency"] = "USD", ["offerCode"] = WinBackRules.OfferCode(id, buyer) }),
            Touch("purchase", control[0], At.AddDays(9), new JsonObject { ["orderId"] = Ids.Unique("o"), ["amount"] = 15, ["currency"] = "EUR" }));
        var report = await Host.Eventually($"/api/winback/campaigns/{id}",
            c => c["outcome"]!["treatment"]!["reactivated"]!.GetValue<int>() == 1 && c["outcome"]!["control"]!["reactivated"]!.GetValue<int>() == 1);

        Assert.Equal(200, await OpenAsync(page, $"/console/winback/campaigns/{id}", "marketing-winback-campaign"));
        var outcome = report["outcome"]!;
        foreach (var measure in new[] { "assigned", "sent", "suppressed", "undeliverable", "redeemed", "reactivated" })
        {
            Assert.Equal([outcome["treatment"]![measure]!.GetValue<int>().ToString(CultureInfo.InvariantCulture), outcome["control"]![measure]!.GetValue<int>().ToString(CultureInfo.InvariantCulture)],
                await page.Locator($"#outcome tr[data-measure={measure}] td").AllInnerTextsAsync());
        }

        Assert.Equal(["40.00 USD", "15.00 EUR"], await page.Locator("#outcome tr[data-measure=revenue] td").AllInnerTextsAsync());
        var uplift = outcome["uplift"]!;
        Assert.Contains($"95% interval {(uplift["lower"]!.GetValue<double>() * 100).ToString("0.0", CultureInfo.InvariantCulture)} to {(uplift["upper"]!.GetValue<double>() * 100).ToString("0.0", CultureInfo.InvariantCulture)}",
            await page.Locator("#uplift").InnerTextAsync(), StringComparison.Ordinal);
        // The charts are drawn from the daily series, one row per day of the offer window in their tables.
        Assert.Equal(2, await page.Locator("figure.chart svg[role=img]").CountAsync());
        Assert.Equal(outcome["days"]!.AsArray().Count, await page.Locator("figure.chart").First.Locator("details tbody tr").CountAsync());

        await page.GotoAsync("/console/winback");
        Assert.Equal(1, await page.Locator($"#campaigns tr[data-campaign='{id}']").CountAsync());
        await page.Context.CloseAsync();

        var phone = await console.Browser.NewPageAsync(width: 390, height: 844);
        await SignInAsync(phone, "max-marketing");
        Assert.Equal(200, await OpenAsync(phone, $"/console/winback/campaigns/{id}", "marketing-winback-campaign-phone"));
        Assert.True(await phone.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the campaign page scrolls sideways at 390 px");
        await phone.Context.CloseAsync();
    }

    [Fact]
    public async Task A_bad_plan_shows_the_apis_problem_and_nothing_is_planned()
    {
        var page = await console.Browser.NewPageAsync();
        await SignInAsync(page, "max-marketing");
        await page.GotoAsync("/console/winback");
        var before = (await Host.Get("/api/winback/campaigns")).Body!.AsArray().Count;
        await page.Locator("#plan-name").FillAsync("Too generous");
        await page.Locator("#plan-value").FillAsync("120");
        await page.Locator("#plan-control").FillAsync("0.9");
        await page.GetByRole(AriaRole.Button, new() { Name = "Launch the campaign" }).ClickAsync();
        var problem = await page.Locator(".problem").InnerTextAsync();
        Assert.Contains("Invalid campaign", problem, StringComparison.Ordinal);
        Assert.Contains("offer.value", problem, StringComparison.Ordinal);
        Assert.Contains("controlShare", problem, StringComparison.Ordinal);
        Assert.Equal(before, (await Host.Get("/api/winback/campaigns")).Body!.AsArray().Count);
        await CheckAsync(page, "marketing-winback-problem");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_analyst_reads_the_win_back_pages_but_is_refused_planning_and_other_roles_are_refused_the_pages()
    {
        await SeedAsync("wba");
        var (_, plan) = await Host.Send(HttpMethod.Post, "/api/winback/campaigns", new JsonObject
        {
            ["name"] = "Analysed", ["offer"] = new JsonObject { ["kind"] = "free-shipping", ["validDays"] = 14 }, ["channel"] = "email", ["controlShare"] = 0.5,
            ["launchAt"] = "2099-01-01T00:00:00Z",
        }, Roles.Marketing);
        var id = plan!["campaign"]!["campaignId"]!.GetValue<string>();

        var page = await console.Browser.NewPageAsync();
        await SignInAsync(page, "ada-analyst");
        Assert.Equal(200, await OpenWithPartsAsync(page, "/console/winback", "analyst-winback"));
        Assert.Equal(0, await page.Locator("#plan").CountAsync());
        var campaigns = (await Host.Get("/api/winback/campaigns", Roles.Analyst)).Body!.AsArray();
        Assert.Equal(campaigns.Count, await page.Locator("#campaigns tbody tr").CountAsync());
        var candidates = (await Host.Get("/api/winback/candidates?includeExcluded=true&pageSize=50", Roles.Analyst)).Body!;
        Assert.Equal(candidates["candidates"]!.AsArray().Count, await page.Locator("#candidate-list tbody tr").CountAsync());
        // The form is not offered; posted anyway (with a valid anti-forgery token), preview and launch are refused.
        var fields = new Dictionary<string, string> { ["Name"] = "Not mine", ["Kind"] = "free-shipping", ["Channel"] = "email", ["Key"] = Ids.Unique("k") };
        Assert.Equal(403, await PostFormAsync(page, "/console/winback?handler=Preview", fields));
        Assert.Equal(403, await PostFormAsync(page, "/console/winback?handler=Launch", fields));
        Assert.Equal(campaigns.Count, (await Host.Get("/api/winback/campaigns", Roles.Analyst)).Body!.AsArray().Count);

        Assert.Equal(200, await OpenAsync(page, $"/console/winback/campaigns/{id}", "analyst-winback-planned"));
        Assert.Equal("planned", await page.Locator("#plan-facts [data-field=status]").InnerTextAsync());
        Assert.Equal(404, await OpenAsync(page, "/console/winback/campaigns/wb-nothing-here", "analyst-winback-unknown"));
        Assert.Contains("Unknown campaign", await page.Locator(".problem").InnerTextAsync(), StringComparison.Ordinal);
        await page.Context.CloseAsync();

        foreach (var (person, role) in ConsoleSignIn.DemoPeople.Where(p => !Policies.RolesOf[Policies.ReadWinBack].Contains(p.Role)))
        {
            var refused = await console.Browser.NewPageAsync();
            await SignInAsync(refused, person);
            Assert.Equal(403, await OpenAsync(refused, "/console/winback", $"{role}-winback-refused"));
            Assert.Equal(403, (await refused.GotoAsync($"/console/winback/campaigns/{id}"))!.Status);
            Assert.Equal(403, (await refused.GotoAsync("/console/winback?handler=Candidates"))!.Status);
            await refused.Context.CloseAsync();
        }
    }

    /// <summary>Opens a page, waits for its background parts to load (none left busy), then checks it as <see cref="OpenAsync"/> does.</summary>
    private static async Task<int> OpenWithPartsAsync(IPage page, string path, string name)
    {
        var response = await page.GotoAsync(path);
        await page.WaitForFunctionAsync("() => document.querySelector('[aria-busy=true]') === null", null, new() { Timeout = 120_000 });
        await CheckAsync(page, name);
        return response!.Status;
    }
}
