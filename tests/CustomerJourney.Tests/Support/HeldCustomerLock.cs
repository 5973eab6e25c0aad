using CustomerJourney.Infrastructure;
using Npgsql;

namespace CustomerJourney.Tests.Support;

/// <summary>
/// Another writer holding one customer's lock, the transaction-scoped advisory lock every writer of customer streams takes
/// (<see cref="CustomerLocks"/>), on a connection of its own until it lets go (or is disposed).
/// </summary>
public sealed class HeldCustomerLock : IAsyncDisposable
{
    private static readonly string Key = CustomerLocks.KeyOf("@customer");

    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private readonly string _customer;

    private HeldCustomerLock(NpgsqlConnection connection, NpgsqlTransaction transaction, string customer) =>
        (_connection, _transaction, _customer) = (connection, transaction, customer);

    public static async Task<HeldCustomerLock> TakeAsync(string customer, CancellationToken cancellation)
    {
        var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(cancellation);
        var transaction = await connection.BeginTransactionAsync(cancellation);
        await using (var take = new NpgsqlCommand($"select pg_advisory_xact_lock({Key})", connection, transaction))
        {
            take.Parameters.AddWithValue("customer", customer);
            await take.ExecuteNonQueryAsync(cancellation);
        }

        return new HeldCustomerLock(connection, transaction, customer);
    }

    /// <summary>How many transactions are waiting for this customer's lock now.</summary>
    public async Task<long> WaitingAsync(CancellationToken cancellation)
    {
        await using var watcher = new NpgsqlConnection(AppFixture.ConnectionString);
        await watcher.OpenAsync(cancellation);
        await using var waiting = new NpgsqlCommand(
            $"select count(*) from pg_locks where locktype = 'advisory' and not granted and ((classid::bigint << 32) | objid::bigint) = {Key}", watcher);
        waiting.Parameters.AddWithValue("customer", _customer);
        return (long)(await waiting.ExecuteScalarAsync(cancellation))!;
    }

    public Task LetGoAsync(CancellationToken cancellation) => _transaction.CommitAsync(cancellation);

    public async ValueTask DisposeAsync()
    {
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
