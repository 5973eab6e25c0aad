using System.Globalization;
using System.Text.Json.Nodes;
using CustomerJourney.Access;
using CustomerJourney.Tests.Churn;
using CustomerJourney.Tests.Support;
using Microsoft.Playwright;

namespace CustomerJourney.Tests.WebConsole;

/// <summary>
/// The churn page in a real browser: analysts and marketing see the fitted models, the latest one's evaluation charts and
/// the ranked flags as the API answers them (marketing also at a phone's width); only analysts get "fit now", which starts a fit job and follows it (htmx
/// polling) until the new model is there; other roles are refused. Models are fitted by other tests at the same time on
/// the shared host, so the page is compared with the API for the models and customers it shows.
/// </summary>
public sealed class ChurnConsoleTests(AppFixture app, ConsoleBrowser browser) : IClassFixture<ConsoleBrowser>
{
    private static string Parameters(JsonNode model) =>
        string.Join(", ", model["parameters"]!.AsObject().Select(p => $"{p.Key} = {p.Value!.GetValue<double>().ToString("G6", CultureInfo.InvariantCulture)}"));

    /// <summary>Opens the page and waits for its background parts (and a running job's poll) to have arrived.</summary>
    private static async Task<int> OpenAsync(IPage page, string path)
    {
        var response = await page.GotoAsync(path);
        await WaitForPartsAsync(page);
        return response!.Status;
    }

    private static async Task WaitForPartsAsync(IPage page) =>
        await page.WaitForFunctionAsync("() => document.querySelectorAll('[aria-busy=true]').length === 0", null, new() { Timeout = 120_000 });

    [Fact]
    public async Task Analysts_and_marketing_see_the_models_the_evaluation_and_the_ranked_flags_as_the_api_answers_them()
    {
        await DemoData.LoadAsync(app);
        var analystToken = Credentials.Token(app.Token("churn-console-analyst", "analyst"));
        var fitted = await app.Send(HttpMethod.Post, "/api/churn/models", new JsonObject { ["calibrationEnd"] = "1997-09-30T00:00:00Z" }.ToJsonString(),
            "application/json", analystToken);
        Assert.Equal(201, fitted.Status);
        // As stored (and listed): the store keeps the parameters in an order of its own.
        var cdnow = (await app.Get(fitted.Response.Headers.Location!.ToString(), analystToken)).Body!;

        foreach (var (person, role) in ConsoleSignIn.DemoPeople)
        {
            var page = await browser.NewPageAsync();
            await ConsoleTests.SignInAsync(page, person);
            var token = Credentials.Token(app.Token(person, role));
            if (!Policies.RolesOf[Policies.ReadChurn].Contains(role))
            {
                Assert.Equal(403, (await page.GotoAsync("/console/churn"))!.Status);
                await page.Context.CloseAsync();
                continue;
            }

            var listed = (await app.Get("/api/churn/models", token)).Body!.AsArray();
            Assert.Equal(200, await OpenAsync(page, "/console/churn"));
            await ConsoleTests.CheckAsync(page, $"{role}-churn");

            // Every model the API listed before the page was drawn is on it, with the parameters the API gives.
            foreach (var model in listed)
            {
                Assert.Equal(1, await page.Locator($"#model-{model!["id"]}").CountAsync());
            }

            var shown = page.Locator($"#model-{cdnow["id"]}");
            var rows = await shown.Locator("td.parameters").AllTextContentsAsync();
            Assert.Equal([Parameters(cdnow["models"]!["bgNbd"]!), Parameters(cdnow["models"]!["paretoNbd"]!), Parameters(cdnow["models"]!["gammaGamma"]!)], rows);
            Assert.Contains("within tolerance after", await shown.TextContentAsync(), StringComparison.Ordinal);

            // The evaluation is the latest model's, as the API evaluates it: the same holdout totals, and the three charts.
            var latest = (await page.Locator("details.model[open]").GetAttributeAsync("id"))!["model-".Length..];
            var evaluation = await app.Get($"/api/churn/models/{latest}/evaluation", token);
            var part = page.Locator("section[aria-labelledby=evaluation-heading]");
            if (evaluation.Status == 200)
            {
                var holdout = evaluation.Body!["holdout"]!;
                Assert.Contains($"actual {holdout.Int("actual")}, BG/NBD {holdout["bgNbd"]!.GetValue<double>().ToString("0.0", CultureInfo.InvariantCulture)}",
                    await part.InnerTextAsync(), StringComparison.Ordinal);
                Assert.Equal(3, await part.Locator("figure.chart svg[role=img]").CountAsync());
                Assert.Equal(1, await part.Locator("svg[role=img] line.calibration-end").CountAsync());
            }
            else
            {
                Assert.Contains(evaluation.Body!["title"]!.GetValue<string>(), await part.Locator(".problem").InnerTextAsync(), StringComparison.Ordinal);
            }

            // The ranked flags: in descending value at risk, each person linked, with the reasons the API gives them.
            var flagged = page.Locator("#flagged tbody tr");
            var values = (await flagged.Locator("td.value-at-risk").AllInnerTextsAsync()).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToList();
            Assert.NotEmpty(values);
            Assert.Equal(values.OrderByDescending(v => v), values);
            var top = (await flagged.First.Locator("a").InnerTextAsync()).Trim();
            Assert.Equal($"/console/customers/{top}", await flagged.First.Locator("a").GetAttributeAsync("href"));
            // The page is drawn at one instant and the API asked at the next, while the sweep after the fit above (or
            // another test's) may move a flag in between: page and API are read again until they agree, as they do
            // once no sweep is running.
            await Waiting.Until(async () =>
            {
                var first = (await flagged.First.Locator("a").InnerTextAsync()).Trim();
                var reasons = (await app.Get($"/api/customers/{first}/churn/flags", token)).Body!["flags"]!.AsArray().Select(f => f!["reason"]!.GetValue<string>()).Order();
                if (reasons.SequenceEqual((await flagged.First.Locator("ul.reasons strong").AllInnerTextsAsync()).Order()))
                {
                    return true;
                }

                await OpenAsync(page, "/console/churn");
                return false;
            }, TimeSpan.FromSeconds(90), $"the console's top-ranked flags to be those the API gives ({role})");

            var mayFit = Policies.RolesOf[Policies.FitChurnModels].Contains(role);
            Assert.Equal(mayFit, await page.Locator("#fit-heading").CountAsync() == 1);
            if (!mayFit)
            {
                // Not offered; posted anyway (with a valid anti-forgery token), the fit is refused.
                Assert.Equal(403, await ConsoleTests.PostFormAsync(page, "/console/churn?handler=Fit", new() { ["calibrationEnd"] = "1997-09-30" }));
            }

            await page.Context.CloseAsync();

            if (role == Roles.Marketing)
            {
                // At a phone's width, charts and tables included (one more fit would mean one more sweep of every customer's flags).
                var phone = await browser.NewPageAsync(width: 390, height: 844);
                await ConsoleTests.SignInAsync(phone, person);
                Assert.Equal(200, await OpenAsync(phone, "/console/churn"));
                await ConsoleTests.CheckAsync(phone, "marketing-churn-phone");
                Assert.True(await phone.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the churn page scrolls sideways at 390 px");
                await phone.Context.CloseAsync();
            }
        }
    }

    [Fact]
    public async Task Fit_now_shows_the_job_s_progress_then_the_new_model()
    {
        const string currency = "PLN";
        await ChurnFitLimitsHttpTests.BuyIn(app, currency);
        var page = await browser.NewPageAsync();
        await ConsoleTests.SignInAsync(page, "ada-analyst");
        await page.GotoAsync("/console/churn");
        await page.Locator("#calibration-end").FillAsync("1997-09-30");
        await page.Locator("#currency").FillAsync(currency);

        await page.GetByRole(AriaRole.Button, new() { Name = "Fit now" }).ClickAsync();

        await ConsoleTests.ArrivedAsync(page, new System.Text.RegularExpressions.Regex(@"\?job="));
        var jobId = new Uri(page.Url).Query.Split('=')[1];
        var state = page.Locator("#fit-job .state");
        Assert.Contains(await state.InnerTextAsync(), new[] { "queued", "loading", "fitting", "succeeded" });
        await page.Locator("#fit-job .state", new() { HasText = "succeeded" }).WaitForAsync(new() { Timeout = 120_000 });
        await ConsoleTests.CheckAsync(page, "analyst-churn-fit-done");
        var job = (await app.Get($"/api/churn/fits/{jobId}", Credentials.Token(app.Token("churn-console-analyst", "analyst")))).Body!;
        Assert.Equal("succeeded", job["state"]!.GetValue<string>());
        var modelId = job["modelId"]!.GetValue<string>();
        Assert.Contains("Fitted over 12 customers.", await page.Locator("#fit-job").InnerTextAsync(), StringComparison.Ordinal);

        await page.GetByRole(AriaRole.Link, new() { Name = $"Show model {modelId} with its evaluation" }).ClickAsync();
        await WaitForPartsAsync(page);

        var model = (await app.Get($"/api/churn/models/{modelId}", Credentials.Token(app.Token("churn-console-analyst", "analyst")))).Body!;
        var shown = page.Locator($"#model-{modelId}");
        Assert.Contains($"{currency}, 12 customers", await shown.Locator("summary").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(Parameters(model["models"]!["bgNbd"]!), await shown.Locator("td.parameters").First.TextContentAsync());
        await page.Context.CloseAsync();
    }
}
