using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using CustomerJourney.Infrastructure;

namespace Load;

/// <summary>The service under test, as its own process on loopback, against its own fresh schema.</summary>
public sealed class Service : IAsyncDisposable
{
    private readonly Process _process;

    private Service(Process process, int port)
    {
        _process = process;
        Port = port;
        Http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(5),
        };
    }

    public int Port { get; }
    public HttpClient Http { get; }
    public int ProcessId => _process.Id;
    public string ApiKey { get; private set; } = "";

    public static async Task<Service> StartAsync(string apiDll, string connectionString, string schema)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [apiDll])
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(apiDll)!,
        };
        var env = start.Environment;
        env["ConnectionStrings__Marten"] = connectionString;
        env["EventStore__Schema"] = schema;
        env["ASPNETCORE_ENVIRONMENT"] = "Development";
        env["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        env["Logging__LogLevel__Default"] = "Warning";
        // The import logs its phases per chunk (parse, keys, intake, claim, bulk append, ledger, close): the profile behind its figure.
        env["Logging__LogLevel__CustomerJourney.Imports"] = "Debug";
        // The benchmark is the only client: rate limits would measure themselves.
        foreach (var budget in new[] { "SourceKey", "User" })
        {
            env[$"RateLimits__{budget}__Burst"] = "1000000000";
            env[$"RateLimits__{budget}__PerSecond"] = "1000000000";
        }

        // An experiment on the service alone (a GC setting, say): SERVICE_DOTNET_GCgen0size=... reaches the service as
        // DOTNET_GCgen0size; set without the prefix it would reach the load client too.
        foreach (var (name, value) in Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                     .Select(e => ((string)e.Key, (string?)e.Value)))
        {
            if (name.StartsWith("SERVICE_", StringComparison.Ordinal) && name.Length > "SERVICE_".Length)
            {
                env[name["SERVICE_".Length..]] = value;
            }
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the service");
        // The service's own log, for when a figure needs explaining.
        var log = Path.Combine(Path.GetTempPath(), $"customerjourney-bench-{schema}.log");
        var writer = TextWriter.Synchronized(new StreamWriter(log) { AutoFlush = true });
        Console.WriteLine($"Service log: {log}");
        _ = Drain(process.StandardOutput, writer);
        _ = Drain(process.StandardError, writer);
        var service = new Service(process, port);
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The service exited with {process.ExitCode} while starting.");
            }

            try
            {
                if ((await service.Http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK)
                {
                    break;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The service did not become ready within 120 s.");
            }

            await Task.Delay(250);
        }

        var admin = await service.TokenAsync("bench-admin", "admin");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/access/keys") { Content = JsonContent.Create(new { source = Dataset.Source }) };
        request.Headers.Authorization = new("Bearer", admin);
        using var created = await service.Http.SendAsync(request);
        created.EnsureSuccessStatusCode();
        service.ApiKey = (await created.Content.ReadFromJsonAsync<JsonObject>())!["key"]!.GetValue<string>();
        return service;
    }

    public async Task<string> TokenAsync(string name, string role)
    {
        using var response = await Http.PostAsJsonAsync("/api/dev/tokens", new { name, roles = new[] { role } });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["token"]!.GetValue<string>();
    }

    /// <summary>Peak resident set of the service process (VmHWM), in bytes.</summary>
    public long PeakWorkingSet() => StatusBytes("VmHWM") ?? _process.PeakWorkingSet64;

    /// <summary>The resident set now (VmRSS), in bytes.</summary>
    private long WorkingSet() => StatusBytes("VmRSS") ?? 0;

    /// <summary>A size the kernel reports for the service in /proc/&lt;pid&gt;/status (in KiB there), in bytes; null when absent.</summary>
    private long? StatusBytes(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        return null;
    }

    /// <summary>The collector's pauses and collections since the service started, and its heap as the last collection left it.</summary>
    public async Task<RuntimeFigures> RuntimeAsync() =>
        await Http.GetFromJsonAsync<RuntimeFigures>("/api/dev/runtime") ?? throw new InvalidOperationException("/api/dev/runtime answered nothing");

    /// <summary>A resident set sampled with what the service's heap held at that moment.</summary>
    public sealed record MemorySample(long WorkingSet, RuntimeFigures Runtime);

    private readonly Lock _sampled = new();
    private MemorySample? _highest;
    private CancellationTokenSource? _sampling;

    /// <summary>
    /// Samples the resident set every second until the service is disposed; whenever it is the highest of the phase so
    /// far, asks the service what its heap holds (<see cref="RuntimeAsync"/>). The kernel's high-water mark is the peak;
    /// this says what the resident set was made of near it.
    /// </summary>
    public void SampleMemory()
    {
        _sampling = new CancellationTokenSource();
        var stop = _sampling.Token;
        _ = Task.Run(async () =>
        {
            using var every = new PeriodicTimer(TimeSpan.FromSeconds(1));
            while (await every.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                try
                {
                    var resident = WorkingSet();
                    lock (_sampled)
                    {
                        if (_highest is not null && resident <= _highest.WorkingSet)
                        {
                            continue;
                        }
                    }

                    var runtime = await RuntimeAsync().ConfigureAwait(false);
                    lock (_sampled)
                    {
                        if (_highest is null || resident > _highest.WorkingSet)
                        {
                            _highest = new MemorySample(resident, runtime);
                        }
                    }
                }
                catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException or ObjectDisposedException)
                {
                    // A sample missed (the service busy past the client's patience, or gone): the next tick tries again.
                }
            }
        }, stop);
    }

    private readonly List<(string Phase, long Peak, MemorySample? Highest)> _phases = [];

    /// <summary>
    /// Ends a phase of the run: notes its peak resident set (and its highest sample) and resets the kernel's high-water
    /// mark (`clear_refs` 5), so the next phase's peak is its own. Where resetting is refused, the next peak includes the earlier ones.
    /// </summary>
    public void EndPhase(string phase)
    {
        lock (_sampled)
        {
            _phases.Add((phase, PeakWorkingSet(), _highest));
            _highest = null;
        }

        try
        {
            File.WriteAllText($"/proc/{_process.Id}/clear_refs", "5");
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>
    /// Each ended phase's peak resident set, in bytes, and the run's (the highest, including what ran since the last phase
    /// ended), with the highest sample of the phase that peaked (null when not sampled).
    /// </summary>
    public (long Run, IReadOnlyList<(string Phase, long Peak)> Phases, (string Phase, MemorySample Sample)? AtPeak) Peaks()
    {
        lock (_sampled)
        {
            var top = _phases.Count == 0 ? default : _phases.MaxBy(p => p.Peak);
            var atPeak = top.Highest is { } sample ? (top.Phase, sample) : ((string, MemorySample)?)null;
            return (Math.Max(PeakWorkingSet(), top.Peak), [.. _phases.Select(p => (p.Phase, p.Peak))], atPeak);
        }
    }

    /// <summary>CPU seconds the service has used so far.</summary>
    public double CpuSeconds()
    {
        _process.Refresh();
        return _process.TotalProcessorTime.TotalSeconds;
    }

    private static async Task Drain(StreamReader reader, TextWriter log)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            await log.WriteLineAsync(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private bool _disposed;

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_sampling is not null)
        {
            await _sampling.CancelAsync();
            _sampling.Dispose();
        }

        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
