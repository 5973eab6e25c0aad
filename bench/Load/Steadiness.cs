namespace Load;

/// <summary>
/// How a baseline's cores spent the time they did not work: waiting on the disk (iowait) or taken by the hypervisor
/// (steal). A baseline measured while the cores waited runs slower than this machine does, and every figure held to it
/// looks better than it is: in a run at 22:19 on 2026-12-07 the raw transaction ran at 1,884 per second (4,406 in the
/// next run) with PostgreSQL busy for 18.5 of the phase's 40 CPU-s, and the single posts' 0.70x against it read as met.
/// So a target met against a baseline that waited more than <see cref="Limit"/> of its cores' time, or ran
/// with the disks busy more than <see cref="DiskLimit"/> of it, is printed "not counted", with the reason; a target missed
/// stays missed (a steadier baseline only raises the bar).
/// </summary>
public sealed record Steadiness(string Baseline, double Seconds, CpuSnapshot Used)
{
    /// <summary>The share of the cores' time a steady baseline may spend waiting (calibrated in bench/README.md, twenty-fourth round).</summary>
    public const double Limit = 0.10;

    /// <summary>Runs a baseline with its CPU, the cores' waits, the disks and its wall time measured.</summary>
    public static async Task<(T Result, Steadiness Steady)> MeasureAsync<T>(string baseline, Service service, Func<Task<T>> run)
    {
        var (before, clock) = (CpuSnapshot.Take(service), System.Diagnostics.Stopwatch.StartNew());
        var result = await run();
        return (result, new Steadiness(baseline, clock.Elapsed.TotalSeconds, CpuSnapshot.Take(service) - before));
    }

    private double CoreSeconds => Environment.ProcessorCount * Seconds;

    public double IoWaitShare => Seconds > 0 ? Used.IoWait / CoreSeconds : 0;

    public double StealShare => Seconds > 0 ? Used.Steal / CoreSeconds : 0;

    /// <summary>
    /// The share of its time the disks (summed) may be busy (calibrated in bench/README.md, twenty-fourth round: a steady
    /// raw transaction keeps them 17 to 22 % busy with its own commits; with a neighbour writing to the same disk the
    /// baselines saw 43 to 73 %). A commit waits on the disk even while the cores stay busy with the other connections:
    /// the raw transaction's p99 went from 18.6 to 43.2 ms under such a neighbour, with the cores waiting 5 % of their time.
    /// </summary>
    public const double DiskLimit = 0.35;

    public double DiskBusyShare => Seconds > 0 && Used.Disk is { } disk ? disk.BusyMs / 1000 / Seconds : 0;

    /// <summary>Why the figures held to this baseline are not counted, or null when it was steady.</summary>
    public string? Disturbed => IoWaitShare + StealShare > Limit || DiskBusyShare > DiskLimit
        ? $"not counted: its baseline ({Baseline}) waited {(IoWaitShare + StealShare) * 100:F0} % of the cores' time (iowait {IoWaitShare * 100:F0} %, steal {StealShare * 100:F0} %) " +
          $"with the disk busy {DiskBusyShare * 100:F0} % of it; a steady one waits under {Limit * 100:F0} % with the disk under {DiskLimit * 100:F0} % busy"
        : null;

    /// <summary>
    /// For the notes under the table: every baseline's waits, steady or not, and the CPU other processes took meanwhile
    /// (busy cores to the check, which does not judge it: printed so that a reader can).
    /// </summary>
    public string Describe() =>
        $"{Baseline} ({Seconds:F1} s): cores busy {Math.Min(100, Used.Machine / CoreSeconds * 100):F0} % (other processes {Used.Others:F1} CPU-s), " +
        $"iowait {IoWaitShare * 100:F1} %, steal {StealShare * 100:F1} %" +
        (Used.Disk is { } disk
            ? $", disk busy {DiskBusyShare * 100:F0} %, {disk.Writes / Seconds:N0} writes/s of {disk.MeanWriteMs:F2} ms, {disk.Flushes / Seconds:N0} flushes/s of {disk.MeanFlushMs:F2} ms"
            : "") +
        (Disturbed is null ? "" : ", DISTURBED");
}
