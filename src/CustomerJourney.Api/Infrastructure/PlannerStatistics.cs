using Npgsql;

namespace CustomerJourney.Infrastructure;

/// <summary>Schemas whose tables <see cref="PlannerStatistics"/> watches, and how to reach their database.</summary>
/// <param name="Name">What the schemas hold, for the log.</param>
/// <param name="Open">Opens a connection to their database, as their owner (only the owner may analyse a table).</param>
/// <param name="Schemas">The schemas.</param>
public sealed record StatisticsTarget(string Name, Func<CancellationToken, Task<NpgsqlConnection>> Open, IReadOnlyList<string> Schemas);

/// <summary>
/// Analyses each table PostgreSQL has never analysed as soon as it holds <see cref="MinRows"/> rows. A table without
/// statistics is planned with PostgreSQL's default guesses: each element of an <c>= any(...)</c> list matches one row in
/// 200, so a look-up of 500 customers is taken for most of the table and read whole, in parallel. Autovacuum analyses a
/// new table only on one of its rounds, a minute or more apart: in the load benchmark's first two minutes the service's
/// look-ups by id read 81 million rows of the profile memberships alone (bench/README.md, twenty-third round). Once a
/// table has statistics, autovacuum keeps them current as it grows; a bulk append refreshes its own (HistoryImport).
/// </summary>
public sealed class PlannerStatistics(IEnumerable<StatisticsTarget> targets, ILogger<PlannerStatistics> logger) : BackgroundService
{
    /// <summary>Below this a whole-table read costs about what an index's does, and analysing would be done for nothing.</summary>
    public const long MinRows = 1_000;

    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    /// <summary>Tables analysed by this instance, or tried: one this role may not analyse is tried once, not every round.</summary>
    private readonly HashSet<string> analysed = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            foreach (var target in targets)
            {
                try
                {
                    await AnalyzeNewTablesAsync(target, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The next round tries again; the planner meanwhile has autovacuum, as without this. Never stops the host.
                    logger.LogDebug(e, "Could not refresh the planner's statistics of {Target}", target.Name);
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task AnalyzeNewTablesAsync(StatisticsTarget target, CancellationToken cancellation)
    {
        await using var connection = await target.Open(cancellation);
        var tables = new List<string>();
        await using (var find = new NpgsqlCommand(
                         """
                         select format('%I.%I', schemaname, relname) from pg_stat_user_tables
                         where schemaname = any(@schemas) and last_analyze is null and last_autoanalyze is null and n_live_tup >= @min
                         order by 1
                         """, connection))
        {
            find.Parameters.AddWithValue("schemas", target.Schemas.ToArray());
            find.Parameters.AddWithValue("min", MinRows);
            await using var reader = await find.ExecuteReaderAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                tables.Add(reader.GetString(0));
            }
        }

        tables.RemoveAll(t => !analysed.Add(t));
        if (tables.Count > 0)
        {
            await AnalyzeAsync(connection, tables, cancellation);
            logger.LogInformation("Analysed {Tables}: their first statistics, before autovacuum's round", string.Join(", ", tables));
        }
    }

    /// <summary>Refreshes the planner's statistics of these tables (qualified, quoted names). A role that does not own one gets PostgreSQL's warning and no statistics.</summary>
    public static async Task AnalyzeAsync(NpgsqlConnection connection, IReadOnlyCollection<string> tables, CancellationToken cancellation)
    {
        await using var analyze = new NpgsqlCommand($"analyze {string.Join(", ", tables)}", connection);
        await analyze.ExecuteNonQueryAsync(cancellation);
    }
}
