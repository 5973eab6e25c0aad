using CustomerJourney.Access;
using CustomerJourney.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CustomerJourney.Tests.Infrastructure;

public sealed class ServiceDataSourceTests(AppFixture app)
{
    /// <summary>
    /// The key store has a pool of its own, and every write and most reads run its key read: built apart from the event
    /// store's data source, it prepared nothing, so PostgreSQL parsed and planned that read each time and reset each
    /// connection with <c>DISCARD ALL</c> (bench/README.md, twenty-second round).
    /// </summary>
    [Fact]
    public async Task The_key_stores_connections_prepare_the_statements_they_repeat()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var keyStore = app.Host.Services.GetRequiredKeyedService<NpgsqlDataSource>(PostgresKeyStore.DataSourceKey);
        var marker = Ids.Unique("prepared");
        await using var connection = await keyStore.OpenConnectionAsync(cancellation);
        for (var i = 0; i < 3; i++)
        {
            await using var repeated = new NpgsqlCommand($"select $1::text /* {marker} */", connection) { Parameters = { new() { Value = "x" } } };
            await repeated.ExecuteScalarAsync(cancellation);
        }

        await using var prepared = new NpgsqlCommand("select count(*) from pg_prepared_statements where statement like $1", connection)
        {
            Parameters = { new() { Value = $"%{marker}%" } },
        };

        Assert.Equal(1L, await prepared.ExecuteScalarAsync(cancellation));
    }

    /// <summary>
    /// The key store's connections go back to the pool without Npgsql's reset, which would also have let go any session
    /// lock: the migration's lock must be let go before its connection returns, or no other instance could migrate again.
    /// </summary>
    [Fact]
    public async Task The_key_stores_migration_lets_its_lock_go_before_its_connection_returns_to_the_pool()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var keys = app.Host.Services.GetRequiredService<PostgresKeyStore>();
        await keys.EnsureCreatedAsync(cancellation);

        await using var other = new NpgsqlConnection(AppFixture.ConnectionString);
        await other.OpenAsync(cancellation);
        await using var take = new NpgsqlCommand($"select pg_try_advisory_lock({keys.MigrationLock})", other);
        Assert.True((bool)(await take.ExecuteScalarAsync(cancellation))!);
        await using var letGo = new NpgsqlCommand($"select pg_advisory_unlock({keys.MigrationLock})", other);
        await letGo.ExecuteScalarAsync(cancellation);
    }
}
