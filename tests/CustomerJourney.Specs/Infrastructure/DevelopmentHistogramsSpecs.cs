using System.Diagnostics.Metrics;
using CustomerJourney.Infrastructure;

namespace CustomerJourney.Specs.Infrastructure;

public sealed class DevelopmentHistogramsSpecs
{
    [Fact]
    public void A_cleared_instrument_summarises_only_what_it_recorded_afterwards()
    {
        using var histograms = new DevelopmentHistograms();
        using var meter = new Meter(Observability.MeterPrefix + "Specs");
        var name = $"probe.{Guid.NewGuid():N}";
        var histogram = meter.CreateHistogram<double>(name);
        foreach (var slow in Enumerable.Repeat(900.0, 100))
        {
            histogram.Record(slow);
        }

        Assert.Equal(100, histograms.Summary(name)!.Count);

        Assert.True(histograms.Clear(name));
        Assert.Null(histograms.Summary(name));
        foreach (var value in Enumerable.Range(1, 100))
        {
            histogram.Record(value);
        }

        var summary = histograms.Summary(name)!;
        Assert.Equal(100, summary.Count);
        Assert.Equal(99, summary.P99);
        Assert.Equal(100, summary.Max);
        Assert.False(histograms.Clear("not.one.of.ours"));
    }

    [Fact]
    public void Request_durations_are_kept_by_route_and_requests_without_one_are_not_kept()
    {
        using var histograms = new DevelopmentHistograms();
        using var meter = new Meter("Microsoft.AspNetCore.Hosting");
        var durations = meter.CreateHistogram<double>("http.server.request.duration", "s");
        var route = $"/api/probe/{Guid.NewGuid():N}/{{customerId}}";

        durations.Record(0.25, new KeyValuePair<string, object?>("http.request.method", "GET"), new KeyValuePair<string, object?>("http.route", route));
        durations.Record(0.5, new KeyValuePair<string, object?>("http.route", route));
        durations.Record(9.0, new KeyValuePair<string, object?>("http.request.method", "GET"));

        var summary = histograms.Summary("http.server.request.duration" + route)!;
        Assert.Equal((2, 0.5), (summary.Count, summary.Max));
        Assert.Null(histograms.Summary("http.server.request.duration"));
    }

    [Fact]
    public void The_runtime_figures_count_a_collection_and_its_pause()
    {
        var before = RuntimeFigures.Now();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        var after = RuntimeFigures.Now();

        Assert.True(after.Gen2Collections > before.Gen2Collections);
        Assert.True(after.Gen0Collections > before.Gen0Collections);
        Assert.True(after.GcPauseSeconds > before.GcPauseSeconds);
        Assert.True(after.Gen2Bytes > 0 && after.CommittedBytes >= after.Gen2Bytes && after.WorkingSetBytes > after.Gen2Bytes);
    }
}
