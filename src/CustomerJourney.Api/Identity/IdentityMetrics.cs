using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CustomerJourney.Identity;

/// <summary>The meter of identity resolution: how long the resolver takes to find the profiles a touchpoint's identifiers name.</summary>
public sealed class IdentityMetrics
{
    public const string MeterName = Infrastructure.Observability.MeterPrefix + "Identity";

    public const string ResolutionDuration = "customerjourney.identity.resolution.duration";

    private readonly Histogram<double> _resolution;

    public IdentityMetrics(IMeterFactory meters) =>
        _resolution = meters.Create(MeterName).CreateHistogram<double>(ResolutionDuration, "ms",
            "Time to look up the holders of a touchpoint's linking identifiers (blind index → customers) and those customers' profiles.");

    /// <summary>One lookup, from <paramref name="startedAt"/> (<see cref="Stopwatch.GetTimestamp"/>) until now.</summary>
    public void Resolved(long startedAt, int identifiers) =>
        _resolution.Record(Stopwatch.GetElapsedTime(startedAt).TotalMilliseconds, new KeyValuePair<string, object?>("identifiers", identifiers));
}
