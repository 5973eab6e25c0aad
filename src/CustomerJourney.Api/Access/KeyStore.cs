using System.Security.Cryptography;
using Npgsql;
using NpgsqlTypes;

namespace CustomerJourney.Access;

/// <summary>
/// Where the per-customer personal-data keys live: apart from the event store, so the two can have different
/// backup policies, and behind this interface so a KMS can hold them instead.
/// </summary>
public interface IPersonalDataKeyStore
{
    /// <summary>The key of each customer (null once destroyed); with <paramref name="create"/>, missing keys are created.</summary>
    Task<IReadOnlyDictionary<string, byte[]?>> GetKeysAsync(IReadOnlyCollection<string> customerIds, bool create, CancellationToken cancellation);

    /// <summary>Destroys the customer's key for good (and leaves a tombstone so none is created again).</summary>
    Task DestroyKeyAsync(string customerId, CancellationToken cancellation);
}

public sealed class KeyStoreOptions
{
    /// <summary>PostgreSQL schema of the key store; by default "&lt;event store schema&gt;_keys".</summary>
    public string? Schema { get; set; }
}

/// <summary>The key store in PostgreSQL: its own schema (and, with ConnectionStrings:KeyStore, its own database).</summary>
public sealed class PostgresKeyStore(NpgsqlDataSource dataSource, string schema) : IPersonalDataKeyStore
{
    private const int KeySize = 32;

    public string Table => $"{schema}.customer_keys";

    public async Task EnsureCreatedAsync(CancellationToken cancellation)
    {
        await using var command = dataSource.CreateCommand(
            $"""
             create schema if not exists {schema};
             create table if not exists {Table} (
                 customer_id  text primary key,
                 key          bytea,
                 created_at   timestamptz not null default now(),
                 destroyed_at timestamptz
             );
             """);
        await command.ExecuteNonQueryAsync(cancellation);
    }

    public async Task<IReadOnlyDictionary<string, byte[]?>> GetKeysAsync(IReadOnlyCollection<string> customerIds, bool create, CancellationToken cancellation)
    {
        var keys = new Dictionary<string, byte[]?>(StringComparer.Ordinal);
        if (customerIds.Count == 0)
        {
            return keys;
        }

        var ids = customerIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        await using var batch = dataSource.CreateBatch();
        if (create)
        {
            // One round trip: create what is missing (a tombstone stays a tombstone), then read them all.
            var fresh = ids.Select(_ => RandomNumberGenerator.GetBytes(KeySize)).ToArray();
            var insert = new NpgsqlBatchCommand(
                $"insert into {Table} (customer_id, key) select c, k from unnest(@ids, @keys) as t(c, k) on conflict do nothing");
            insert.Parameters.Add(new NpgsqlParameter<string[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = ids });
            insert.Parameters.Add(new NpgsqlParameter<byte[][]>("keys", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { TypedValue = fresh });
            batch.BatchCommands.Add(insert);
        }

        var select = new NpgsqlBatchCommand($"select customer_id, key from {Table} where customer_id = any(@ids)");
        select.Parameters.Add(new NpgsqlParameter<string[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = ids });
        batch.BatchCommands.Add(select);

        await using var reader = await batch.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            keys[reader.GetString(0)] = reader.IsDBNull(1) ? null : (byte[])reader[1];
        }

        return keys;
    }

    public async Task DestroyKeyAsync(string customerId, CancellationToken cancellation)
    {
        await using (var destroy = dataSource.CreateCommand(
                         $"""
                          insert into {Table} (customer_id, key, destroyed_at) values (@id, null, now())
                          on conflict (customer_id) do update set key = null, destroyed_at = coalesce({Table}.destroyed_at, now())
                          """))
        {
            destroy.Parameters.AddWithValue("id", customerId);
            await destroy.ExecuteNonQueryAsync(cancellation);
        }

        // The old row version still holds the key until vacuumed; do not wait for autovacuum.
        await using var vacuum = dataSource.CreateCommand($"vacuum {Table}");
        await vacuum.ExecuteNonQueryAsync(cancellation);
    }
}
