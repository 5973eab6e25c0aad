using System.Globalization;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

// Usage: dotnet run -c Release --project bench/Allocations -- <trace.nettrace> [top N] [--large | --cpu | --gc | --exceptions]
// Sums the sampled allocations of a trace taken with `dotnet-trace collect -p <service pid> --profile gc-verbose` by
// their site: the innermost frame that belongs to the service or a library it calls (Npgsql, Weasel, Marten, JasperFx,
// Wolverine, ASP.NET Core, OpenTelemetry, Polly), with the frame it called and the type allocated. The runtime's own
// frames are skipped, so a site names the code that asked for the memory. With --large, only allocations on the large
// object heap (85,000 bytes or more) count: the ones only a full collection frees. With --cpu, the trace is one taken
// with --profile dotnet-sampled-thread-time and the thread samples that ran managed code are summed instead: by the method that was
// running, and by each method of the service or its libraries on the stack (its inclusive share). With --gc, the
// collections of a gc-verbose (or gc-collect) trace and how long each stopped the threads. With --exceptions, what a trace
// of the runtime's exception events (--providers Microsoft-Windows-DotNETRuntime:0x8000:4) says was thrown, and where.
var largeOnly = args.Contains("--large", StringComparer.Ordinal);
var cpu = args.Contains("--cpu", StringComparer.Ordinal);
var gc = args.Contains("--gc", StringComparer.Ordinal);
var exceptions = args.Contains("--exceptions", StringComparer.Ordinal);
var positional = args.Where(a => a is not "--large" and not "--cpu" and not "--gc" and not "--exceptions").ToArray();
if (positional.Length is < 1 or > 2 || !File.Exists(positional[0]) || (positional.Length == 2 && !int.TryParse(positional[1], CultureInfo.InvariantCulture, out _)))
{
    Console.Error.WriteLine("Usage: Allocations <trace.nettrace> [top N] [--large | --cpu | --gc | --exceptions]: a trace taken with dotnet-trace --profile gc-verbose (or dotnet-sampled-thread-time for --cpu, the runtime's exception events for --exceptions).");
    return 2;
}

var top = positional.Length == 2 ? int.Parse(positional[1], CultureInfo.InvariantCulture) : 40;
string[] libraries = ["CustomerJourney", "Npgsql", "Weasel", "Marten", "JasperFx", "Wolverine", "Microsoft.AspNetCore", "OpenTelemetry", "Polly"];
try
{
    return cpu ? CpuSamples.Summarise(positional[0], top, libraries)
        : gc ? GcPauses.Summarise(positional[0], top)
        : exceptions ? Exceptions.Summarise(positional[0], top, libraries)
        : SumAllocations(positional[0], top, largeOnly, libraries);
}
catch (FormatException e)
{
    // A trace whose process stopped before the trace ended is cut short.
    Console.Error.WriteLine($"{positional[0]} is not a whole EventPipe trace ({e.Message}): did the traced process stop before the trace ended?");
    return 1;
}

static int SumAllocations(string trace, int top, bool largeOnly, string[] libraries)
{
    var sites = new Dictionary<string, long>(StringComparer.Ordinal);
    var total = 0L;
    using (var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(trace)))
    {
        foreach (var traced in log.Events)
        {
            if (traced is not GCAllocationTickTraceData sample || (largeOnly && sample.AllocationKind != GCAllocationKind.Large))
            {
                continue;
            }

            total += sample.AllocationAmount64;
            var called = "";
            for (var frame = sample.CallStack(); frame is not null; frame = frame.Caller)
            {
                var method = frame.CodeAddress.FullMethodName;
                if (string.IsNullOrEmpty(method))
                {
                    continue;
                }

                if (libraries.Any(l => method.StartsWith(l, StringComparison.Ordinal)))
                {
                    var site = $"{Name(method)} <- {called} [{sample.TypeName}]";
                    sites[site] = sites.GetValueOrDefault(site) + sample.AllocationAmount64;
                    break;
                }

                called = Name(method);
            }
        }
    }

    Console.WriteLine($"{total / 1e6:F1} MB sampled in all");
    foreach (var (site, bytes) in sites.OrderByDescending(s => s.Value).Take(top))
    {
        Console.WriteLine($"{bytes / 1e6,9:F1} MB  {site}");
    }

    return 0;
}

static string Name(string method) => method.IndexOf('(', StringComparison.Ordinal) is > 0 and var open ? method[..open] : method;
