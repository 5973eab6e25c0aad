using System.Collections.Concurrent;
using Alba;
using CustomerJourney.Access;
using JasperFx.CommandLine;
using Marten;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

[assembly: AssemblyFixture(typeof(CustomerJourney.Tests.Support.AppFixture))]

namespace CustomerJourney.Tests.Support;

/// <summary>
/// One host per test run, against the real PostgreSQL that scripts/test starts (or ConnectionStrings__Marten).
/// The run gets its own schemas, so runs never see each other's data; tests isolate by their own ids.
/// </summary>
public sealed class AppFixture : IAsyncLifetime
{
    public string Schema { get; } = $"test_{DateTime.UtcNow:yyyyMMddHHmmss}_{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>A user whose rate budget is 5 requests, refilled at 1 a second.</summary>
    public const string BurstTester = "burst-tester";

    /// <summary>The source of touchpoints tests post unless they say otherwise.</summary>
    public const string DefaultSource = TouchpointJson.DefaultSource;

    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _keys = new(StringComparer.Ordinal);

    public IAlbaHost Host { get; private set; } = null!;

    public CapturedLogs Logs { get; } = new();

    public IDocumentStore Store => Host.Services.GetRequiredService<IDocumentStore>();

    public static string ConnectionString =>
        Environment.GetEnvironmentVariable("ConnectionStrings__Marten") is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException(
                "ConnectionStrings__Marten is not set. Run the tests with scripts/test, which starts the project-local " +
                "PostgreSQL, or set ConnectionStrings__Marten to a PostgreSQL you may create schemas in.");

    public async ValueTask InitializeAsync()
    {
        await AssertDatabaseReachable();

        // Settings the host reads while it is being built, before any test-host override could apply.
        Environment.SetEnvironmentVariable("EventStore__Schema", Schema);
        Environment.SetEnvironmentVariable("ASPNETCORE_ENVIRONMENT", "Development");
        // Budgets large enough for a whole suite per client; the burst test has a tiny budget of its own.
        Environment.SetEnvironmentVariable("RateLimits__SourceKey__Burst", "1000000");
        Environment.SetEnvironmentVariable("RateLimits__User__Burst", "1000000");
        Environment.SetEnvironmentVariable("RateLimits__Clients__0__Client", $"user:{BurstTester}");
        Environment.SetEnvironmentVariable("RateLimits__Clients__0__Burst", "5");
        Environment.SetEnvironmentVariable("RateLimits__Clients__0__PerSecond", "1");
        // Everything down to Debug reaches the captured logs, so the leak test sees what an operator could switch on.
        foreach (var category in new[] { "Default", "Microsoft.AspNetCore", "Marten", "Wolverine", "JasperFx" })
        {
            Environment.SetEnvironmentVariable($"Logging__LogLevel__{category}", "Debug");
        }

        JasperFxEnvironment.AutoStartHost = true;
        Host = await AlbaHost.For<Program>(builder => builder.ConfigureLogging(logging => logging.AddProvider(Logs).SetMinimumLevel(LogLevel.Debug)));
    }

    /// <summary>A bearer token as the organisation's identity provider would issue it.</summary>
    public string Token(string name, params string[] roles) => Token(name, roles, channel: null);

    public string Token(string name, string[] roles, string? channel, TimeSpan? lifetime = null)
    {
        var jwt = Host.Services.GetRequiredService<JwtSettings>();
        var now = DateTimeOffset.UtcNow;
        return DevelopmentTokens.Issue(jwt, name, roles, channel, now, now + (lifetime ?? TimeSpan.FromMinutes(30)));
    }

    /// <summary>An API key of the given source system, created once per run.</summary>
    public Task<string> KeyFor(string source) => _keys.GetOrAdd(source, s => new Lazy<Task<string>>(() => CreateKey(s))).Value;

    private async Task<string> CreateKey(string source)
    {
        var (key, stored) = ApiKeySecrets.Issue(source, "test-fixture", DateTimeOffset.UtcNow);
        await using var session = Store.LightweightSession();
        session.Store(stored);
        await session.SaveChangesAsync();
        return key;
    }

    private static async Task AssertDatabaseReachable()
    {
        try
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync();
        }
        catch (NpgsqlException e)
        {
            throw new InvalidOperationException(
                $"PostgreSQL is unreachable with ConnectionStrings__Marten ({e.Message}). Run scripts/test to start the local cluster.", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand(
            $"drop schema if exists {Schema} cascade; drop schema if exists {Schema}_wolverine cascade; drop schema if exists {Schema}_keys cascade;", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
