using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerJourney.Tests.Tracking;

/// <summary>
/// The real Segment, RudderStack and legacy Segment (analytics-node 6.x) Node SDKs (versions pinned in sdk/package-lock.json),
/// unmodified, send a journey through a loopback relay that loses each SDK's first acknowledgement; the journey then holds
/// every call once, at its business time.
/// </summary>
public sealed class SdkJourneyTests(AppFixture app)
{
    private static readonly string SdkDirectory = Path.Combine(RepositoryRoot(), "tests", "CustomerJourney.Tests", "Tracking", "sdk");

    [Fact]
    public async Task Segment_RudderStack_and_legacy_Segment_sdks_send_a_journey_with_duplicates_and_retries_and_every_moment_is_recorded_once()
    {
        var node = NodeBinary();
        await NpmCiAsync(node);
        var segmentUser = Ids.Customer("sdk-seg");
        var rudderUser = Ids.Customer("sdk-rud");
        var legacyUser = Ids.Customer("sdk-leg");
        var segmentKey = await app.KeyFor("sdk-segment");
        var rudderKey = await app.KeyFor("sdk-rudderstack");
        var legacyKey = await app.KeyFor("sdk-legacy-segment");
        await using var relay = await LossyRelay.StartAsync(app);

        var (exit, output) = await RunAsync(node, ["send-journey.cjs"], new Dictionary<string, string>
        {
            ["CJ_URL"] = relay.Url,
            ["CJ_SEGMENT_KEY"] = segmentKey,
            ["CJ_RUDDER_KEY"] = rudderKey,
            ["CJ_LEGACY_KEY"] = legacyKey,
            ["CJ_SEGMENT_USER"] = segmentUser,
            ["CJ_RUDDER_USER"] = rudderUser,
            ["CJ_LEGACY_USER"] = legacyUser,
        });

        Assert.True(exit == 0, output);
        // Each SDK's first request was stored but its answer lost, so each SDK sent it again.
        Assert.Equal(3, relay.AcknowledgementsLost);
        Assert.True(relay.Requests.Count(r => r.Gzip) >= 2, "RudderStack sends gzip by default: " + string.Join(", ", relay.Requests));
        // The legacy SDK sends the first call of its life alone, at once, and the rest in a second batch: the lost one, its
        // retry (axios-retry, 200 ms later) and the rest, all on /v1/batch.
        var legacy = relay.Requests.Where(r => r.Agent == "analytics-node/6.2.0").ToList();
        Assert.True(legacy.Count >= 3 && legacy.All(r => r.Path == "/v1/batch"), "legacy analytics-node requests: " + string.Join(", ", legacy));
        foreach (var (user, source) in new[] { (segmentUser, "sdk-segment"), (rudderUser, "sdk-rudderstack"), (legacyUser, "sdk-legacy-segment") })
        {
            var journey = await app.Journey(user);
            var seen = journey.Select(e => (e!["kind"]!.GetValue<string>(), e["sourceId"]!.GetValue<string>())).Order().ToList();
            Assert.Equal(
                [
                    ("event-tracked", $"{user}-wish"), ("identity-recorded", $"{user}-identify"), ("page-viewed", $"{user}-page"),
                    ("purchase", $"{user}-order"), ("return", $"{user}-refund"), ("survey-answered", $"{user}-nps"),
                ],
                seen);
            Assert.All(journey, e => Assert.Equal(source, e!["source"]!.GetValue<string>()));
            var purchase = journey.Single(e => e!["kind"]!.GetValue<string>() == "purchase")!;
            Assert.Equal(DateTimeOffset.Parse("2024-05-01T10:00:00Z", CultureInfo.InvariantCulture), purchase["occurredAt"]!.GetValue<DateTimeOffset>());
            Assert.Equal((42.5m, "EUR", 2), (purchase["data"]!["amount"]!.GetValue<decimal>(), purchase["data"]!["currency"]!.GetValue<string>(),
                purchase["data"]!["items"]![0]!["quantity"]!.GetValue<int>()));
            Assert.Equal(DateTimeOffset.Parse("2024-05-02T10:00:00Z", CultureInfo.InvariantCulture),
                journey.Single(e => e!["kind"]!.GetValue<string>() == "survey-answered")!["occurredAt"]!.GetValue<DateTimeOffset>());
            var summary = await app.Get($"/api/customers/{user}", Credentials.Token(app.Token("analyst-1", "analyst")));
            Assert.Equal((1, 1, 9), (summary.Body.Int("purchaseCount"), summary.Body.Int("returnCount"), summary.Body.Int("lastNps")));
        }
    }

    /// <summary>Node 20 or later: the one the Microsoft.Playwright package ships, else a new enough `node` on the PATH.</summary>
    private static string NodeBinary()
    {
        var rid = OperatingSystem.IsWindows() ? "win32_x64" : OperatingSystem.IsMacOS() ? "darwin-x64" : "linux-x64";
        var candidates = new[]
        {
            Path.Combine(AppContext.BaseDirectory, ".playwright", "node", rid, OperatingSystem.IsWindows() ? "node.exe" : "node"),
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages", "microsoft.playwright", "1.64.1", ".playwright", "node", rid, "node"),
        };
        return candidates.FirstOrDefault(File.Exists) ?? throw new InvalidOperationException(
            "No Node 20+ found: restore the test project (the Microsoft.Playwright package ships one under .playwright/node).");
    }

    /// <summary>
    /// Installs the SDKs exactly as locked, from the npm registry, with npm running on the Node found above; unless
    /// node_modules already holds the locked packages (a node_modules left by an older lock, without a newly added SDK, is
    /// installed again).
    /// </summary>
    private static async Task NpmCiAsync(string node)
    {
        if (InstalledAsLocked())
        {
            return;
        }

        var (exit, output) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund", "--ignore-scripts"], new Dictionary<string, string>
        {
            ["PATH"] = $"{Path.GetDirectoryName(node)}{Path.PathSeparator}{Environment.GetEnvironmentVariable("PATH")}",
        });
        Assert.True(exit == 0, "npm ci failed (is the npm registry reachable?): " + output);
    }

    /// <summary>
    /// npm's record of what it installed (node_modules/.package-lock.json) names every package of the lock at its version;
    /// optional packages for other platforms are never installed, so they are not asked for.
    /// </summary>
    private static bool InstalledAsLocked()
    {
        var installedFile = Path.Combine(SdkDirectory, "node_modules", ".package-lock.json");
        if (!File.Exists(installedFile))
        {
            return false;
        }

        var installed = LockedPackages(installedFile);
        return LockedPackages(Path.Combine(SdkDirectory, "package-lock.json"))
            .Where(p => p.Key.Length > 0 && p.Value?["optional"]?.GetValue<bool>() != true)
            .All(p => installed.TryGetPropertyValue(p.Key, out var have) && have?["version"]?.GetValue<string>() == p.Value?["version"]?.GetValue<string>());
    }

    private static JsonObject LockedPackages(string lockFile) => JsonNode.Parse(File.ReadAllText(lockFile))!["packages"]!.AsObject();

    private static async Task<(int Exit, string Output)> RunAsync(string file, string[] arguments, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = SdkDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "CustomerJourney.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (CustomerJourney.sln) was not found above the test binaries.");
    }

    /// <summary>
    /// A loopback HTTP relay to the test host (the SDKs need a real socket). It forwards every request; the first request of
    /// each write key is stored by the service but answered 503, as if the acknowledgement had been lost on the way back.
    /// </summary>
    private sealed class LossyRelay : IAsyncDisposable
    {
        private readonly WebApplication _relay;
        private readonly HashSet<string> _seenKeys = [];
        private int _lost;

        private LossyRelay(WebApplication relay) => _relay = relay;

        public string Url { get; private set; } = "";

        public int AcknowledgementsLost => _lost;

        public List<(string Path, bool Gzip, int Status, string Agent)> Requests { get; } = [];

        public static async Task<LossyRelay> StartAsync(AppFixture app)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var relay = new LossyRelay(builder.Build());
            relay._relay.Run(relay.ForwardAsync(app));
            await relay._relay.StartAsync(TestContext.Current.CancellationToken);
            relay.Url = relay._relay.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return relay;
        }

        private RequestDelegate ForwardAsync(AppFixture app) => async context =>
        {
            using var forward = await RelayRequests.ForHostAsync(context, "");
            using var client = app.Host.Server.CreateClient();
            using var answer = await client.SendAsync(forward, context.RequestAborted);
            var authorization = context.Request.Headers.Authorization.ToString();
            bool loseIt;
            lock (_seenKeys)
            {
                loseIt = (int)answer.StatusCode == 200 && _seenKeys.Add(authorization);
                Requests.Add((context.Request.Path, context.Request.Headers.ContentEncoding.ToString() == "gzip", (int)answer.StatusCode,
                    context.Request.Headers.UserAgent.ToString()));
            }

            if (loseIt)
            {
                Interlocked.Increment(ref _lost);
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                context.Response.Headers.RetryAfter = "1";
                return;
            }

            context.Response.StatusCode = (int)answer.StatusCode;
            context.Response.ContentType = answer.Content.Headers.ContentType?.ToString();
            await answer.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        };

        public async ValueTask DisposeAsync()
        {
            await _relay.StopAsync();
            await _relay.DisposeAsync();
        }
    }
}
