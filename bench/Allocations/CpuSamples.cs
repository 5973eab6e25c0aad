using Microsoft.Diagnostics.Tracing.Etlx;

/// <summary>
/// Where the service's managed CPU goes: EventPipe's sample profiler stops every managed thread each millisecond and says
/// whether it was running managed code; only those samples count (waiting, and native code such as OpenSSL's, do not).
/// </summary>
internal static class CpuSamples
{
    public static int Summarise(string trace, int top, IReadOnlyList<string> libraries)
    {
        var running = new Dictionary<string, long>(StringComparer.Ordinal);
        var inclusive = new Dictionary<string, long>(StringComparer.Ordinal);
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

                var sample = traced;

                total++;
                var seen = new HashSet<string>(StringComparer.Ordinal);
                var innermost = true;
                for (var frame = sample.CallStack(); frame is not null; frame = frame.Caller)
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
                        innermost = false;
                    }

                    if (libraries.Any(l => method.StartsWith(l, StringComparison.Ordinal)) && seen.Add(name))
                    {
                        inclusive[name] = inclusive.GetValueOrDefault(name) + 1;
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

        Console.WriteLine("On the stack (inclusive), the service and its libraries:");
        foreach (var (method, samples) in inclusive.OrderByDescending(s => s.Value).Take(top))
        {
            Console.WriteLine($"{100.0 * samples / Math.Max(1, total),6:F1} %  {method}");
        }

        return 0;
    }

    private static string Name(string method) => method.IndexOf('(', StringComparison.Ordinal) is > 0 and var open ? method[..open] : method;
}
