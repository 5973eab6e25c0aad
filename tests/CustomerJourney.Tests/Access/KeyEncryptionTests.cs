using System.Security.Cryptography;
using CustomerJourney.Access;
using CustomerJourney.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace CustomerJourney.Tests.Access;

/// <summary>The key hierarchy: KEKs from outside the database, raw keys migrated in place, rotation that can be resumed.</summary>
public sealed class KeyEncryptionTests : IAsyncLifetime
{
    private static readonly CancellationToken Cancellation = TestContext.Current.CancellationToken;
    private readonly string _schema = $"keys_{Guid.NewGuid():N}"[..21];
    private readonly string _directory = Directory.CreateTempSubdirectory("cj-kek-").FullName;
    private readonly NpgsqlDataSource _db = NpgsqlDataSource.Create(AppFixture.ConnectionString);

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await using (var drop = _db.CreateCommand($"drop schema if exists {_schema} cascade"))
        {
            await drop.ExecuteNonQueryAsync(CancellationToken.None);
        }

        await _db.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Theory]
    [InlineData(null, "No key-encryption key is configured")]
    [InlineData("c2hvcnQ=", "shorter than 32 bytes")]
    [InlineData("not base64!", "not base64")]
    [InlineData(KeyEncryptionOptions.DevelopmentKey, "documented Development key")]
    public void Outside_development_a_missing_short_malformed_or_public_key_encryption_key_refuses_to_start(string? key, string message)
    {
        var refused = Assert.Throws<InvalidOperationException>(() => new KeyEncryptionKeyRing(new KeyEncryptionOptions { Key = key }, false, TimeProvider.System));
        Assert.Contains(message, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_public_key_file_is_refused_too_and_development_alone_falls_back_to_the_documented_key()
    {
        File.WriteAllText(Path.Combine(_directory, "kek-1.kek"), KeyEncryptionOptions.DevelopmentKey);
        Assert.Throws<InvalidOperationException>(() => new KeyEncryptionKeyRing(new KeyEncryptionOptions { Directory = _directory }, false, TimeProvider.System));

        var development = new KeyEncryptionKeyRing(new KeyEncryptionOptions(), true, TimeProvider.System);
        var key = RandomNumberGenerator.GetBytes(32);
        Assert.Equal(key, development.Unwrap("c-1", development.Wrap("c-1", key)));
    }

    [Fact]
    public void A_wrapped_key_opens_only_for_its_own_customer()
    {
        var ring = new KeyEncryptionKeyRing(new KeyEncryptionOptions { Key = NewKek() }, false, TimeProvider.System);
        var wrapped = ring.Wrap("c-1", RandomNumberGenerator.GetBytes(32));

        Assert.ThrowsAny<CryptographicException>(() => ring.Unwrap("c-2", wrapped));
    }

    [Fact]
    public async Task Raw_keys_from_before_envelope_encryption_are_wrapped_in_place_and_their_statistics_go_with_the_column()
    {
        var raw = Enumerable.Range(0, 20).ToDictionary(i => $"c-{i:00}", _ => RandomNumberGenerator.GetBytes(32));
        await Sql($"""
                  create schema {_schema};
                  create table {_schema}.customer_keys (customer_id text primary key, key bytea, created_at timestamptz not null default now(), destroyed_at timestamptz);
                  insert into {_schema}.customer_keys (customer_id, key, destroyed_at) values ('erased', null, now());
                  """);
        foreach (var (customer, key) in raw)
        {
            await Sql($"insert into {_schema}.customer_keys (customer_id, key) values ('{customer}', '\\x{Convert.ToHexStringLower(key)}')");
        }

        await Sql($"analyze {_schema}.customer_keys");
        // The defect: the planner's statistics hold the raw keys, out of any erasure's reach.
        Assert.True(await StatisticsMention(raw.Values.First()) || await StatisticsMention(raw.Values.Last()));

        var ring = new KeyEncryptionKeyRing(new KeyEncryptionOptions { Key = NewKek() }, false, TimeProvider.System);
        var store = new PostgresKeyStore(_db, _schema, ring, NullLogger<PostgresKeyStore>.Instance);
        await store.EnsureCreatedAsync(Cancellation);
        await Sql($"analyze {_schema}.customer_keys");

        var keys = await store.GetKeysAsync([.. raw.Keys, "erased"], Cancellation);
        Assert.All(raw, r => Assert.Equal(r.Value, keys[r.Key]));
        Assert.Null(keys["erased"]);
        Assert.False(await ColumnExists("key"));
        foreach (var key in raw.Values)
        {
            Assert.False(await StatisticsMention(key));
            Assert.Equal(0L, await Scalar<long>($"select count(*) from {_schema}.customer_keys t where strpos(t::text, '{Convert.ToHexStringLower(key)}') > 0"));
        }

        Assert.Equal(0L, await Scalar<long>($"select count(*) from pg_stats where schemaname = '{_schema}' and attname = 'wrapped_key'"));
    }

    [Fact]
    public async Task A_rotation_stopped_half_way_carries_on_rewraps_every_key_and_destroys_the_old_key_encryption_key()
    {
        await File.WriteAllTextAsync(Path.Combine(_directory, "kek-00000001.kek"), NewKek(), Cancellation);
        var ring = new KeyEncryptionKeyRing(new KeyEncryptionOptions { Directory = _directory }, false, TimeProvider.System);
        var store = new PostgresKeyStore(_db, _schema, ring, NullLogger<PostgresKeyStore>.Instance);
        await store.EnsureCreatedAsync(Cancellation);
        var keys = Enumerable.Range(0, 2500).ToDictionary(i => $"c-{i:0000}", _ => RandomNumberGenerator.GetBytes(32));
        await store.AddKeysAsync(keys, Cancellation);
        await store.DestroyKeyAsync("c-0000", Cancellation);

        // The first run made the new KEK and re-wrapped one batch before it was stopped.
        var target = ring.CreateKey();
        Assert.Equal(1000, await store.RewrapBatchAsync(Cancellation));
        var progress = new StringWriter();
        await KeyEncryptionKeyRotation.RunAsync(store, ring, TimeSpan.Zero, progress, Cancellation);

        Assert.Contains($"Resuming the rotation to {target}", progress.ToString(), StringComparison.Ordinal);
        Assert.Equal(target, Path.GetFileNameWithoutExtension(Assert.Single(Directory.GetFiles(_directory))));
        Assert.Equal(new Dictionary<string, long> { [target] = 2499 }, await store.CountByKekAsync(Cancellation));
        var reread = await new PostgresKeyStore(_db, _schema, new KeyEncryptionKeyRing(new KeyEncryptionOptions { Directory = _directory }, false, TimeProvider.System),
            NullLogger<PostgresKeyStore>.Instance).GetKeysAsync(keys.Keys, Cancellation);
        Assert.Null(reread["c-0000"]);
        Assert.All(keys.Skip(1), k => Assert.Equal(k.Value, reread[k.Key]));
    }

    private static string NewKek() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private async Task<bool> StatisticsMention(byte[] key) =>
        await Scalar<long>($"select count(*) from pg_stats where schemaname = '{_schema}' and strpos(pg_stats::text, '{Convert.ToHexStringLower(key)}') > 0") > 0;

    private async Task<bool> ColumnExists(string column) =>
        await Scalar<long>($"select count(*) from information_schema.columns where table_schema = '{_schema}' and column_name = '{column}'") > 0;

    private async Task Sql(string sql)
    {
        await using var command = _db.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(Cancellation);
    }

    private async Task<T> Scalar<T>(string sql)
    {
        await using var command = _db.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync(Cancellation))!;
    }
}
