using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.TrackingApi;

/// <summary>
/// Which customer a tracking call is filed under. Stream keys can never be erased, so a user id that is not a plain
/// customer id, or that looks like an e-mail address or a phone number (which many shops use as user ids), is replaced by
/// a keyed HMAC: stable (the same user id always lands on the same customer, across sources) and not reversible without
/// the key. The original is kept sealed on the touchpoint, so erasure covers it.
/// </summary>
public sealed partial class Pseudonyms(byte[] key)
{
    public const string Prefix = "p-";

    /// <summary>The customer id for a Segment user id or anonymous id.</summary>
    public string CustomerIdFor(string id) =>
        TouchpointCatalogue.IdPattern().IsMatch(id) && !LooksPersonal(id) && !id.StartsWith(Prefix, StringComparison.Ordinal)
            ? id
            : Prefix + Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(id)))[..32];

    /// <summary>An e-mail address, or a phone number: at least 7 digits with only separators between them.</summary>
    public static bool LooksPersonal(string id) => id.Contains('@', StringComparison.Ordinal) || PhoneLike().IsMatch(id);

    [GeneratedRegex(@"^\+?(?:[ ()./-]*[0-9]){7,}[ ()./-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex PhoneLike();
}
