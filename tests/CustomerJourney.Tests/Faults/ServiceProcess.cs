using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;

namespace CustomerJourney.Tests.Faults;

/// <summary>The service as a real process (so it can be killed with SIGKILL), on loopback, against a given database and schema.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private Process? _process;
    private readonly string _connectionString;
    private readonly string _schema;

    public ServiceProcess(string connectionString, string schema)
    {
        _connectionString = connectionString;
        _schema = schema;
        Port = ServiceHost.FreePort();
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public int Port { get; }
    public HttpClient Http { get; }
    public string ApiKey { get; private set; } = "";

    public static string ApiDll()
    {
        var configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var dll = Path.Combine(directory.FullName, "src", "CustomerJourney.Api", "bin", configuration, "net10.0", "CustomerJourney.Api.dll");
            if (File.Exists(dll))
            {
                return dll;
            }
        }

        throw new InvalidOperationException("The service's build output was not found; build the solution first.");
    }

    public async Task StartAsync(string source)
    {
        _process = Process.Start(StartInfo())!;
        // Kept for when a fault test fails: the service's own account of it.
        LogFile = Path.Combine(Path.GetTempPath(), $"cj-fault-service-{_schema}-{Port}.log");
        var log = TextWriter.Synchronized(new StreamWriter(LogFile, append: true) { AutoFlush = true });
        _ = Drain(_process.StandardOutput, log);
        _ = Drain(_process.StandardError, log);
        var process = _process;
        await Waiting.Until(async () =>
        {
            Assert.False(process.HasExited, $"the service exited with {(process.HasExited ? process.ExitCode : 0)} while starting");
            try
            {
                return (await Http.GetAsync("/health/ready", TestContext.Current.CancellationToken)).StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(90), "the service to become ready");

        if (ApiKey.Length == 0)
        {
            using var token = await Http.PostAsJsonAsync("/api/dev/tokens", new { name = "fault-admin", roles = new[] { "admin" } }, TestContext.Current.CancellationToken);
            var admin = (await token.Content.ReadFromJsonAsync<JsonObject>(TestContext.Current.CancellationToken))!["token"]!.GetValue<string>();
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/access/keys") { Content = JsonContent.Create(new { source }) };
            request.Headers.Authorization = new("Bearer", admin);
            using var created = await Http.SendAsync(request, TestContext.Current.CancellationToken);
            ApiKey = (await created.Content.ReadFromJsonAsync<JsonObject>(TestContext.Current.CancellationToken))!["key"]!.GetValue<string>();
        }
    }

    /// <summary>Extra settings for the service, e.g. to make a projection or a timer behave for one test.</summary>
    public Dictionary<string, string> Settings { get; } = new(StringComparer.Ordinal);

    private ProcessStartInfo StartInfo(params string[] args)
    {
        var dll = ApiDll();
        var start = new ProcessStartInfo("dotnet", [dll, .. args]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
        start.Environment["ConnectionStrings__Marten"] = _connectionString;
        start.Environment["EventStore__Schema"] = _schema;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{Port}";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["RateLimits__SourceKey__Burst"] = "1000000000";
        start.Environment["RateLimits__SourceKey__PerSecond"] = "1000000000";
        foreach (var (key, value) in Settings)
        {
            start.Environment[key] = value;
        }

        return start;
    }

    /// <summary>A command of the service's command line (e.g. projections rebuild) on the same database and schema.</summary>
    public async Task<(int Exit, string Output)> RunCommandAsync(params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }

    /// <summary>A command of the service's command line as a process of its own, to be awaited or killed (the import's fault test).</summary>
    public Process StartCommand(params string[] args) => Process.Start(StartInfo(args))!;

    /// <summary>SIGTERM and a graceful shutdown (bounded); SIGKILL if it does not end in time.</summary>
    public async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            using var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await term.WaitForExitAsync(TestContext.Current.CancellationToken);
            using var grace = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            grace.CancelAfter(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(TestContext.Current.CancellationToken);
            }
        }

        _process.Dispose();
        _process = null;
    }

    /// <summary>SIGKILL: no shutdown, no flush, no goodbye.</summary>
    public async Task KillAsync()
    {
        _process!.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken);
        _process.Dispose();
        _process = null;
    }

    public async Task<(int Status, string Body, string? ContentType)> PostAsync(string url, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Api-Key", ApiKey);
        using var response = await Http.SendAsync(request, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), response.Content.Headers.ContentType?.MediaType);
    }

    public string LogFile { get; private set; } = "";

    private static async Task Drain(StreamReader reader, TextWriter log)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            await log.WriteLineAsync(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
        Http.Dispose();
    }
}
