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
}
