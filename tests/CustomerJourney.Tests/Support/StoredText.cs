using Npgsql;

namespace CustomerJourney.Tests.Support;

/// <summary>What an attacker with a copy of the database would find: any row, in any table of the run's schemas, holding a text.</summary>
public static class StoredText
{
    /// <summary>Counts rows, in every table of the run's schemas, whose text contains <paramref name="needle"/>.</summary>
    public static async Task<long> RowsContaining(this AppFixture app, string needle)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand(
                         "select quote_ident(table_schema) || '.' || quote_ident(table_name) from information_schema.tables where table_schema like @schema || '%' and table_type = 'BASE TABLE'",
                         connection))
        {
            list.Parameters.AddWithValue("schema", app.Schema);
            await using var reader = await list.ExecuteReaderAsync(TestContext.Current.CancellationToken);
            while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            {
                tables.Add(reader.GetString(0));
            }
        }

        Assert.NotEmpty(tables);
        long count = 0;
        foreach (var table in tables)
        {
            await using var search = new NpgsqlCommand($"select count(*) from {table} t where t::text like '%' || @needle || '%'", connection);
            search.Parameters.AddWithValue("needle", needle);
            count += (long)(await search.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
        }

        return count;
    }
}
