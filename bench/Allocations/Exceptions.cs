using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

/// <summary>
/// What the service threw: every first-chance exception of a trace taken with the runtime's exception events
/// (<c>--providers Microsoft-Windows-DotNETRuntime:0x8000:4</c>), counted by type, message and the innermost frame of the
/// service or a library it calls. A caught exception costs a stack walk; thousands a second are a profile of their own.
/// </summary>
internal static class Exceptions
{
    public static int Summarise(string trace, int top, IReadOnlyList<string> libraries)
    {
        var sites = new Dictionary<string, int>(StringComparer.Ordinal);
        var total = 0;
        using (var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(trace)))
        {
            foreach (var traced in log.Events)
            {
                if (traced is not ExceptionTraceData thrown)
                {
                    continue;
                }

                total++;
                // Where it was thrown, and the first frame of another library or ours on the way out: who asked.
                var (at, from) = ("", "");
                for (var frame = thrown.CallStack(); frame is not null && from.Length == 0; frame = frame.Caller)
                {
                    var method = frame.CodeAddress.FullMethodName;
                    if (string.IsNullOrEmpty(method) || libraries.FirstOrDefault(l => method.StartsWith(l, StringComparison.Ordinal)) is not { } library)
                    {
                        continue;
                    }

                    var name = method.IndexOf('(', StringComparison.Ordinal) is > 0 and var open ? method[..open] : method;
                    if (at.Length == 0)
                    {
                        at = name;
                    }
                    else if (!at.StartsWith(library, StringComparison.Ordinal))
                    {
                        from = name;
                    }
                }

                var message = thrown.ExceptionMessage.Length > 120 ? thrown.ExceptionMessage[..120] + "..." : thrown.ExceptionMessage;
                var site = $"{thrown.ExceptionType}: {message} [at {at}{(from.Length > 0 ? $" <- {from}" : "")}]";
                sites[site] = sites.GetValueOrDefault(site) + 1;
            }
        }

        Console.WriteLine($"{total} exceptions thrown");
        foreach (var (site, count) in sites.OrderByDescending(s => s.Value).Take(top))
        {
            Console.WriteLine($"{count,8}  {site}");
        }

        return 0;
    }
}
