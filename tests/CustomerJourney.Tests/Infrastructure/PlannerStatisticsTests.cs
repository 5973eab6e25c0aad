using CustomerJourney.Infrastructure;
using CustomerJourney.Tests.Support;
using CustomerJourney.Tests.WinBack;
using CustomerJourney.Touchpoints;
using Npgsql;

namespace CustomerJourney.Tests.Infrastructure;

public sealed class PlannerStatisticsTests
{
    /// <summary>
    /// A new store's tables had no statistics until autovacuum came round, a minute or more after they filled: meanwhile
    /// every look-up of a batch's customers by id was planned as a read of the whole table (bench/README.md, twenty-third
    /// round). Autovacuum records its own analyses as <c>last_autoanalyze</c>; <c>last_analyze</c> is the service's. The
    /// test keeps autovacuum off these tables: when it came round first, the service rightly left them alone, and the
    /// test failed in a clean-clone run (2026-12-08).
    /// </summary>
    [Fact]
    public async Task A_new_stores_tables_are_analysed_once_they_hold_rows_and_the_empty_ones_are_left_alone()
    {
        await using var host = await WinBackHost.StartAsync();
        var keySchema = $"{host.Schema}_keys";
        string[] filled = [$"{host.Schema}.mt_events", $"{host.Schema}.mt_streams", $"{host.Schema}.{TouchpointLedger.TableName}", $"{keySchema}.customer_keys"];
        await WithoutAutovacuumAsync(filled);
        var batch = Enumerable.Range(0, (int)PlannerStatistics.MinRows).Select(_ => TouchpointJson.Purchase(Ids.Customer())).ToArray();

        await host.Record(batch);

        var analysed = await Waiting.For(() => AnalysedAsync(host.Schema, keySchema), tables => filled.All(tables.Contains), TimeSpan.FromSeconds(30),
            "the filled tables to be analysed");
        Assert.DoesNotContain($"{host.Schema}.mt_doc_winbackcampaign", analysed);
    }

    private static async Task WithoutAutovacuumAsync(IEnumerable<string> tables)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        foreach (var table in tables)
        {
            await using var off = new NpgsqlCommand($"alter table {table} set (autovacuum_enabled = false)", connection);
            await off.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }
    }

    private static async Task<AnalysedTables> AnalysedAsync(params string[] schemas)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var query = new NpgsqlCommand("select schemaname || '.' || relname from pg_stat_user_tables where schemaname = any($1) and last_analyze is not null", connection)
        {
            Parameters = { new() { Value = schemas } },
        };
        var tables = new AnalysedTables();
        await using var reader = await query.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            tables.Add(reader.GetString(0));
        }

        return tables;
    }

    /// <summary>The tables seen analysed, named in a failure's message.</summary>
    private sealed class AnalysedTables : SortedSet<string>
    {
        public AnalysedTables()
            : base(StringComparer.Ordinal)
        {
        }

        public override string ToString() => Count == 0 ? "none" : string.Join(", ", this);
    }
}
