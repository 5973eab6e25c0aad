using System.Collections.Concurrent;
using System.Globalization;

namespace CustomerJourney.Tests.Faults;

/// <summary>
/// Faults that need root: the database's port dropped by iptables for 30 s, and PostgreSQL's disk filled up. Not in
/// the default suite (scripts/test leaves the trait out); tests/faults/run-root-faults runs them, and they skip with a
/// message when not root. Each ends with the invariant check.
/// </summary>
[Trait("Category", "RootFaults")]
public sealed class RootFaultTests
{
    private static void RequireRoot()
    {
        if (Environment.UserName != "root")
        {
            Assert.Skip("needs root (iptables, mount): run tests/faults/run-root-faults as root");
        }
    }

    /// <summary>Writers that retry every request until it is acknowledged, for a while; the ids they got stored.</summary>
    private static (Task Done, ConcurrentDictionary<string, bool> Acknowledged, ConcurrentBag<int> Statuses) Writers(ServiceProcess service, string prefix,
        int count, CancellationToken stop)
    {
        var acknowledged = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        var statuses = new ConcurrentBag<int>();
        var done = Task.WhenAll(Enumerable.Range(0, count).Select(w => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var id = $"{prefix}-{w}-{n}";
                await FaultTests.UntilAcknowledged(service, $"/api/customers/{FaultTests.CustomerOf(id)}/touchpoints", FaultTests.Item(null, id), statuses);
                acknowledged[id] = true;
            }
        }, CancellationToken.None)));
        return (done, acknowledged, statuses);
    }

    private static string Outcomes(IEnumerable<int> statuses) =>
        string.Join(", ", statuses.GroupBy(s => s).OrderBy(g => g.Key).Select(g => $"{(g.Key == 0 ? "no answer" : g.Key.ToString(CultureInfo.InvariantCulture))}: {g.Count()}"));

    [Fact]
    public async Task The_database_port_dropped_for_30_seconds_every_request_retried_is_stored_once_and_nothing_acknowledged_is_lost()
    {
        RequireRoot();
        await using var cluster = await TemporaryCluster.CreateAsync();
        var service = new ServiceProcess(cluster.ConnectionString, "journey");
        var port = cluster.Port.ToString(CultureInfo.InvariantCulture);
        string[][] rules = [["INPUT", "-i", "lo", "-p", "tcp", "--dport", port, "-j", "DROP"], ["INPUT", "-i", "lo", "-p", "tcp", "--sport", port, "-j", "DROP"]];
        try
        {
            await service.StartAsync(FaultTests.Source);
            using var stop = new CancellationTokenSource();
            var (done, acknowledged, statuses) = Writers(service, "drop", 3, stop.Token);
            await Support.Waiting.Until(() => acknowledged.Count >= 50, TimeSpan.FromSeconds(20), "50 acknowledged writes");
            foreach (var rule in rules)
            {
                await TemporaryCluster.Run("iptables", ["-I", .. rule]);
            }

            var before = acknowledged.Count;
            // The fault itself lasts 30 s: the writers go on retrying meanwhile.
            await Task.Delay(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            var during = statuses.ToList();
            foreach (var rule in rules)
            {
                await TemporaryCluster.Run("iptables", ["-D", .. rule]);
            }

            rules = [];
            // Writing again after the cut, then stop and let every writer finish its retries.
            await Support.Waiting.Until(() => acknowledged.Count >= before + 50, TimeSpan.FromSeconds(90), "writes acknowledged again after the cut");
            await stop.CancelAsync();
            await done;

            Assert.True(during.Any(s => s is 0 or 503), "nothing failed while the port was dropped: " + Outcomes(during));
            Assert.True(statuses.All(s => s is 0 or 200 or 201 or 503), Outcomes(statuses));
            await Invariants.AssertAsync(service, cluster.ConnectionString, "journey", FaultTests.Source, acknowledged.Keys.ToHashSet(StringComparer.Ordinal), acknowledged.Count);
        }
        finally
        {
            try
            {
                foreach (var rule in rules)
                {
                    await TemporaryCluster.Run("iptables", ["-D", .. rule]);
                }
            }
            finally
            {
                // Also when iptables itself failed (or is missing): the service process must not outlive the test.
                await service.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task PostgreSQL_on_a_full_disk_answers_503_and_after_space_returns_nothing_acknowledged_is_lost()
    {
        RequireRoot();
        var mount = Path.Combine(Path.GetTempPath(), $"cj-tmpfs-{Guid.NewGuid():N}");
        Directory.CreateDirectory(mount);
        await TemporaryCluster.Run("mount", "-t", "tmpfs", "-o", "size=160m,mode=0777", "tmpfs", mount);
        var filler = Path.Combine(mount, "filler");
        var service = (ServiceProcess?)null;
        try
        {
            await using var cluster = await TemporaryCluster.CreateAsync(mount);
            service = new ServiceProcess(cluster.ConnectionString, "journey");
            await service.StartAsync(FaultTests.Source);
            using var stop = new CancellationTokenSource();
            var (done, acknowledged, statuses) = Writers(service, "disk", 3, stop.Token);
            await Support.Waiting.Until(() => acknowledged.Count >= 50, TimeSpan.FromSeconds(20), "50 acknowledged writes");

            // Leave almost nothing: the next WAL segment or table page cannot be written.
            var free = new DriveInfo(mount).AvailableFreeSpace;
            await TemporaryCluster.Run("fallocate", "-l", (free - (2L << 20)).ToString(CultureInfo.InvariantCulture), filler);
            await Support.Waiting.Until(() => statuses.Count(s => s is 0 or 503) >= 20, TimeSpan.FromSeconds(120), "refusals while the disk is full");
            var refusals = statuses.ToList();

            // Space returns; PostgreSQL may have stopped itself (a WAL write that cannot be done is a PANIC): start it.
            File.Delete(filler);
            try
            {
                await cluster.StartAsync();
            }
            catch (InvalidOperationException)
            {
                // Still running: it only refused statements.
            }

            var before = acknowledged.Count;
            await Support.Waiting.Until(() => acknowledged.Count >= before + 50, TimeSpan.FromSeconds(120), "writes acknowledged again once space returned");
            await stop.CancelAsync();
            await done;

            Assert.True(refusals.Any(s => s == 503), "no 503 while the disk was full: " + Outcomes(refusals));
            Assert.True(statuses.All(s => s is 0 or 200 or 201 or 503), Outcomes(statuses));
            await Invariants.AssertAsync(service, cluster.ConnectionString, "journey", FaultTests.Source, acknowledged.Keys.ToHashSet(StringComparer.Ordinal), acknowledged.Count);
        }
        finally
        {
            if (service is not null)
            {
                await service.DisposeAsync();
            }

            await TemporaryCluster.Run("umount", "-l", mount);
            Directory.Delete(mount);
        }
    }
}
