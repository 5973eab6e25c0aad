using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CustomerJourney.Access;
using CustomerJourney.Tests.Support;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace CustomerJourney.Tests.WebConsole;

/// <summary>
/// The console in a real browser: each role signs in (the Development sign-in), opens every page it may, sees what the
/// API answers it for the same data, is refused a page and an action it may not; axe finds no serious or critical
/// violation on any page; a screenshot of each page goes to the test output.
/// </summary>
public sealed class ConsoleTests(AppFixture app, ConsoleBrowser browser) : IClassFixture<ConsoleBrowser>
{
    private static readonly DateTimeOffset Day = DateTimeOffset.Parse("2024-03-01T09:00:00Z", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Each_role_sees_the_pages_it_may_as_the_api_answers_them_and_is_refused_the_rest()
    {
        var (customer, email) = await SeedCustomerAsync("console-roles");
        foreach (var (person, role) in ConsoleSignIn.DemoPeople)
        {
            var page = await browser.NewPageAsync();
            await SignInAsync(page, person);
            var token = Credentials.Token(app.Token(person, role));
            var readsCustomers = Policies.RolesOf[Policies.ReadCustomers].Contains(role);
            var readsPersonal = Roles.PersonalDataReaders.Contains(role);

            await OpenAsync(page, "/console", $"{role}-home");
            if (readsCustomers)
            {
                var journey = (await app.Get($"/api/customers/{customer}/journey", token)).Body!;
                var customerPage = await OpenAsync(page, $"/console/customers/{customer}", $"{role}-journey");
                Assert.Equal(200, customerPage);
                Assert.Equal(journey.Int("total"), await page.Locator("ol.timeline > li").CountAsync());
                var sourceIds = journey["entries"]!.AsArray().Select(e => e!["sourceId"]!.GetValue<string>()).ToList();
                var shown = await page.Locator("ol.timeline > li dl.facts").AllTextContentsAsync();
                Assert.Equal(sourceIds, shown.Select(text => sourceIds.Single(id => text.Contains($"({id})", StringComparison.Ordinal))).ToList());
                // Redaction exactly as the API's: the e-mail only for roles that see personal data.
                Assert.Equal(readsPersonal, (await page.ContentAsync()).Contains(email, StringComparison.Ordinal));
                Assert.Equal(!readsPersonal, (await page.ContentAsync()).Contains("[redacted]", StringComparison.Ordinal));
                var summary = (await app.Get($"/api/customers/{customer}", token)).Body!;
                Assert.Contains($"Purchases {summary.Int("purchaseCount")}", (await page.Locator("section[aria-labelledby=summary-heading] dl.facts").InnerTextAsync()).Replace('\n', ' ').Replace('\t', ' '),
                    StringComparison.Ordinal);
                Assert.Equal(Policies.RolesOf[Policies.ReadChurn].Contains(role), await page.Locator("#flags-heading").CountAsync() == 1);
                Assert.Equal(Policies.RolesOf[Policies.ReadConsent].Contains(role), await page.Locator("#consent-heading").CountAsync() == 1);

                var profileId = summary["profileId"]!.GetValue<string>();
                var profile = (await app.Get($"/api/profiles/{profileId}", token)).Body!;
                Assert.Equal(200, await OpenAsync(page, $"/console/profiles/{profileId}", $"{role}-profile"));
                Assert.Equal(profile["members"]!.AsArray().Count, await page.Locator("section[aria-labelledby=members-heading] tbody tr").CountAsync());
                // The person's figures are the API's: every member counted once.
                var personText = await page.Locator("section[aria-labelledby=person-heading]").InnerTextAsync();
                Assert.Contains($"Purchases\n{profile["summary"]!["purchaseCount"]}", personText.Replace("\t", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
                var mayLink = Policies.RolesOf[Policies.LinkProfiles].Contains(role);
                Assert.Equal(mayLink, await page.Locator("#merge-heading").CountAsync() == 1);
                if (!mayLink)
                {
                    // The form is not offered; posted anyway (with a valid anti-forgery token), the merge is refused.
                    var refused = await PostFormAsync(page, $"/console/profiles/{profileId}?handler=Merge", new() { ["other"] = Ids.Customer("other") });
                    Assert.Equal(403, refused);
                }

                if (readsPersonal)
                {
                    // Identity resolution indexes the e-mail after the commit, through the host's shared queue.
                    await Waiting.Until(async () => (await app.Get($"/api/customers?email={Uri.EscapeDataString(email)}", token)).Body?["customers"]?.AsArray().Count == 1,
                        TimeSpan.FromSeconds(180), "the e-mail to reach the blind index");
                    await page.GotoAsync("/console?email=" + Uri.EscapeDataString(email.ToUpperInvariant()));
                    Assert.Equal(1, await page.Locator($"a[href='/console/customers/{customer}']").CountAsync());
                    await ShootAsync(page, $"{role}-find-by-email");
                }

                Assert.Equal(403, await OpenAsync(page, "/console/admin/keys", $"{role}-refused"));
                Assert.Contains("Not allowed", await page.Locator("h1").InnerTextAsync(), StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal(403, await OpenAsync(page, $"/console/customers/{customer}", $"{role}-refused"));
                // Other tests issue keys meanwhile: the page lists what the API listed just before it, and no more than just after.
                var before = (await app.Get("/api/access/keys", token)).Body!.AsArray().Count;
                Assert.Equal(200, await OpenAsync(page, "/console/admin/keys", $"{role}-keys"));
                var after = (await app.Get("/api/access/keys", token)).Body!.AsArray().Count;
                Assert.InRange(await page.Locator("section[aria-labelledby=keys-heading] tbody tr").CountAsync(), before, after);
                Assert.Equal(200, await OpenAsync(page, "/console/admin/erasure", $"{role}-erasure"));
                Assert.Equal(200, await OpenAsync(page, $"/console/admin/export?customerId={customer}", $"{role}-export"));
                var export = (await app.Get($"/api/customers/{customer}/export", token)).Body!;
                Assert.Equal(JsonNode.Parse(await page.Locator("#export-json").TextContentAsync() ?? "")!["events"]!.ToJsonString(), export["events"]!.ToJsonString());
                Assert.Equal(200, await OpenAsync(page, "/console/admin/health", $"{role}-health"));
                Assert.Equal(200, await OpenAsync(page, "/console/admin/offers", $"{role}-offers"));
            }

            await page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task An_admin_creates_a_key_seen_once_revokes_it_and_erases_a_customer_after_reading_which_members_go()
    {
        var (customer, _) = await SeedCustomerAsync("console-erase");
        var page = await browser.NewPageAsync();
        await SignInAsync(page, "adm-admin");
        var source = Ids.Unique("console-src");
        await page.GotoAsync("/console/admin/keys");
        await page.Locator("#source").FillAsync(source);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        var secret = (await page.Locator("#created-key").InnerTextAsync()).Trim();
        await CheckAsync(page, "admin-key-created");
        var created = await app.Send(HttpMethod.Get, "/api/customers/nobody-here", null, null, Credentials.Key(secret));
        Assert.NotEqual(401, created.Status);
        await page.GotoAsync("/console/admin/keys");
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);
        await page.Locator("tr", new() { HasText = source }).GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        Assert.Contains("is revoked", await page.Locator(".notice").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(401, (await app.Send(HttpMethod.Get, "/api/customers/nobody-here", null, null, Credentials.Key(secret))).Status);

        await page.GotoAsync($"/console/admin/erasure?customerId={customer}");
        Assert.Equal([customer], await page.Locator("#members-to-erase li").AllInnerTextsAsync());
        await CheckAsync(page, "admin-erasure-confirm");
        await page.GetByRole(AriaRole.Button, new() { Name = "Erase 1 member(s)" }).ClickAsync();
        Assert.Contains($"Erased: {customer}", await page.Locator(".notice").InnerTextAsync(), StringComparison.Ordinal);
        var journey = (await app.Get($"/api/customers/{customer}/journey")).Body!;
        Assert.NotNull(journey["erasure"]);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Replaying_the_journey_to_before_a_touchpoint_hides_it_and_marks_it_as_recorded_since()
    {
        var customer = Ids.Customer("console-asof");
        var first = await app.PostTouchpoint(customer, TouchpointJson.Purchase(null, Day, sourceId: Ids.Unique("first")));
        Assert.Equal(201, first.Status);
        var laterId = Ids.Unique("later");
        Assert.Equal(201, (await app.PostTouchpoint(customer, TouchpointJson.Kind("survey-answered", new JsonObject { ["nps"] = 10 }, null, Day.AddDays(-30), sourceId: laterId))).Status);
        var page = await browser.NewPageAsync();
        await SignInAsync(page, "ada-analyst");
        await OpenAsync(page, $"/console/customers/{customer}", "analyst-journey-now");
        Assert.Equal(1, await page.Locator("ol.timeline > li", new() { HasText = laterId }).CountAsync());

        await page.Locator("#at").FillAsync("0");
        await page.GetByRole(AriaRole.Button, new() { Name = "Replay to the slider's record time" }).ClickAsync();

        Assert.Equal(1, await page.Locator("ol.timeline > li").CountAsync());
        Assert.Equal(0, await page.Locator("ol.timeline > li", new() { HasText = laterId }).CountAsync());
        Assert.Contains("1 entry was recorded after this instant", await page.Locator(".changed").InnerTextAsync(), StringComparison.Ordinal);
        await CheckAsync(page, "analyst-journey-as-of");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_naughty_strings_corpus_on_a_journey_page_runs_no_script()
    {
        var customer = Ids.Customer("console-naughty");
        var naughty = JsonSerializer.Deserialize<string[]>(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Corpora", "blns.json"),
            TestContext.Current.CancellationToken))!.Where(s => s.Length > 0 && !s.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t'))).ToList();
        var items = naughty.Select((s, i) => (JsonNode)TouchpointJson.Kind("return",
            new JsonObject { ["orderId"] = $"o-{i}", ["amount"] = 1, ["currency"] = "EUR", ["reason"] = s }, customer, Day.AddMinutes(i))).ToList();
        var stored = await app.PostBatch(items);
        Assert.Equal(200, stored.Status);
        var page = await browser.NewPageAsync();
        var dialogs = new List<string>();
        var consoleErrors = new List<string>();
        page.Dialog += (_, dialog) => { dialogs.Add(dialog.Message); _ = dialog.DismissAsync(); };
        page.Console += (_, message) => consoleErrors.Add(message.Text);
        await SignInAsync(page, "aga-agent");

        Assert.Equal(200, await OpenAsync(page, $"/console/customers/{customer}", "agent-journey-naughty", axe: false));

        Assert.True(await page.Locator("ol.timeline > li").CountAsync() >= Math.Min(naughty.Count, 500) - stored.Body!["rejected"]!.AsArray().Count);
        Assert.Empty(dialogs);
        // A script the page let through would be blocked by the Content-Security-Policy, which says so on the console.
        Assert.DoesNotContain(consoleErrors, m => m.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(0, await page.Locator("ol.timeline script, ol.timeline img, ol.timeline iframe").CountAsync());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_journey_reads_at_a_phone_width_without_sideways_scrolling()
    {
        var (customer, _) = await SeedCustomerAsync("console-phone");
        var page = await browser.NewPageAsync(width: 390, height: 844);
        await SignInAsync(page, "sue-supervisor");
        Assert.Equal(200, await OpenAsync(page, $"/console/customers/{customer}", "supervisor-journey-phone"));
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways at 390 px");
        await page.Context.CloseAsync();
    }

    /// <summary>A customer with a purchase, a large return, contact details, consent, a detractor's answer and a complaint.</summary>
    private async Task<(string Customer, string Email)> SeedCustomerAsync(string prefix)
    {
        var customer = Ids.Customer(prefix);
        var email = $"{customer}@console.example.org";
        var order = Ids.Unique("order");
        JsonObject[] touchpoints =
        [
            TouchpointJson.Kind("contact-details-changed", new JsonObject { ["email"] = email }, null, Day.AddDays(-10)),
            TouchpointJson.Kind("consent-given", new JsonObject { ["purpose"] = "marketing-email" }, null, Day.AddDays(-9)),
            TouchpointJson.Purchase(null, Day, amount: 100m, sourceId: order),
            TouchpointJson.Kind("return", new JsonObject { ["orderId"] = order, ["amount"] = 80, ["currency"] = "USD", ["reason"] = "damaged" }, null, Day.AddDays(3)),
            TouchpointJson.Kind("survey-answered", new JsonObject { ["nps"] = 3 }, null, Day.AddDays(5)),
            TouchpointJson.Kind("complaint-logged", new JsonObject
            {
                ["complaintId"] = Ids.Unique("k"), ["category"] = "delivery", ["severity"] = "high", ["description"] = "The box arrived crushed", ["orderIds"] = new JsonArray(order),
            }, null, Day.AddDays(6)),
        ];
        foreach (var touchpoint in touchpoints)
        {
            var answer = await app.PostTouchpoint(customer, touchpoint);
            Assert.True(answer.Status == 201, answer.Body?.ToJsonString());
        }

        return (customer, email);
    }

    internal static async Task SignInAsync(IPage page, string person)
    {
        await page.GotoAsync("/console/sign-in");
        await page.GetByLabel(person, new() { Exact = false }).CheckAsync();

        var signedIn = await page.RunAndWaitForResponseAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync(),
            response => response.Request.Method == "POST");
        Assert.True(signedIn.Status == 302, $"sign-in answered {signedIn.Status}: {(signedIn.Status == 302 ? "" : await signedIn.TextAsync())}");
        await ArrivedAsync(page, new Regex("/console$"));
        Assert.Contains(person, await page.Locator("header .who").InnerTextAsync(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Waits until the page is at an address <paramref name="at"/> matches and that document has loaded, by polling the
    /// page rather than by Playwright's navigation events. Playwright's WaitForURLAsync looks at the address and only then
    /// subscribes to the next navigation, so it misses one that commits in between (a sign-in whose /console had loaded
    /// 0.9 s after the click waited 90 s, the page's timeline in the test output showed it). Its wait for the load state
    /// that follows missed a load as well (a filtered case list whose address had changed waited 30 s, seeing only
    /// "networkidle"); the page's own readyState says whether the document has loaded.
    /// </summary>
    internal static async Task ArrivedAsync(IPage page, Regex at, float timeout = 30_000)
    {
        await Assertions.Expect(page).ToHaveURLAsync(at, new() { Timeout = timeout });
        // Asked from here, not with WaitForFunctionAsync: its polling evaluates the expression with eval inside the page,
        // which the console's Content-Security-Policy refuses.
        await Waiting.Until(async () => await ReadyStateAsync(page) == "complete", TimeSpan.FromMilliseconds(timeout), $"{page.Url} to finish loading");
    }

    private static async Task<string?> ReadyStateAsync(IPage page)
    {
        try
        {
            return await page.EvaluateAsync<string>("() => document.readyState");
        }
        catch (PlaywrightException)
        {
            // The document was replaced while it was asked: ask the next one.
            return null;
        }
    }

    /// <summary>Opens a page, checks it with axe and saves a screenshot; answers the HTTP status the page arrived with.</summary>
    internal static async Task<int> OpenAsync(IPage page, string path, string name, bool axe = true)
    {
        var response = await page.GotoAsync(path);
        await CheckAsync(page, name, axe);
        return response!.Status;
    }

    internal static async Task CheckAsync(IPage page, string name, bool axe = true)
    {
        if (axe)
        {
            var result = await page.RunAxe();
            var serious = result.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
            Assert.True(serious.Count == 0, $"{name}: " + string.Join("; ", serious.Select(v => $"{v.Id} ({v.Impact}): {v.Help} at " +
                string.Join(", ", v.Nodes.Take(3).Select(n => n.Html)))));
        }

        await ShootAsync(page, name);
    }

    private static async Task ShootAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleBrowser.ScreenshotDirectory, $"{name}.png"), FullPage = true });

    /// <summary>Posts a form as the signed-in person, with the anti-forgery token the layout's sign-out form carries; answers the final status.</summary>
    internal static async Task<int> PostFormAsync(IPage page, string path, Dictionary<string, string> fields)
    {
        var form = page.Context.APIRequest.CreateFormData();
        form.Set("__RequestVerificationToken", await page.Locator("input[name=__RequestVerificationToken]").First.GetAttributeAsync("value") ?? "");
        foreach (var (name, value) in fields)
        {
            form.Set(name, value);
        }

        var response = await page.Context.APIRequest.PostAsync(path, new() { Form = form });
        return response.Status;
    }
}
