using System.Diagnostics.Metrics;

namespace CustomerJourney.Touchpoints;

/// <summary>The service's own meter for ingestion: what came in, by kind and source, and what became of it.</summary>
public sealed class TouchpointMetrics
{
    public const string MeterName = Infrastructure.Observability.MeterPrefix + "Touchpoints";

    private readonly Counter<long> _appended;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _rejected;

    public TouchpointMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _appended = meter.CreateCounter<long>("customerjourney.touchpoints.appended", "{touchpoint}", "Touchpoints appended to the event store.");
        _duplicates = meter.CreateCounter<long>("customerjourney.touchpoints.duplicates", "{touchpoint}", "Touchpoints recognised as repeats of a stored source id.");
        _rejected = meter.CreateCounter<long>("customerjourney.touchpoints.rejected", "{touchpoint}", "Touchpoints refused as bad input.");
    }

    public void Appended(string kind, string source) => _appended.Add(1, Tags(kind, source));

    public void Duplicate(string kind, string source) => _duplicates.Add(1, Tags(kind, source));

    /// <summary>A refused item's kind and source may be garbage; only catalogue kinds are used as tag values.</summary>
    public void Rejected(string? kind) => _rejected.Add(1, new KeyValuePair<string, object?>("kind", kind ?? "invalid"));

    private static KeyValuePair<string, object?>[] Tags(string kind, string source) =>
        [new("kind", kind), new("source", source)];
}
