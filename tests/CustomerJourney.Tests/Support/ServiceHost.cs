using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Alba;
using CustomerJourney.Access;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CustomerJourney.Tests.Support;

/// <summary>
/// What every in-process host of the service in these tests shares (the run's <see cref="AppFixture"/> and the
/// schema-of-its-own hosts such as the win-back one): tokens, API keys, the request helpers in <see cref="ApiCalls"/>,
/// and its schemas' names and clean-up.
/// </summary>
public abstract class ServiceHost
{
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _keys = new(StringComparer.Ordinal);

    public IAlbaHost Host { get; protected set; } = null!;

    public CapturedLogs Logs { get; } = new();

    public IDocumentStore Store => Host.Services.GetRequiredService<IDocumentStore>();

    /// <summary>A bearer token as the organisation's identity provider would issue it.</summary>
    public string Token(string name, params string[] roles) => Token(name, roles, channel: null);

    public string Token(string name, string[] roles, string? channel, TimeSpan? lifetime = null)
    {
        var jwt = Host.Services.GetRequiredService<JwtSettings>();
        var now = DateTimeOffset.UtcNow;
        return DevelopmentTokens.Issue(jwt, name, roles, channel, now, now + (lifetime ?? TimeSpan.FromMinutes(30)));
    }

    /// <summary>An API key of the given source system, created once per host object.</summary>
    public Task<string> KeyFor(string source) => _keys.GetOrAdd(source, s => new Lazy<Task<string>>(() => CreateKey(s))).Value;

    private async Task<string> CreateKey(string source)
    {
        var (key, stored) = ApiKeySecrets.Issue(source, "test-fixture", DateTimeOffset.UtcNow);
        await using var session = Store.LightweightSession();
        session.Store(stored);
        await session.SaveChangesAsync();
        return key;
    }

    /// <summary>A schema name no other run or host uses.</summary>
    public static string NewSchema(string prefix) => $"{prefix}_{DateTime.UtcNow:yyyyMMddHHmmss}_{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>Drops what a host of the service created for <paramref name="schema"/>: the event store's, Wolverine's and the key store's schemas.</summary>
    public static async Task DropSchemas(string schema, string? connectionString = null)
    {
        await using var connection = new NpgsqlConnection(connectionString ?? AppFixture.ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand(
            $"drop schema if exists {schema} cascade; drop schema if exists {schema}_wolverine cascade; drop schema if exists {schema}_keys cascade;", connection);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>A loopback port free at the moment of asking.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
