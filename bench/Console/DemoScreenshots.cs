using System.Text.RegularExpressions;
using Microsoft.Playwright;

/// <summary>
/// Each page as a person sees it in the demo: signed in through the Development sign-in page, the page opened, its
/// background parts awaited (no element still <c>aria-busy</c>), then a full-page screenshot named after person and page.
/// </summary>
internal static partial class DemoScreenshots
{
    public static async Task TakeAsync(Uri baseAddress, IEnumerable<Fetch> pages, string directory)
    {
        Directory.CreateDirectory(directory);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium(),
            Headless = true,
            // Root in a container has no user namespace for Chromium's sandbox.
            Args = ["--no-sandbox"],
        });
        foreach (var group in pages.GroupBy(p => p.Person))
        {
            await using var context = await browser.NewContextAsync(new BrowserNewContextOptions
            {
                BaseURL = baseAddress.ToString(), ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            });
            var page = await context.NewPageAsync();
            await page.GotoAsync("/console/sign-in");
            await page.GetByLabel(group.Key).CheckAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            foreach (var fetch in group)
            {
                IResponse? response;
                try
                {
                    response = await page.GotoAsync(fetch.Path());
                }
                catch (PlaywrightException e) when (e.Message.Contains("Download is starting", StringComparison.Ordinal))
                {
                    // An export answers a file, not a page: nothing to look at.
                    Console.WriteLine($"no screenshot: {fetch.Name} is a download");
                    continue;
                }

                await page.WaitForFunctionAsync("() => document.querySelectorAll('[aria-busy=true]').length === 0", null,
                    new PageWaitForFunctionOptions { Timeout = 120_000 });
                var file = Path.Combine(directory, $"{fetch.Person}--{Slug(fetch.Name)}.png");
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = file, FullPage = true });
                Console.WriteLine($"screenshot {(int?)response?.Status} {file}");
            }
        }
    }

    private static string Slug(string name) => NotSlug().Replace(name.ToLowerInvariant(), "-").Trim('-');

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NotSlug();

    private static string Chromium() =>
        new[] { Environment.GetEnvironmentVariable("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser" }
            .FirstOrDefault(c => c is { Length: > 0 } && File.Exists(c))
        ?? throw new InvalidOperationException("Chromium is not installed: apt-get install chromium (scripts/test does).");
}
