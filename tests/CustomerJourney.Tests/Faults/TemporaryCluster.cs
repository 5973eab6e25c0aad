using System.Diagnostics;
using CustomerJourney.Tests.Support;

namespace CustomerJourney.Tests.Faults;

/// <summary>
/// A throw-away PostgreSQL cluster of its own, so a test may stop and start the database without touching the one
/// every other test uses. Run as the 'postgres' user when the tests run as root, as scripts/local-postgres.sh does.
/// </summary>
public sealed class TemporaryCluster : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _directory;

    private TemporaryCluster(string bin, int port, string parent)
    {
        _bin = bin;
        Port = port;
        _directory = Path.Combine(parent, $"cj-fault-pg-{Guid.NewGuid():N}");
    }

    public int Port { get; }

    /// <summary>The cluster's data directory: its data files and its WAL (pg_wal).</summary>
    public string DataDirectory => _directory;

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Timeout=3;Command Timeout=20";

    public static string? Binaries() => Directory.Exists("/usr/lib/postgresql")
        ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(b => File.Exists(Path.Combine(b, "initdb")))
            .OrderBy(b => b, StringComparer.Ordinal).LastOrDefault()
        : null;

    /// <param name="parent">Where the data directory goes (a small tmpfs for the disk-full test); the temp folder by default.</param>
    public static async Task<TemporaryCluster> CreateAsync(string? parent = null)
    {
        var bin = Binaries() ?? throw new InvalidOperationException("PostgreSQL binaries not found under /usr/lib/postgresql (scripts/test installs them).");
        var cluster = new TemporaryCluster(bin, ServiceHost.FreePort(), parent ?? Path.GetTempPath());
        Directory.CreateDirectory(cluster._directory);
        if (Environment.UserName == "root")
        {
            await Run("chown", "postgres", cluster._directory);
        }

        await cluster.As("initdb", "-D", cluster._directory, "-U", "postgres", "-A", "trust", "--no-sync");
        await cluster.StartAsync();
        return cluster;
    }

    public Task StartAsync() => As("pg_ctl", "-D", _directory, "-l", Path.Combine(_directory, "server.log"), "-w", "-o",
        $"-p {Port} -k {_directory} -c listen_addresses=127.0.0.1 -c fsync=off", "start");

    /// <summary>Stops at once (immediate mode): connections are cut as in a crash; the next start recovers from the WAL.</summary>
    public Task StopAsync() => As("pg_ctl", "-D", _directory, "-w", "-m", "immediate", "stop");

    private Task As(string tool, params string[] args) => Environment.UserName == "root"
        ? Run("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args])
        : Run(Path.Combine(_bin, tool), args);

    public static async Task Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {await output} {await error}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        Directory.Delete(_directory, recursive: true);
    }
}
