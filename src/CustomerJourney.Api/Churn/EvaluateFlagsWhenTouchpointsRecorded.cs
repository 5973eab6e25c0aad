using CustomerJourney.Identity;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Churn;

/// <summary>
/// Every ingestion request names the customers it touched. Wolverine hands them over in batches (up to
/// <see cref="BatchSize"/> requests, or whatever arrived within <see cref="TriggerTime"/>), so 32 clients posting one
/// touchpoint each cost one flag evaluation per batch instead of one per request.
/// </summary>
public static class EvaluateFlagsWhenTouchpointsRecordedHandler
{
    public const int BatchSize = 200;
    public static readonly TimeSpan TriggerTime = TimeSpan.FromMilliseconds(250);

    /// <summary>The touched customers, each once, in evaluations no larger than the sweep's.</summary>
    public static IEnumerable<EvaluateChurnFlags> Handle(TouchpointsRecorded[] batch) =>
        batch.SelectMany(b => b.CustomerIds).Distinct(StringComparer.Ordinal).Chunk(EvaluateChurnFlagsHandler.SweepChunk)
            .Select(chunk => new EvaluateChurnFlags(chunk));
}

/// <summary>A merge or split changed who is one person: their flags are evaluated again, as one person or as two.</summary>
public static class EvaluateFlagsWhenProfilesChangedHandler
{
    public static IEnumerable<EvaluateChurnFlags> Handle(ProfileMembersMoved moved) =>
        moved.CustomerIds.Chunk(EvaluateChurnFlagsHandler.SweepChunk).Select(chunk => new EvaluateChurnFlags(chunk));
}
