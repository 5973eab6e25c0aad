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

    /// <summary>
    /// The touched customers, each once, in evaluations no larger than the sweep's. A customer whose inputs can only clear
    /// a flag in every request that named them keeps those flags (<see cref="TouchpointsRecorded.MayOnlyClear"/>); one
    /// whose inputs may raise a flag in any of them is evaluated in full.
    /// </summary>
    public static IEnumerable<EvaluateChurnFlags> Handle(TouchpointsRecorded[] batch)
    {
        // Null: the customer's inputs may raise a flag.
        var clears = new Dictionary<string, SortedSet<string>?>(StringComparer.Ordinal);
        foreach (var recorded in batch)
        {
            foreach (var customer in recorded.CustomerIds)
            {
                var only = recorded.MayOnlyClear?.GetValueOrDefault(customer);
                if (only is null)
                {
                    clears[customer] = null;
                }
                else if (!clears.TryGetValue(customer, out var known))
                {
                    clears[customer] = new SortedSet<string>(only, StringComparer.Ordinal);
                }
                else
                {
                    known?.UnionWith(only);
                }
            }
        }

        return clears.Chunk(EvaluateChurnFlagsHandler.SweepChunk).Select(chunk => new EvaluateChurnFlags([.. chunk.Select(c => c.Key)],
            chunk.Any(c => c.Value is not null)
                ? chunk.Where(c => c.Value is not null).ToDictionary(c => c.Key, c => (IReadOnlyList<string>)[.. c.Value!], StringComparer.Ordinal)
                : null));
    }
}

/// <summary>A merge or split changed who is one person: their flags are evaluated again, as one person or as two.</summary>
public static class EvaluateFlagsWhenProfilesChangedHandler
{
    public static IEnumerable<EvaluateChurnFlags> Handle(ProfileMembersMoved moved) =>
        moved.CustomerIds.Chunk(EvaluateChurnFlagsHandler.SweepChunk).Select(chunk => new EvaluateChurnFlags(chunk));
}
