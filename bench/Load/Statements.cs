using Npgsql;

namespace Load;

/// <summary>
/// Statements PostgreSQL ran during a workload, from pg_stat_statements (when the cluster preloads it:
/// <c>shared_preload_libraries = 'pg_stat_statements'</c> in .local/pg/data/postgresql.conf, then a restart).
/// Everything the service ran in that time counts, its background reactions included.
/// </summary>
public static class Statements
{
    /// <summary>Clears the counters; false when the extension is not loaded (the figures are then left out).</summary>
    public static async Task<bool> ResetAsync(NpgsqlDataSource db)
    {
        try
        {
            await using var create = db.CreateCommand("create extension if not exists pg_stat_statements; select pg_stat_statements_reset();");
            await create.ExecuteNonQueryAsync();
            return true;
        }
        catch (PostgresException)
        {
            return false;
        }
    }

    /// <summary>Every statement of this database since the reset: its text (shortened), calls and total time.</summary>
    public static async Task<List<(string Query, long Calls, double Milliseconds)>> ReadAsync(NpgsqlDataSource db)
    {
        var statements = new List<(string, long, double)>();
        await using var read = db.CreateCommand(
            "select regexp_replace(left(query, 110), '\\s+', ' ', 'g'), calls, total_exec_time from pg_stat_statements " +
            "where dbid = (select oid from pg_database where datname = current_database()) and query not like '%pg_stat_statements%' order by calls desc");
        await using var reader = await read.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            statements.Add((reader.GetString(0), reader.GetInt64(1), reader.GetDouble(2)));
        }

        return statements;
    }

    /// <summary>
    /// A note: statements per request in all, the look-ups the service keeps for a moment (API keys, personal-data keys),
    /// the most frequent statements and the five that took longest in all, each per request.
    /// </summary>
    public static string Describe(string what, IReadOnlyList<(string Query, long Calls, double Milliseconds)> statements, double requests, int top = 15)
    {
        var total = statements.Sum(s => s.Calls);
        double Per(string table) => statements.Where(s => s.Query.Contains(table, StringComparison.Ordinal) && s.Query.StartsWith("select", StringComparison.OrdinalIgnoreCase))
            .Sum(s => s.Calls) / requests;
        string Line((string Query, long Calls, double Milliseconds) s) => $"  - {s.Calls / requests:F2} x `{s.Query.Replace('|', '/')}` ({s.Milliseconds / requests:F3} ms)";
        // A statement run a few times per request may still take most of PostgreSQL's time (the daemon's event reads).
        var longest = statements.OrderByDescending(s => s.Milliseconds).Take(5).Select(Line);
        return $"Statements per {what} (pg_stat_statements, all of the service's, background reactions included): {total / requests:F1} in all, " +
               $"{statements.Sum(s => s.Milliseconds) / requests:F1} ms; API-key reads {Per("mt_doc_apikey"):F2}, personal-data-key reads {Per("customer_keys"):F2}; " +
               "the most frequent:\n" + string.Join('\n', statements.Take(top).Select(Line)) + "\nthe longest in all:\n" + string.Join('\n', longest);
    }
}
