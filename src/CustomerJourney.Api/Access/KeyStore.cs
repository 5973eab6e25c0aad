using Npgsql;
using NpgsqlTypes;

namespace CustomerJourney.Access;

/// <summary>
/// Where the per-customer personal-data keys live, apart from the event store, and behind this interface so a KMS
/// can hold them instead. Keys pass this seam raw; what is stored is each key wrapped by <see cref="IKeyEncryptionKeys"/>.
/// </summary>
public interface IPersonalDataKeyStore
{
    /// <summary>The key of each customer that has one (null once destroyed); customers without a key are absent.</summary>
    Task<IReadOnlyDictionary<string, byte[]?>> GetKeysAsync(IReadOnlyCollection<string> customerIds, CancellationToken cancellation);

    /// <summary>
    /// Stores keys for customers that have none yet, and answers the key each of them has now: the one given, or one
    /// another writer stored first, or null when the customer was erased meanwhile.
    /// </summary>
    Task<IReadOnlyDictionary<string, byte[]?>> AddKeysAsync(IReadOnlyDictionary<string, byte[]> keys, CancellationToken cancellation);

    /// <summary>Destroys the customer's key for good (and leaves a tombstone so none is created again).</summary>
    Task DestroyKeyAsync(string customerId, CancellationToken cancellation);
}

/// <summary>
/// The key store in PostgreSQL: its own schema (and, with ConnectionStrings:KeyStore, its own database or cluster).
/// It holds only wrapped keys, and PostgreSQL keeps no statistics on them: planner statistics would copy column values
/// into pg_statistic, where no erasure reaches.
/// </summary>
public sealed class PostgresKeyStore(NpgsqlDataSource dataSource, string schema, IKeyEncryptionKeys keks, ILogger<PostgresKeyStore> logger)
    : IPersonalDataKeyStore
{
    private const int BatchSize = 1000;

    /// <summary>The service key of the key store's own data source (its pool is not the event store's).</summary>
    public const string DataSourceKey = "key-store";

    /// <summary>
    /// Built as the event store's is (every write and most reads run the same key read), with one difference: a connection
    /// goes back to the pool without Npgsql's reset. The reset is seven statements run before the connection's next use, one
    /// use per key read (bench/README.md, twenty-second round), and these connections have no session state to reset: no
    /// statement here sets anything, the one session-level lock (<see cref="EnsureCreatedAsync"/>) is let go before its
    /// connection returns, and Npgsql rolls back a transaction left open whether it resets or not.
    /// </summary>
    public static NpgsqlDataSource DataSource(string connectionString, ILoggerFactory logging)
    {
        var builder = Infrastructure.CritterStackSetup.ServiceDataSource(connectionString, logging);
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        return builder.Build();
    }

    public string Table => $"{schema}.customer_keys";

    /// <summary>The SQL of the migration's lock key: the one place it is spelled, so whatever takes or watches it means the same lock.</summary>
    public string MigrationLock => $"hashtext('{Table}')";

    /// <summary>Creates the table, or brings an older one up to date: raw keys from before envelope encryption are wrapped in place.</summary>
    public async Task EnsureCreatedAsync(CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        // One instance at a time: the migration below rewrites the table.
        await Execute(connection, $"select pg_advisory_lock({MigrationLock})", cancellation);
        try
        {
            await Execute(connection,
                $"""
                 create schema if not exists {schema};
                 create table if not exists {Table} (
                     customer_id  text primary key,
                     kek_id       text,
                     wrapped_key  bytea,
                     created_at   timestamptz not null default now(),
                     destroyed_at timestamptz
                 );
                 alter table {Table} add column if not exists kek_id text;
                 alter table {Table} add column if not exists wrapped_key bytea;
                 alter table {Table} alter column wrapped_key set statistics 0;
                 """, cancellation);
            await MigrateRawKeysAsync(connection, cancellation);
        }
        finally
        {
            await UnlockAsync(connection);
        }
    }

    /// <summary>Lets the migration's lock go. Connections return to the pool without a reset (<see cref="DataSource"/>): one that may still hold it is closed instead.</summary>
    private async Task UnlockAsync(NpgsqlConnection connection)
    {
        try
        {
            await Execute(connection, $"select pg_advisory_unlock({MigrationLock})", CancellationToken.None);
        }
        catch
        {
            NpgsqlConnection.ClearPool(connection);
            throw;
        }
    }

    /// <summary>
    /// Before envelope encryption the table held raw keys in a column "key". They are wrapped, the column dropped and the
    /// table rewritten (VACUUM FULL), which also drops the column's statistics; base backups and WAL archives from before
    /// still hold the raw keys (README, "Erasure").
    /// </summary>
    private async Task MigrateRawKeysAsync(NpgsqlConnection connection, CancellationToken cancellation)
    {
        await using var probe = new NpgsqlCommand(
            "select 1 from information_schema.columns where table_schema = $1 and table_name = 'customer_keys' and column_name = 'key'", connection)
        {
            Parameters = { new() { Value = schema } },
        };
        if (await probe.ExecuteScalarAsync(cancellation) is null)
        {
            return;
        }

        var migrated = 0;
        while (true)
        {
            var raw = new List<(string CustomerId, byte[] Key)>();
            await using (var read = new NpgsqlCommand($"select customer_id, key from {Table} where key is not null order by customer_id limit {BatchSize}", connection))
            await using (var reader = await read.ExecuteReaderAsync(cancellation))
            {
                while (await reader.ReadAsync(cancellation))
                {
                    raw.Add((reader.GetString(0), (byte[])reader[1]));
                }
            }

            if (raw.Count == 0)
            {
                break;
            }

            var wrapped = raw.Select(r => keks.Wrap(r.CustomerId, r.Key)).ToArray();
            await using var update = new NpgsqlCommand(
                $"""
                 update {Table} t set kek_id = u.k, wrapped_key = u.w, key = null
                 from unnest(@ids, @keks, @wrapped) as u(c, k, w) where t.customer_id = u.c
                 """, connection);
            update.Parameters.Add(new NpgsqlParameter<string[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = raw.Select(r => r.CustomerId).ToArray() });
            update.Parameters.Add(new NpgsqlParameter<string[]>("keks", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = wrapped.Select(w => w.KekId).ToArray() });
            update.Parameters.Add(new NpgsqlParameter<byte[][]>("wrapped", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { TypedValue = wrapped.Select(w => w.Sealed).ToArray() });
            await update.ExecuteNonQueryAsync(cancellation);
            migrated += raw.Count;
        }

        await Execute(connection, $"alter table {Table} drop column key", cancellation);
        await Execute(connection, $"vacuum full {Table}", cancellation);
        await Execute(connection, $"analyze {Table}", cancellation);
        logger.LogWarning(
            "Wrapped {Count} raw personal-data keys with the key-encryption key {KekId} and rewrote {Table}. Backups and WAL archives taken before now still hold raw keys.",
            migrated, keks.CurrentId, Table);
    }

    public async Task<IReadOnlyDictionary<string, byte[]?>> GetKeysAsync(IReadOnlyCollection<string> customerIds, CancellationToken cancellation)
    {
        var keys = new Dictionary<string, byte[]?>(StringComparer.Ordinal);
        if (customerIds.Count == 0)
        {
            return keys;
        }

        await using var select = dataSource.CreateCommand($"select customer_id, kek_id, wrapped_key from {Table} where customer_id = any(@ids)");
        select.Parameters.Add(new NpgsqlParameter<string[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = customerIds.Distinct(StringComparer.Ordinal).ToArray() });
        await ReadKeysAsync(select, keys, cancellation);
        return keys;
    }

    public async Task<IReadOnlyDictionary<string, byte[]?>> AddKeysAsync(IReadOnlyDictionary<string, byte[]> keys, CancellationToken cancellation)
    {
        var stored = new Dictionary<string, byte[]?>(StringComparer.Ordinal);
        if (keys.Count == 0)
        {
            return stored;
        }

        var ids = keys.Keys.Order(StringComparer.Ordinal).ToArray();
        var wrapped = ids.Select(id => keks.Wrap(id, keys[id])).ToArray();
        await using var batch = dataSource.CreateBatch();
        // A tombstone stays a tombstone, and a key another writer stored first stays theirs.
        var insert = new NpgsqlBatchCommand(
            $"insert into {Table} (customer_id, kek_id, wrapped_key) select c, k, w from unnest(@ids, @keks, @wrapped) as t(c, k, w) on conflict do nothing");
        insert.Parameters.Add(new NpgsqlParameter<string[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = ids });
        insert.Parameters.Add(new NpgsqlParameter<string[]>("keks", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = wrapped.Select(w => w.KekId).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter<byte[][]>("wrapped", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { TypedValue = wrapped.Select(w => w.Sealed).ToArray() });
        var select = new NpgsqlBatchCommand($"select customer_id, kek_id, wrapped_key from {Table} where customer_id = any(@ids)");
        select.Parameters.Add(new NpgsqlParameter<string[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = ids });
        batch.BatchCommands.Add(insert);
        batch.BatchCommands.Add(select);
        await ReadKeysAsync(batch, stored, cancellation);
        return stored;
    }

    public async Task DestroyKeyAsync(string customerId, CancellationToken cancellation)
    {
        await using (var destroy = dataSource.CreateCommand(
                         $"""
                          insert into {Table} (customer_id, kek_id, wrapped_key, destroyed_at) values (@id, null, null, now())
                          on conflict (customer_id) do update set kek_id = null, wrapped_key = null, destroyed_at = coalesce({Table}.destroyed_at, now())
                          """))
        {
            destroy.Parameters.AddWithValue("id", customerId);
            await destroy.ExecuteNonQueryAsync(cancellation);
        }

        // The old row version still holds the wrapped key until vacuumed; do not wait for autovacuum.
        await using var vacuum = dataSource.CreateCommand($"vacuum {Table}");
        await vacuum.ExecuteNonQueryAsync(cancellation);
    }

    /// <summary>How many live keys each KEK wraps (a rotation's progress).</summary>
    public async Task<IReadOnlyDictionary<string, long>> CountByKekAsync(CancellationToken cancellation)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var count = dataSource.CreateCommand($"select kek_id, count(*) from {Table} where wrapped_key is not null group by kek_id");
        await using var reader = await count.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        return counts;
    }

    /// <summary>
    /// Re-wraps up to one batch of keys not wrapped by the current KEK; answers how many. Rows are locked while they are
    /// re-wrapped, so an erasure running at the same time waits and then wins. No event is touched.
    /// </summary>
    public async Task<int> RewrapBatchAsync(CancellationToken cancellation)
    {
        var current = keks.CurrentId;
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        var rows = new List<(string CustomerId, WrappedKey Wrapped)>();
        await using (var read = new NpgsqlCommand(
                         $"select customer_id, kek_id, wrapped_key from {Table} where wrapped_key is not null and kek_id <> $1 order by customer_id limit {BatchSize} for update skip locked",
                         connection, transaction) { Parameters = { new() { Value = current } } })
        await using (var reader = await read.ExecuteReaderAsync(cancellation))
        {
            while (await reader.ReadAsync(cancellation))
            {
                rows.Add((reader.GetString(0), new WrappedKey(reader.GetString(1), (byte[])reader[2])));
            }
        }

        if (rows.Count == 0)
        {
            return 0;
        }

        var rewrapped = rows.Select(r => keks.Wrap(r.CustomerId, keks.Unwrap(r.CustomerId, r.Wrapped))).ToArray();
        await using var update = new NpgsqlCommand(
            $"update {Table} t set kek_id = u.k, wrapped_key = u.w from unnest(@ids, @keks, @wrapped) as u(c, k, w) where t.customer_id = u.c",
            connection, transaction);
        update.Parameters.Add(new NpgsqlParameter<string[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = rows.Select(r => r.CustomerId).ToArray() });
        update.Parameters.Add(new NpgsqlParameter<string[]>("keks", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = rewrapped.Select(w => w.KekId).ToArray() });
        update.Parameters.Add(new NpgsqlParameter<byte[][]>("wrapped", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { TypedValue = rewrapped.Select(w => w.Sealed).ToArray() });
        await update.ExecuteNonQueryAsync(cancellation);
        await transaction.CommitAsync(cancellation);
        return rows.Count;
    }

    /// <summary>After a rotation: the table rewritten without the old row versions (which hold keys wrapped by the old KEK).</summary>
    public async Task CompactAsync(CancellationToken cancellation)
    {
        await using var vacuum = dataSource.CreateCommand($"vacuum full {Table}");
        await vacuum.ExecuteNonQueryAsync(cancellation);
    }

    private async Task ReadKeysAsync(NpgsqlCommand command, Dictionary<string, byte[]?> keys, CancellationToken cancellation)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        await ReadKeysAsync(reader, keys, cancellation);
    }

    private async Task ReadKeysAsync(NpgsqlBatch batch, Dictionary<string, byte[]?> keys, CancellationToken cancellation)
    {
        await using var reader = await batch.ExecuteReaderAsync(cancellation);
        await ReadKeysAsync(reader, keys, cancellation);
    }

    private async Task ReadKeysAsync(NpgsqlDataReader reader, Dictionary<string, byte[]?> keys, CancellationToken cancellation)
    {
        while (await reader.ReadAsync(cancellation))
        {
            var customerId = reader.GetString(0);
            keys[customerId] = reader.IsDBNull(2) ? null : keks.Unwrap(customerId, new WrappedKey(reader.GetString(1), (byte[])reader[2]));
        }
    }

    private static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellation);
    }
}
