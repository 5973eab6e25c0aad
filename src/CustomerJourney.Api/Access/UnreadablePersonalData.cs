using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace CustomerJourney.Access;

/// <summary>
/// Reports personal fields whose stored ciphertext cannot be opened although the customer was not erased (a row
/// damaged on disk or by a bad restore). Readers show them as [unreadable]; this says so to operators: a warning
/// once per event (its sequence and kind, never the stored text) and a counter of every field shown unreadable.
/// </summary>
public sealed class UnreadablePersonalData
{
    public const string MeterName = Infrastructure.Observability.MeterPrefix + "PersonalData";

    // Bounds what is remembered; past it a damaged event may be logged again, which is better than growing without end.
    private const int RememberedEvents = 10_000;

    private readonly Counter<long> _unreadable;
    private readonly ILogger<UnreadablePersonalData> _logger;
    private readonly ConcurrentDictionary<long, bool> _logged = new();

    public UnreadablePersonalData(IMeterFactory meters, ILogger<UnreadablePersonalData> logger)
    {
        _logger = logger;
        _unreadable = meters.Create(MeterName).CreateCounter<long>("customerjourney.personal_data.unreadable", "{field}",
            "Personal fields shown as [unreadable]: their stored ciphertext is damaged or their key is missing.");
    }

    /// <summary>One field of the event with this global sequence could not be opened.</summary>
    public void Found(long sequence, string kind)
    {
        _unreadable.Add(1, new KeyValuePair<string, object?>("kind", kind));
        if (_logged.Count >= RememberedEvents || _logged.TryAdd(sequence, true))
        {
            _logger.LogWarning(
                "A personal field of event {Sequence} ({Kind}) cannot be opened: its stored ciphertext is damaged or its key is missing. " +
                "It is shown as [unreadable]; restore the row or the key from a backup", sequence, kind);
        }
    }
}
