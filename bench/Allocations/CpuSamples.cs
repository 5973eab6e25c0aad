using Microsoft.Diagnostics.Tracing.Etlx;

/// <summary>
/// Where the service's threads spend their time in managed code: EventPipe's sample profiler stops every managed thread
/// about 100 times a second and says whether it was in managed code; only those samples count (native code such as
/// OpenSSL's, and threads parked outside managed code, do not). A thread blocked in a managed wait still counts (the
/// thread pool's semaphore tops the list), so the inclusive shares of the service's own methods are the figure to read.
/// </summary>
internal static class CpuSamples
{
    public static int Summarise(string trace, int top, IReadOnlyList<string> libraries)
    {
        var running = new Dictionary<string, long>(StringComparer.Ordinal);
        var inclusive = new Dictionary<string, long>(StringComparer.Ordinal);
        var reachedFrom = new Dictionary<string, long>(StringComparer.Ordinal);
        var total = 0L;
        using (var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(trace)))
        {
            foreach (var traced in log.Events)
            {
                // The sample's one payload field: 1 when the thread was outside managed code, 2 when it ran managed code.
                if (traced.ProviderName != "Microsoft-DotNETCore-SampleProfiler" || traced.EventDataLength < 4 ||
                    BitConverter.ToInt32(traced.EventData(), 0) != 2)
                {
                    continue;
                }

                total++;
                var seen = new HashSet<string>(StringComparer.Ordinal);
                var innermost = true;
                string? runningName = null;
                for (var frame = traced.CallStack(); frame is not null; frame = frame.Caller)
                {
                    var method = frame.CodeAddress.FullMethodName;
                    if (string.IsNullOrEmpty(method))
                    {
                        continue;
                    }

                    var name = Name(method);
                    if (innermost)
                    {
                        running[name] = running.GetValueOrDefault(name) + 1;
                        runningName = name;
                        innermost = false;
                    }

                    if (libraries.Any(l => method.StartsWith(l, StringComparison.Ordinal)) && seen.Add(name))
                    {
                        inclusive[name] = inclusive.GetValueOrDefault(name) + 1;
                        if (seen.Count == 1)
                        {
                            // The runtime's frames (a lock's slow path, a socket send) say little without the code that got there.
                            var key = $"{runningName} <- {name}";
                            reachedFrom[key] = reachedFrom.GetValueOrDefault(key) + 1;
                        }
                    }
                }
            }
        }

        Console.WriteLine($"{total} samples running managed code");
        Console.WriteLine("Running (exclusive):");
        foreach (var (method, samples) in running.OrderByDescending(s => s.Value).Take(top))
        {
            Console.WriteLine($"{100.0 * samples / Math.Max(1, total),6:F1} %  {method}");
        }

        Console.WriteLine("Running, with the innermost frame of the service or its libraries that led there:");
        foreach (var (path, samples) in reachedFrom.OrderByDescending(s => s.Value).Take(top))
        {
            Console.WriteLine($"{100.0 * samples / Math.Max(1, total),6:F1} %  {path}");
        }

        Console.WriteLine("On the stack (inclusive), the service and its libraries:");
        foreach (var (method, samples) in inclusive.OrderByDescending(s => s.Value).Take(top))
        {
            Console.WriteLine($"{100.0 * samples / Math.Max(1, total),6:F1} %  {method}");
        }

        return 0;
    }

    private static string Name(string method) => method.IndexOf('(', StringComparison.Ordinal) is > 0 and var open ? method[..open] : method;
}
