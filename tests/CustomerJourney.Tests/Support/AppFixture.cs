using Alba;
using JasperFx.CommandLine;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

[assembly: AssemblyFixture(typeof(CustomerJourney.Tests.Support.AppFixture))]

namespace CustomerJourney.Tests.Support;

/// <summary>
/// One host per test run, against the real PostgreSQL that scripts/test starts (or ConnectionStrings__Marten).
/// The run gets its own schemas, so runs never see each other's data; tests isolate by their own ids.
/// </summary>
public sealed class AppFixture : ServiceHost, IAsyncLifetime
{
    public string Schema { get; } = NewSchema("test");

    /// <summary>The organisation's OpenID Connect provider the run's host trusts, beside its own HS256 tokens.</summary>
    public OrganisationIdentityProvider Provider { get; private set; } = null!;

    /// <summary>A user whose rate budget is 5 requests, refilled at 1 a second.</summary>
    public const string BurstTester = "burst-tester";

    /// <summary>The source of touchpoints tests post unless they say otherwise.</summary>
    public const string DefaultSource = TouchpointJson.DefaultSource;

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
        Environment.SetEnvironmentVariable("RateLimits__Anonymous__Burst", "1000000");
        Environment.SetEnvironmentVariable("RateLimits__Clients__0__Client", $"user:{BurstTester}");
        Environment.SetEnvironmentVariable("RateLimits__Clients__0__Burst", "5");
        Environment.SetEnvironmentVariable("RateLimits__Clients__0__PerSecond", "1");
        // Everything down to Debug reaches the captured logs, so the leak test sees what an operator could switch on.
        foreach (var category in new[] { "Default", "Microsoft.AspNetCore", "Marten", "Wolverine", "JasperFx" })
        {
            Environment.SetEnvironmentVariable($"Logging__LogLevel__{category}", "Debug");
        }

        // ...but the console, which the test run prints, only shows warnings: a failure's own message stays findable in
        // the CI log, and writing every SQL statement to the terminal does not slow the suite down.
        Environment.SetEnvironmentVariable("Logging__Console__LogLevel__Default", "Warning");

        // Started first: the host reads the provider's address while it is built. Passed as host settings, not variables,
        // so the other hosts of the run (some of them Production, which refuses a plain-http provider) do not inherit it.
        Provider = await OrganisationIdentityProvider.StartAsync();

        JasperFxEnvironment.AutoStartHost = true;
        Host = await AlbaHost.For<Program>(builder =>
        {
            builder.ConfigureLogging(logging => logging.AddProvider(Logs).SetMinimumLevel(LogLevel.Debug));
            foreach (var (key, value) in Provider.ServiceSettings())
            {
                builder.UseSetting(key, value);
            }
        });
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
        await Provider.DisposeAsync();
        await DropSchemas(Schema);
    }
}
