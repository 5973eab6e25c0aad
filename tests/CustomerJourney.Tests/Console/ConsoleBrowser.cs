using CustomerJourney.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace CustomerJourney.Tests.WebConsole;

/// <summary>
/// A real Chromium (Debian's, which scripts/test installs: Playwright's own download cannot reach its CDN here) driven by
/// Playwright, looking at the run's shared host through a loopback relay: the browser needs a socket, the host is in
/// memory. The relay forwards every request as HTTPS, so the console's cookies are marked Secure exactly as in production.
/// </summary>
public sealed class ConsoleBrowser : IAsyncLifetime
{
    private readonly ServiceHost _app;

    public ConsoleBrowser(AppFixture app) : this((ServiceHost)app)
    {
    }

    /// <summary>A browser looking at another host of the service (e.g. a win-back host on a store of its own).</summary>
    internal ConsoleBrowser(ServiceHost app) => _app = app;

    private WebApplication? _relay;
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public string BaseUrl { get; private set; } = "";

    /// <summary>Where screenshots go: the test output, or CONSOLE_SCREENSHOTS (what scripts/screenshots sets for the README).</summary>
    public static string ScreenshotDirectory { get; } = Environment.GetEnvironmentVariable("CONSOLE_SCREENSHOTS") is { Length: > 0 } dir
        ? dir
        : Path.Combine(AppContext.BaseDirectory, "screenshots", "console");

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _relay = builder.Build();
        _relay.Run(Forward(_app));
        await _relay.StartAsync();
        BaseUrl = _relay.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium(),
            Headless = true,
            // Root in a container has no user namespace for Chromium's sandbox.
            Args = ["--no-sandbox"],
        });
        Directory.CreateDirectory(ScreenshotDirectory);
    }

    /// <summary>
    /// A fresh browser profile (no cookies) at a laptop's width. What the page does goes to the output of the test that
    /// opened it, which is shown when the test fails: a wait that times out then shows whether the browser was still
    /// loading or had long finished (which is how a wait that missed a navigation was told from a slow page).
    /// </summary>
    public async Task<IPage> NewPageAsync(int width = 1280, int height = 900)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = BaseUrl, ViewportSize = new ViewportSize { Width = width, Height = height } });
        var page = await context.NewPageAsync();
        if (TestContext.Current.TestOutputHelper is { } output)
        {
            Record(page, output);
        }

        return page;
    }

    /// <summary>Requests, answers, navigations, load events and script errors, each with the time since the page opened.</summary>
    private static void Record(IPage page, ITestOutputHelper output)
    {
        var opened = System.Diagnostics.Stopwatch.StartNew();
        void Note(string what)
        {
            try
            {
                output.WriteLine($"[page +{opened.Elapsed.TotalSeconds:F2} s] {what}");
            }
            catch (InvalidOperationException)
            {
                // The test has ended; the page outlived it.
            }
        }

        static string Path(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme.StartsWith("http", StringComparison.Ordinal) ? uri.PathAndQuery : url;
        page.Request += (_, r) => Note($"request {r.Method} {Path(r.Url)}");
        page.Response += (_, r) => Note($"answer {r.Status} to {r.Request.Method} {Path(r.Url)}");
        page.RequestFinished += (_, r) => Note($"finished {r.Method} {Path(r.Url)}");
        page.RequestFailed += (_, r) => Note($"failed {r.Method} {Path(r.Url)}: {r.Failure}");
        page.FrameNavigated += (_, frame) =>
        {
            if (frame == page.MainFrame)
            {
                Note($"navigated to {Path(frame.Url)}");
            }
        };
        page.DOMContentLoaded += (_, _) => Note("DOMContentLoaded");
        page.Load += (_, _) => Note("load");
        page.PageError += (_, error) => Note($"script error: {error}");
    }

    private static string Chromium()
    {
        foreach (var candidate in new[] { Environment.GetEnvironmentVariable("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser" })
        {
            if (candidate is { Length: > 0 } && File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("Chromium is not installed: run scripts/test (it installs Debian's chromium with apt-get) or `apt-get install chromium`.");
    }

    private static RequestDelegate Forward(ServiceHost app) => async context =>
    {
        using var forward = await RelayRequests.ForHostAsync(context, "https://localhost");
        using var client = app.Host.Server.CreateClient();
        using var answer = await client.SendAsync(forward, context.RequestAborted);
        context.Response.StatusCode = (int)answer.StatusCode;
        // The cookie handler's redirects (sign-in, refusal) are absolute, to the host the service saw: point them back here.
        if (answer.Headers.Location is { IsAbsoluteUri: true } location && location.Host == "localhost")
        {
            answer.Headers.Location = new Uri(location.PathAndQuery, UriKind.Relative);
        }

        foreach (var header in answer.Headers.Concat(answer.Content.Headers))
        {
            if (!header.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.Headers[header.Key] = header.Value.ToArray();
            }
        }

        await answer.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    };

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_relay is not null)
        {
            await _relay.StopAsync();
            await _relay.DisposeAsync();
        }
    }
}
