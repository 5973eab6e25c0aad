using CustomerJourney.Infrastructure;

namespace Load;

/// <summary>
/// What a timed phase shared the machine with: the service's collections (each one stops every thread, a request's
/// included) and every core's busy time, split into the service, PostgreSQL, the load client and other processes. The
/// profile printed beside a latency target, so a run that misses it says what its requests waited behind.
/// </summary>
public sealed record Waits(double Seconds, CpuSnapshot Used, RuntimeFigures Before, RuntimeFigures After)
{
    /// <summary>Starts measuring; the function it answers ends the phase and gives what it shared the machine with.</summary>
    public static async Task<Func<Task<Waits>>> StartAsync(Service service)
    {
        var (runtime, cpu, clock) = (await service.RuntimeAsync(), CpuSnapshot.Take(service), System.Diagnostics.Stopwatch.StartNew());
        return async () => new Waits(clock.Elapsed.TotalSeconds, CpuSnapshot.Take(service) - cpu, runtime, await service.RuntimeAsync());
    }

    /// <summary>The time the collector stopped the service, per second of the phase (the row's value, ms/s).</summary>
    public double StoppedPerSecond => Math.Round((After.GcPauseSeconds - Before.GcPauseSeconds) * 1000 / Seconds, 1);

    /// <summary>The collections and the cores' work behind <see cref="StoppedPerSecond"/>, for the row's label.</summary>
    public string Describe()
    {
        var (gen0, gen1, gen2) = (After.Gen0Collections - Before.Gen0Collections, After.Gen1Collections - Before.Gen1Collections,
            After.Gen2Collections - Before.Gen2Collections);
        // CollectionCount(0) counts every collection (a gen1 or gen2 collects gen0 too).
        var mean = gen0 == 0 ? 0 : (After.GcPauseSeconds - Before.GcPauseSeconds) * 1000 / gen0;
        var cores = Environment.ProcessorCount;
        var busy = Math.Min(100, Used.Machine / (cores * Seconds) * 100);
        return $"the service's collector: time stopped per second ({gen0:N0} collections, {gen1:N0} of them gen1 or gen2 " +
               $"and {gen2:N0} gen2, {mean:F1} ms each on average; {(After.AllocatedBytes - Before.AllocatedBytes) / Seconds / 1024 / 1024:N1} MiB/s allocated) " +
               $"and the {cores} cores busy {busy:F0} % of the {Seconds:F0} s (service {Used.Service:F1} CPU-s, PostgreSQL {Used.Postgres:F1}, load client {Used.Client:F1}, " +
               $"other processes {Used.Others:F1})";
    }
}
