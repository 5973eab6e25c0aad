using System.Globalization;
using System.Text.Json.Nodes;
using CustomerJourney.Access;
using CustomerJourney.Complaints;
using CustomerJourney.WebConsole.Complaints;
using CustomerJourney.Tests.Complaints;
using CustomerJourney.Tests.Support;
using Microsoft.Playwright;
using Npgsql;

namespace CustomerJourney.Tests.WebConsole;

/// <summary>
/// The complaint pages in a real browser: agents, supervisors and auditors read a case file as the API answers it (its
/// promise clocks, and for auditors and supervisors its events, chain state and exports); every other role is refused;
/// a stored event changed behind the service's back shows the chain broken at that entry.
/// </summary>
public sealed class ComplaintConsoleTests(AppFixture app, ConsoleBrowser browser) : IClassFixture<ConsoleBrowser>
{
    private static string Time(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>Logged, acknowledged, apology, resolved (4 events): the follow-up promise is running.</summary>
    private async Task<(string Id, string Customer)> ResolvedCase(string category = "delivery")
    {
        var customer = Ids.Customer("console-k");
        var id = Ids.Unique("k");
        var start = ComplaintApi.Now.AddHours(-5);
        var v = (await app.Log(customer, id, occurredAt: start, category: category)).Version();
        v = (await app.Step(id, "acknowledge", v, at: start.AddHours(1))).Version();
        v = (await app.Step(id, "apologize", v, new JsonObject { ["by"] = "Ann", ["wording"] = "Sorry" }, start.AddHours(2))).Version();
        Assert.Equal(4, (await app.Step(id, "resolve", v, new JsonObject { ["rootCause"] = "carrier", ["summary"] = "Resent" }, start.AddHours(3))).Version());
        return (id, customer);
    }

    [Fact]
    public async Task Agents_supervisors_and_auditors_read_a_case_file_as_the_api_answers_it_and_every_other_role_is_refused()
    {
        var (id, customer) = await ResolvedCase();
        foreach (var (person, role) in ConsoleSignIn.DemoPeople)
        {
            var page = await browser.NewPageAsync();
            await ConsoleTests.SignInAsync(page, person);
            var token = Credentials.Token(app.Token(person, role));
            if (!Policies.RolesOf[Policies.ReadComplaints].Contains(role))
            {
                Assert.Equal(403, await ConsoleTests.OpenAsync(page, $"/console/complaints/{id}", $"{role}-complaint-refused"));
                Assert.Equal(403, (await page.GotoAsync("/console/complaints"))!.Status);
                await page.Context.CloseAsync();
                continue;
            }

            Assert.Equal(200, await ConsoleTests.OpenAsync(page, $"/console/complaints/{id}", $"{role}-complaint-case"));
            var view = (await app.Get($"/api/complaints/{id}", token)).Body!;
            Assert.Equal(view["case"]!["status"]!.GetValue<string>(), await page.Locator("#case-status").InnerTextAsync());
            var promises = view["promises"]!.AsArray();
            Assert.Equal(promises.Count, await page.Locator("ol.lifecycle li.promise").CountAsync());
            foreach (var promise in promises)
            {
                var step = page.Locator($"ol.lifecycle li[data-promise='{promise!["promise"]!.GetValue<string>().ToLowerInvariant()}'][data-cycle='{promise["cycle"]}']");
                Assert.Equal(promise["state"]!.GetValue<string>().ToLowerInvariant(), await step.Locator(".promise-state").InnerTextAsync());
                if (promise["dueAt"] is { } due)
                {
                    Assert.Contains($"Due\n{Time(DateTimeOffset.Parse(due.GetValue<string>(), CultureInfo.InvariantCulture))}",
                        (await step.Locator("dl.clock").InnerTextAsync()).Replace('\t', '\n'), StringComparison.Ordinal);
                }
            }

            var audits = Policies.RolesOf[Policies.AuditComplaints].Contains(role);
            Assert.Equal(audits, await page.Locator("#events-heading").CountAsync() == 1);
            if (audits)
            {
                var trail = (await app.Get($"/api/complaints/{id}/audit", token)).Body!;
                var entries = trail["entries"]!.AsArray();
                Assert.Equal(entries.Count, await page.Locator("ol.events > li").CountAsync());
                Assert.Equal(entries.Select(e => $"{e!["version"]}. {e["type"]}"),
                    (await page.Locator("ol.events > li h3").AllInnerTextsAsync()).Select(t => t.Trim()));
                Assert.Contains($"Audit chain verified up to entry {entries.Count}", await page.Locator("#chain-banner").InnerTextAsync(), StringComparison.Ordinal);

                // The export links answer what the API's audit export answers.
                var json = await page.Context.APIRequest.GetAsync(await page.Locator("#export-json").GetAttributeAsync("href") is { } j ? $"/console/complaints/{id}{j}" : "");
                Assert.Equal(200, json.Status);
                Assert.Contains("attachment", json.Headers["content-disposition"], StringComparison.Ordinal);
                var exported = JsonNode.Parse(await json.TextAsync())!["entries"]!.AsArray();
                Assert.Equal(entries.Select(e => e!["chainHash"]!.GetValue<string>()), exported.Select(e => e!["chainHash"]!.GetValue<string>()));
                var csv = await page.Context.APIRequest.GetAsync($"/console/complaints/{id}?handler=Export&format=csv");
                var apiCsv = await app.Call(HttpMethod.Get, $"/api/complaints/{id}/audit?format=csv", null, token);
                Assert.StartsWith("text/csv", csv.Headers["content-type"], StringComparison.Ordinal);
                Assert.Equal(apiCsv.Body!.GetValue<string>(), await csv.TextAsync());
                var heads = await page.Context.APIRequest.GetAsync($"/console/complaints/{id}?handler=Heads");
                Assert.Equal(200, heads.Status);
                Assert.Equal((await app.Get($"/api/complaints/audit/heads?complaintId={id}", token)).Body!.ToJsonString(), JsonNode.Parse(await heads.TextAsync())!.ToJsonString());
            }
            else
            {
                Assert.Equal(0, await page.Locator("#chain-banner").CountAsync());
                Assert.Equal(403, (await page.Context.APIRequest.GetAsync($"/console/complaints/{id}?handler=Export&format=json")).Status);
            }

            // The customer's cases, from the index, are the API's.
            Assert.Equal(200, await ConsoleTests.OpenAsync(page, $"/console/complaints?owner={customer}", $"{role}-complaints-of-customer"));
            var mine = (await app.Get($"/api/customers/{customer}/complaints", token)).Body!;
            Assert.Equal(mine["cases"]!.AsArray().Select(c => c!["complaintId"]!.GetValue<string>()),
                await page.Locator("section[aria-labelledby=owner-cases-heading] tbody tr td:first-child").AllInnerTextsAsync());
            Assert.Equal(Policies.RolesOf[Policies.ListComplaints].Contains(role), await page.Locator("#filter-heading").CountAsync() == 1);
            await page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task A_stored_event_changed_behind_the_services_back_shows_the_chain_broken_at_that_entry()
    {
        var (id, _) = await ResolvedCase();
        var page = await browser.NewPageAsync();
        await ConsoleTests.SignInAsync(page, "aud-auditor");
        await page.GotoAsync($"/console/complaints/{id}");
        Assert.Contains("Audit chain verified up to entry 4", await page.Locator("#chain-banner").InnerTextAsync(), StringComparison.Ordinal);

        // As the audit tests tamper: a stored event's body rewritten with SQL in the run's schema.
        await using (var connection = new NpgsqlConnection(AppFixture.ConnectionString))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var command = new NpgsqlCommand(
                $"update {app.Schema}.mt_events set data = jsonb_set(data, '{{by}}', '\"Mallory\"') where stream_id = 'complaint/{id}' and version = 3", connection);
            Assert.Equal(1, await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));
        }

        Assert.Equal(200, await ConsoleTests.OpenAsync(page, $"/console/complaints/{id}", "auditor-complaint-chain-broken"));
        var banner = await page.Locator("#chain-banner").InnerTextAsync();
        var verification = (await app.Get($"/api/complaints/{id}/audit/verify", app.As("auditor"))).Body!;
        Assert.Equal(3, verification["firstMismatch"]!["version"]!.GetValue<long>());
        Assert.Contains("Audit chain broken at entry 3", banner, StringComparison.Ordinal);
        Assert.Contains(verification["firstMismatch"]!["problem"]!.GetValue<string>(), banner, StringComparison.Ordinal);
        Assert.Equal("alert", await page.Locator("#chain-banner").GetAttributeAsync("role"));
        // The banner shows that entry; the entry, as stored now, is marked in the events.
        await page.Locator("#chain-banner a[href='#entry-3']").ClickAsync();
        Assert.Contains("Mallory", await page.Locator("#entry-3").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(1, await page.Locator("#entry-3.tone-bad").CountAsync());
        Assert.Equal(0, await page.Locator("#entry-2.tone-bad, #entry-4.tone-bad").CountAsync());
        await page.Context.CloseAsync();

        var phone = await browser.NewPageAsync(width: 390, height: 844);
        await ConsoleTests.SignInAsync(phone, "sue-supervisor");
        Assert.Equal(200, await ConsoleTests.OpenAsync(phone, $"/console/complaints/{id}", "supervisor-complaint-case-phone"));
        Assert.True(await phone.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the case file scrolls sideways at 390 px");
        await phone.Context.CloseAsync();
    }

    [Fact]
    public void The_metrics_charts_draw_the_answers_months_as_lines_labelled_by_month()
    {
        static ComplaintCase Logged(string id, DateTimeOffset at) => ComplaintCase.Fold(null, new ComplaintLogged
        {
            ComplaintId = id, CustomerId = "c-" + id, Category = "delivery", Severity = ComplaintSeverity.Low, Description = "d", OccurredAt = at,
        })!;
        var (all, groups, byCategory, byMonth) = ComplaintMetrics.Measure(
            [Logged("a", new DateTimeOffset(1997, 1, 5, 0, 0, 0, TimeSpan.Zero)), Logged("b", new DateTimeOffset(1997, 3, 5, 0, 0, 0, TimeSpan.Zero)),
             Logged("c", new DateTimeOffset(1997, 3, 9, 0, 0, 0, TimeSpan.Zero))], []);

        var charts = MetricsCharts.Of(new ResolutionMetricsReport(null, null, null, all, groups, byCategory, byMonth));

        Assert.Equal(4, charts.Count);
        var perMonth = charts.Single(c => c.Id == "complaints-cases-by-month").DataTable();
        Assert.Equal([["1997-01", "1", "0"], ["1997-03", "2", "0"]], perMonth.Rows.Select(r => r.ToArray()));
        Assert.Contains(">1997-03</text>", charts.Single(c => c.Id == "complaints-cases-by-month").Svg(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Supervisors_filter_the_case_list_and_see_the_resolution_metrics_drawn_from_the_apis_answer()
    {
        var category = Ids.Unique("cat");
        var (resolved, _) = await ResolvedCase(category);
        var open = Ids.Unique("k");
        Assert.Equal(201, (await app.Log(Ids.Customer("console-k"), open, category: category, occurredAt: ComplaintApi.Now.AddHours(-1))).Status);
        var token = app.As("supervisor");

        var page = await browser.NewPageAsync();
        await ConsoleTests.SignInAsync(page, "sue-supervisor");
        await page.GotoAsync("/console/complaints");
        await page.Locator("#category").FillAsync(category);
        await page.Locator("#status").SelectOptionAsync("resolved");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await ConsoleTests.ArrivedAsync(page, new System.Text.RegularExpressions.Regex("category="));
        var listed = (await app.Get($"/api/complaints?category={category}&status=resolved", token)).Body!;
        Assert.Equal(1, listed.Int("total"));
        Assert.Equal([resolved], await page.Locator("section[aria-labelledby=list-heading] tbody tr td:first-child").AllInnerTextsAsync());

        await page.GotoAsync($"/console/complaints?category={category}");
        Assert.Equal(2, await page.Locator("section[aria-labelledby=list-heading] tbody tr").CountAsync());
        // The metrics load in the background; wait until no part is still loading.
        await page.Locator("#metrics").WaitForAsync();
        Assert.Equal(0, await page.Locator("[aria-busy=true]").CountAsync());
        await ConsoleTests.CheckAsync(page, "supervisor-complaints");
        var metrics = (await app.Get($"/api/complaints/metrics?category={category}", token)).Body!;
        var facts = (await page.Locator("#metrics-all").InnerTextAsync()).Replace('\t', '\n');
        Assert.Contains($"Cases\n{metrics["all"].Int("cases")}", facts, StringComparison.Ordinal);
        // Bars per category, and lines per month once the cases span two months (these span one).
        Assert.Single(metrics["byMonth"]!.AsArray());
        Assert.Equal(2, await page.Locator("#metrics figure.chart svg[role=img]").CountAsync());
        Assert.Equal(1, await page.Locator("#one-month").CountAsync());
        // The per-category bars' table holds the API's per-category medians.
        var byCategory = metrics["byCategory"]!.AsArray().Single()!;
        var row = await page.Locator("figure.chart", new() { Has = page.Locator("svg#complaints-resolution-hours-by-category") }).Locator("tbody tr").TextContentAsync() ?? "";
        Assert.Contains(category, row, StringComparison.Ordinal);
        Assert.Contains(byCategory["timeToResolve"]!["medianHours"]!.GetValue<double>().ToString("0.##", CultureInfo.InvariantCulture), row, StringComparison.Ordinal);
        await page.Context.CloseAsync();

        var agent = await browser.NewPageAsync();
        await ConsoleTests.SignInAsync(agent, "aga-agent");
        Assert.Equal(200, await ConsoleTests.OpenAsync(agent, "/console/complaints", "agent-complaints"));
        Assert.Equal(0, await agent.Locator("#filter-heading, .background-part, #metrics").CountAsync());
        Assert.Equal(403, (await agent.Context.APIRequest.GetAsync("/console/complaints?handler=Metrics")).Status);
        await agent.Context.CloseAsync();
    }
}
