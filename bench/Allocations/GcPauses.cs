using System.Globalization;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Analysis;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

/// <summary>
/// How long the garbage collector stopped the service's threads: every collection in the trace with its generation, kind
/// (blocking, background) and why it ran, then the pauses summed by generation and the longest ones. A request that meets
/// a pause waits it out, so the longest pauses bound what a read's tail can owe to the collector.
/// </summary>
internal static class GcPauses
{
    public static int Summarise(string trace, int top)
    {
        using var source = new EventPipeEventSource(trace);
        source.NeedLoadedDotNetRuntimes();
        source.Process();
        var collections = source.Processes().SelectMany(p => p.LoadedDotNetRuntime()?.GC.GCs ?? []).Where(c => c.PauseDurationMSec > 0 || c.Type == GCType.BackgroundGC).ToList();
        if (collections.Count == 0)
        {
            Console.WriteLine("No collections in the trace (take it with --profile gc-verbose or gc-collect).");
            return 1;
        }

        var span = (collections.Max(c => c.StartRelativeMSec) - collections.Min(c => c.StartRelativeMSec)) / 1000;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{collections.Count} collections over {span:F1} s; paused {collections.Sum(c => c.PauseDurationMSec):F0} ms in all"));
        foreach (var generation in collections.GroupBy(c => (c.Generation, c.Type)).OrderBy(g => g.Key.Generation))
        {
            var pauses = generation.Select(c => c.PauseDurationMSec).Order().ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  gen{generation.Key.Generation} {generation.Key.Type}: {pauses.Count}, paused {pauses.Sum():F0} ms, median {pauses[pauses.Count / 2]:F1} ms, max {pauses[^1]:F1} ms; " +
                $"reasons {string.Join(", ", generation.GroupBy(c => c.Reason).Select(r => $"{r.Key} {r.Count()}"))}"));
        }

        Console.WriteLine("Longest pauses:");
        foreach (var c in collections.OrderByDescending(c => c.PauseDurationMSec).Take(top))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {c.PauseDurationMSec,7:F1} ms  gen{c.Generation} {c.Type} ({c.Reason}) at {c.StartRelativeMSec / 1000:F2} s, promoted {c.PromotedMB:F1} MB, heap after {c.HeapSizeAfterMB:F0} MB"));
        }

        return 0;
    }
}
