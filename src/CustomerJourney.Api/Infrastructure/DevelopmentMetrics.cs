using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace CustomerJourney.Infrastructure;

public sealed record HistogramSummary(string Instrument, int Count, double P50, double P99, double P999, double Max);

/// <summary>
/// Development only: what the runtime's collector has done since start and what the heap held at its last collection, so a
/// benchmark can say why a read waited (the time the service stood still for collections during a phase) and what its peak
/// resident set is made of (committed heap, free space between survivors, large objects, and what is not heap at all).
/// </summary>
public sealed record RuntimeFigures(
    double GcPauseSeconds,
    int Gen0Collections,
    int Gen1Collections,
    int Gen2Collections,
    long AllocatedBytes,
    long WorkingSetBytes,
    long CommittedBytes,
    long HeapBytes,
    long FragmentedBytes,
    long YoungBytes,
    long Gen2Bytes,
    long Gen2FragmentedBytes,
    long LargeObjectBytes,
    long LargeObjectFragmentedBytes)
{
    public static RuntimeFigures Now()
    {
        // GCMemoryInfo.GenerationInfo holds gen0, gen1, gen2, the large-object heap and the pinned-object heap, in that
        // order; sizes are as the last collection left them (young: gen0 and gen1 together).
        var heap = GC.GetGCMemoryInfo(GCKind.Any);
        var generations = heap.GenerationInfo;
        return new RuntimeFigures(GC.GetTotalPauseDuration().TotalSeconds, GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2),
            GC.GetTotalAllocatedBytes(), Environment.WorkingSet, heap.TotalCommittedBytes, heap.HeapSizeBytes, heap.FragmentedBytes,
            generations[0].SizeAfterBytes + generations[1].SizeAfterBytes, generations[2].SizeAfterBytes, generations[2].FragmentationAfterBytes, generations[3].SizeAfterBytes, generations[3].FragmentationAfterBytes);
    }
}

/// <summary>
/// Development only: the values our own histograms (meters named <see cref="Observability.MeterPrefix"/>*) recorded since
/// start or since they were cleared, kept in memory, so a benchmark that runs the service as its own process can read a
/// server-side figure without an OpenTelemetry collector; and ASP.NET Core's request durations per route, kept as
/// <c>http.server.request.duration</c> followed by the route (<c>http.server.request.duration/api/customers/{customerId}</c>),
/// so a benchmark can tell the time a request spent in the service from what its client waited. Outside Development
/// nothing listens and the route is not mapped (404); metrics leave the service over OTLP there.
/// </summary>
public sealed class DevelopmentHistograms : IDisposable
{
    private const string HostingMeter = "Microsoft.AspNetCore.Hosting";
    private const string RequestDuration = "http.server.request.duration";

    /// <summary>Enough for any benchmark run here; beyond it values are dropped rather than growing without end.</summary>
    private const int MaxValuesPerInstrument = 2_000_000;

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<double>> _values = new(StringComparer.Ordinal);

    public DevelopmentHistograms()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument is Histogram<double> && (instrument.Meter.Name.StartsWith(Observability.MeterPrefix, StringComparison.Ordinal) ||
                                                    (instrument.Meter.Name == HostingMeter && instrument.Name == RequestDuration)))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            // A request duration is kept by its route; one without a route (a 404, say) is not kept.
            var name = instrument.Meter.Name != HostingMeter ? instrument.Name : RouteOf(tags) is { } route ? RequestDuration + route : null;
            if (name is null)
            {
                return;
            }

            var values = _values.GetOrAdd(name, _ => new ConcurrentQueue<double>());
            if (values.Count < MaxValuesPerInstrument)
            {
                values.Enqueue(value);
            }
        });
        _listener.Start();
    }

    /// <summary>Null when the instrument recorded nothing (or is not one of ours).</summary>
    public HistogramSummary? Summary(string instrument)
    {
        if (!_values.TryGetValue(instrument, out var queue) || queue.IsEmpty)
        {
            return null;
        }

        var sorted = queue.ToArray();
        Array.Sort(sorted);
        double At(double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100 * sorted.Length) - 1)];
        return new HistogramSummary(instrument, sorted.Length, At(50), At(99), At(99.9), sorted[^1]);
    }

    /// <summary>
    /// Forgets what the instrument recorded so far, so a benchmark can read one phase's figure rather than everything
    /// since start (a lookup p99 measured under a saturating workload is not the lookup's own). False when it had none.
    /// </summary>
    public bool Clear(string instrument) => _values.TryRemove(instrument, out _);

    public void Dispose() => _listener.Dispose();

    private static string? RouteOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "http.route" && tag.Value is string route)
            {
                return route.StartsWith('/') ? route : "/" + route;
            }
        }

        return null;
    }
}

public static class DevelopmentMetrics
{
    public static IServiceCollection AddDevelopmentMetrics(this IServiceCollection services, IHostEnvironment environment)
    {
        if (environment.IsDevelopment())
        {
            services.AddSingleton<DevelopmentHistograms>();
        }

        return services;
    }

    public static WebApplication MapDevelopmentMetrics(this WebApplication app)
    {
        if (app.Environment.IsDevelopment())
        {
            // Resolved now, so the listener records from the first request on.
            var histograms = app.Services.GetRequiredService<DevelopmentHistograms>();
            // Catch-all: a request duration's name holds its route's slashes.
            app.MapGet("/api/dev/metrics/{**instrument}", (string instrument) => histograms.Summary(instrument) is { } summary ? Results.Ok(summary) : Results.NotFound())
                .AllowAnonymous()
                .WithSummary("Development only: count and percentiles of what one of our histograms recorded since start (or since it was cleared).");
            app.MapDelete("/api/dev/metrics/{**instrument}", (string instrument) => histograms.Clear(instrument) ? Results.NoContent() : Results.NotFound())
                .AllowAnonymous()
                .WithSummary("Development only: forgets what one of our histograms recorded, so the next summary covers one phase of a benchmark.");
            app.MapGet("/api/dev/runtime", () => Results.Ok(RuntimeFigures.Now()))
                .AllowAnonymous()
                .WithSummary("Development only: the collector's pauses and collections since start, and the heap as its last collection left it.");
        }

        return app;
    }
}
