using CustomerJourney.Touchpoints;

namespace CustomerJourney.Journeys;

/// <summary>A consent statement for one purpose: given or withdrawn, at its business time.</summary>
public sealed record ConsentStatus(bool Given, DateTimeOffset At);

/// <summary>
/// The one rule of consent, which the summary, the consent endpoint, the churn flag and win-back all read: per purpose,
/// the latest statement in business time stands; at the same business instant a withdrawal wins, whatever order the
/// statements were recorded in (the cautious reading: writing to someone who said no is the worse mistake). A statement
/// for another purpose never affects this one.
/// </summary>
public static class Consent
{
    /// <summary>Purposes of marketing to the customer (marketing-email, marketing-app, ...): what "marketing consent" means.</summary>
    public static bool IsMarketing(string purpose) => purpose.StartsWith("marketing", StringComparison.Ordinal);

    /// <summary>Whether touchpoints of this kind are consent statements (each states a purpose: <see cref="PurposeOf"/>).</summary>
    public static bool IsStatement(Type kind) => kind == typeof(ConsentGiven) || kind == typeof(ConsentWithdrawn);

    /// <summary>The purpose a touchpoint states consent for, or null when it is no consent statement.</summary>
    public static string? PurposeOf(Touchpoint touchpoint) => touchpoint switch
    {
        ConsentGiven g => g.Purpose,
        ConsentWithdrawn w => w.Purpose,
        _ => null,
    };

    /// <summary>Which of two statements for the same purpose stands: the later one, and on a tie the withdrawal.</summary>
    public static ConsentStatus Standing(ConsentStatus? current, ConsentStatus next) =>
        current is { } c && (c.At > next.At || (c.At == next.At && !c.Given)) ? c : next;

    /// <summary>
    /// The statement standing for <paramref name="purpose"/> at business instant <paramref name="at"/> (null: everything
    /// known), with the event that made it; null when the customer never stated one for it by then.
    /// </summary>
    public static (Guid Id, ConsentStatus Status)? StandingAt(IEnumerable<(Guid Id, Touchpoint Touchpoint)> history, string purpose, DateTimeOffset? at)
    {
        (Guid Id, ConsentStatus Status)? standing = null;
        foreach (var (id, touchpoint) in history)
        {
            if (PurposeOf(touchpoint) != purpose || (at is { } cutOff && touchpoint.OccurredAt > cutOff))
            {
                continue;
            }

            var statement = new ConsentStatus(touchpoint is ConsentGiven, touchpoint.OccurredAt);
            if (ReferenceEquals(Standing(standing?.Status, statement), statement))
            {
                standing = (id, statement);
            }
        }

        return standing;
    }

    /// <summary>Whether consent for <paramref name="purpose"/> stands at <paramref name="at"/> (null: everything known). No statement means no consent.</summary>
    public static bool IsGiven(IEnumerable<Touchpoint> history, string purpose, DateTimeOffset? at) =>
        StandingAt(history.Select(t => (Guid.Empty, t)), purpose, at)?.Status.Given == true;
}
