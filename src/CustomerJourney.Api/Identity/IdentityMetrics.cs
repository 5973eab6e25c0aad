using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CustomerJourney.Identity;

/// <summary>The meter of identity resolution: how long the resolver takes to find the profiles a touchpoint's identifiers name.</summary>
public sealed class IdentityMetrics
{
    public const string MeterName = Infrastructure.Observability.MeterPrefix + "Identity";

    public const string ResolutionDuration = "customerjourney.identity.resolution.duration";

    public const string PassLookupDuration = "customerjourney.identity.pass.duration";

    private readonly Histogram<double> _resolution;

    private readonly Histogram<double> _pass;

    public IdentityMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _resolution = meter.CreateHistogram<double>(ResolutionDuration, "ms",
            "Time to look up the holders of a touchpoint's linking identifiers (blind index → customers) and those customers' profiles.");
        _pass = meter.CreateHistogram<double>(PassLookupDuration, "ms",
            "Time of the one lookup that sorts a pass of committed touchpoints (their customers' profiles, the holders of all their linking identifiers, " +
            "which they hold themselves, which home profiles exist), and of its repeat under the locks of the pass's first sightings.");
    }

    /// <summary>One lookup, from <paramref name="startedAt"/> (<see cref="Stopwatch.GetTimestamp"/>) until now.</summary>
    public void Resolved(long startedAt, int identifiers) =>
        _resolution.Record(Stopwatch.GetElapsedTime(startedAt).TotalMilliseconds, new KeyValuePair<string, object?>("identifiers", identifiers));

    /// <summary>One pass's lookup, from <paramref name="startedAt"/> until now (untagged: a pass may hold thousands of identifiers).</summary>
    public void PassLookedUp(long startedAt) => _pass.Record(Stopwatch.GetElapsedTime(startedAt).TotalMilliseconds);
}
