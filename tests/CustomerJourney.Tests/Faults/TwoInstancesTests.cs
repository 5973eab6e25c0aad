using System.Collections.Concurrent;
using CustomerJourney.Tests.Support;
using Npgsql;

namespace CustomerJourney.Tests.Faults;

/// <summary>
/// Two service processes on one database and schema (HotCold daemon, balanced durability): the async projections
/// run on exactly one of them at any moment, move to the other when it is killed, and end equal to a rebuild.
/// </summary>
public sealed class TwoInstancesTests
{
    /// <summary>
    /// The daemon's shard locks (Marten's HotCold takes one advisory lock per async shard), as "lock holder" rows, held by
    /// connections of these instances (Wolverine's own locks use connections of their own name).
    /// </summary>
    private static async Task<List<(string Lock, string Holder)>> ShardLocks(NpgsqlConnection connection, string[] instances) =>
        (await Invariants.Rows(connection,
            "select l.objid::text || ' ' || a.application_name from pg_locks l join pg_stat_activity a on a.pid = l.pid " +
            $"where l.locktype = 'advisory' and l.granted and a.application_name in ('{string.Join("', '", instances)}')"))
        .Select(row => (row.Split(' ')[0], row.Split(' ')[1])).ToList();

    [Fact]
    public async Task Async_projections_run_on_one_instance_at_a_time_and_move_to_the_other_when_it_is_killed()
    {
        var schema = $"twin_{DateTime.UtcNow:yyyyMMddHHmmss}_{Guid.NewGuid().ToString("N")[..6]}";
        var names = new[] { $"cj-a-{schema}", $"cj-b-{schema}" };
        var instances = names.Select(n => new ServiceProcess($"{AppFixture.ConnectionString};Application Name={n}", schema)).ToArray();
        var acknowledged = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        try
        {
            await instances[0].StartAsync(FaultTests.Source);
            await instances[1].StartAsync(FaultTests.Source);

            // Both take writes for the same customers while the lock is sampled.
            var samples = new ConcurrentBag<int>();
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(8));
            var writers = instances.Select((instance, w) => Task.Run(async () =>
            {
                for (var b = 0; !stop.IsCancellationRequested; b++)
                {
                    var ids = Enumerable.Range(0, 100).Select(i => $"tw-{w}-{b}-{i}").ToList();
                    var (status, body, _) = await instance.PostAsync("/api/touchpoints/batch", "[" + string.Join(",", ids.Select((id, i) => FaultTests.Item($"t-{i % 40}", id))) + "]");
                    Assert.True(status == 200, body);
                    ids.ForEach(id => acknowledged[id] = true);
                }
            }, TestContext.Current.CancellationToken)).ToList();
            while (!stop.IsCancellationRequested)
            {
                // The most holders any one shard lock has right now.
                samples.Add((await ShardLocks(connection, names)).GroupBy(l => l.Lock).Select(g => g.Count()).DefaultIfEmpty(0).Max());
                // The sampling cadence, not a wait for something: the lock holders are read every 100 ms under load.
                await Task.Delay(100, TestContext.Current.CancellationToken);
            }

            await Task.WhenAll(writers);
            Assert.True(samples.All(s => s <= 1), $"a shard lock was held by {samples.Max()} backends at once");
            Assert.Contains(1, samples);
            // One async shard (the customer projections: summaries and purchase histories together), led by one instance.
            await Waiting.Until(async () => (await ShardLocks(connection, names)).Count == 1, TimeSpan.FromSeconds(30), "the async shard to be led");
            var leader = Array.IndexOf(names, (await ShardLocks(connection, names))[0].Holder);
            await Invariants.CaughtUp(connection, schema);

            // That leader dies without a word; the other takes every shard over and catches up with new writes.
            await instances[leader].KillAsync();
            var survivor = instances[1 - leader];
            await Waiting.Until(async () => (await ShardLocks(connection, names)) is { Count: 1 } locks && locks.All(l => l.Holder == names[1 - leader]),
                TimeSpan.FromSeconds(60), "the surviving instance to take the shard over");
            var late = Enumerable.Range(0, 300).Select(i => $"tw-late-{i}").ToList();
            var (lateStatus, lateBody, _) = await survivor.PostAsync("/api/touchpoints/batch", "[" + string.Join(",", late.Select((id, i) => FaultTests.Item($"t-{i % 40}", id))) + "]");
            Assert.True(lateStatus == 200, lateBody);
            late.ForEach(id => acknowledged[id] = true);

            await Invariants.AssertAsync(survivor, AppFixture.ConnectionString, schema, FaultTests.Source, acknowledged.Keys.ToHashSet(StringComparer.Ordinal), acknowledged.Count);
        }
        finally
        {
            foreach (var instance in instances)
            {
                await instance.DisposeAsync();
            }

            await FaultTests.Drop(AppFixture.ConnectionString, schema);
        }
    }
}
