using CustomerJourney.Touchpoints;

namespace CustomerJourney.Identity;

/// <summary>
/// Blind indexes inside profile events are sealed with the personal-data key of the member they belong to (issue 18:
/// "no identifier is stored in clear"), so erasing a member, which destroys its key, also makes its blind indexes in
/// the profile's raw events unreadable. A blind index is a keyed HMAC; in clear it would still let whoever holds the
/// blind-index key and the database test guesses about an erased person. <see cref="ProfileWriter"/> seals just before
/// appending and <see cref="ProfileStreams"/> opens just after reading, so the decisions (<see cref="IdentityResolution"/>),
/// the fold and the lookups (<see cref="IdentifierHolder"/>, deleted on erasure) see plain blind indexes.
/// </summary>
public static class SealedIdentifiers
{
    /// <summary>
    /// Every blind index a profile event holds, with the member it belongs to: an identifier, conflict or suppression
    /// that member's; a link's, the member that showed it on the touchpoint that made the link (<see cref="ProfileLink.From"/>).
    /// </summary>
    public static object Map(object @event, Func<string, string, string> map) => @event switch
    {
        ProfileIdentifierRecorded e => e with { BlindIndex = map(e.CustomerId, e.BlindIndex) },
        ProfilesMerged e => e with { BlindIndex = e.BlindIndex is null ? null : map(e.From, e.BlindIndex), Merged = Map(e.Merged, map) },
        ProfileSplit e => e with
        {
            Suppressions = [.. e.Suppressions.Select(s => Map(s, map))],
            SplitOff = [.. e.SplitOff.Select(s => s with { Contents = Map(s.Contents, map) })],
        },
        ProfileRestored e => e with { Contents = Map(e.Contents, map) },
        ProfileLinkConflict e => e with { BlindIndex = map(e.CustomerId, e.BlindIndex) },
        _ => @event,
    };

    /// <summary>The customers whose keys seal or open the event's blind indexes.</summary>
    public static IEnumerable<string> CustomersOf(object @event)
    {
        var customers = new List<string>();
        Map(@event, (customer, value) =>
        {
            customers.Add(customer);
            return value;
        });
        return customers;
    }

    /// <summary>
    /// The event as it is stored. A member whose key was destroyed (erased) keeps no identifier at all: it is stored as
    /// [erased], which is what it would open as anyway.
    /// </summary>
    public static object Seal(object @event, IPersonalDataCipher cipher) =>
        Map(@event, (customer, blindIndex) => cipher.IsErased(customer) ? PersonalFields.Erased : cipher.Seal(customer, blindIndex));

    /// <summary>
    /// The event with its blind indexes opened: an erased member's read [erased], a damaged one [unreadable]. A blind index
    /// stored in clear before sealing (64 hex digits: a store written before it, or one the benchmark seeded) reads as it is.
    /// </summary>
    public static object Open(object @event, IPersonalDataCipher cipher) => Map(@event, (customer, stored) => cipher.Open(customer, stored) switch
    {
        { State: OpenedState.Opened, Plaintext: { } plain } => plain,
        { State: OpenedState.Erased } => PersonalFields.Erased,
        _ => IsClear(stored) ? stored : PersonalFields.Unreadable,
    });

    private static bool IsClear(string stored) => stored.Length == 64 && stored.All(char.IsAsciiHexDigitLower);

    private static ProfileContents Map(ProfileContents contents, Func<string, string, string> map) => contents with
    {
        Identifiers = [.. contents.Identifiers.Select(i => i with { BlindIndex = map(i.CustomerId, i.BlindIndex) })],
        Links = [.. contents.Links.Select(l => l.BlindIndex is null ? l : l with { BlindIndex = map(l.From, l.BlindIndex) })],
        Conflicts = [.. contents.Conflicts.Select(c => c with { BlindIndex = map(c.CustomerId, c.BlindIndex) })],
        Suppressions = [.. contents.Suppressions.Select(s => Map(s, map))],
    };

    private static Suppression Map(Suppression suppression, Func<string, string, string> map) =>
        suppression with { BlindIndex = map(suppression.CustomerId, suppression.BlindIndex) };
}
