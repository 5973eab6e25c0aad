using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CustomerJourney.Touchpoints;
using CustomerJourney.TrackingApi;
using PhoneNumbers;

namespace CustomerJourney.Identity;

/// <summary>An identifier as identity resolution stores and matches it: its type and its blind index, never its value.</summary>
public sealed record Identifier(IdentifierType Type, string BlindIndex);

/// <summary>
/// The keyed blind index: HMAC-SHA256 over the type and the normalised value. Without the key (kept outside the database)
/// nobody holding the database can test whether a given e-mail or phone number is known.
/// </summary>
public sealed class BlindIndex(byte[] key)
{
    public Identifier Of(IdentifierType type, string normalised) =>
        new(type, Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{type}\n{normalised}"))));
}

/// <summary>
/// Which identifiers a touchpoint carries, and how each is normalised before it is indexed. Pure: the touchpoint comes
/// in with its personal fields opened, and nothing read here leaves the process in clear.
/// </summary>
public static partial class Identifiers
{
    /// <summary>Identifiers that are personal data: shown to roles without personal-data access as [redacted].</summary>
    public static bool IsPersonal(IdentifierType type) => type is not IdentifierType.CustomerId;

    /// <summary>
    /// The identifiers the (opened) touchpoint carries, as (type, raw value): always its customer id; e-mail and phone of
    /// contact details; the ids of a tracking call (any kind) and the traits of an `identify`; for an `alias`, the customer
    /// the previous id is filed under.
    /// </summary>
    public static IReadOnlyList<(IdentifierType Type, string Value)> Carried(Touchpoint touchpoint, Func<string, string>? customerIdFor)
    {
        var carried = new List<(IdentifierType, string)> { (IdentifierType.CustomerId, touchpoint.CustomerId) };
        void Add(IdentifierType type, string? value)
        {
            if (value is not null)
            {
                carried.Add((type, value));
            }
        }

        // A call of the tracking API carries its ids whatever kind it became (a page view or a purchase alike).
        Add(IdentifierType.UserId, touchpoint.Call?.UserId);
        Add(IdentifierType.AnonymousId, touchpoint.Call?.AnonymousId);
        switch (touchpoint)
        {
            case ContactDetailsChanged details:
                Add(IdentifierType.Email, details.Email);
                Add(IdentifierType.Phone, details.Phone);
                break;
            case IdentityRecorded { Traits: { } traits }:
                foreach (var (type, value) in FromTraits(traits))
                {
                    Add(type, value);
                }

                break;
            case IdentitiesAliased aliased when customerIdFor is not null:
                Add(IdentifierType.CustomerId, customerIdFor(aliased.PreviousId));
                break;
        }

        return carried;
    }

    /// <summary>
    /// Whether a touchpoint carries anything beyond its own customer id, sealed or not (<see cref="Carried"/> with every alias
    /// counted): only those can link, so only those are handed to identity resolution.
    /// </summary>
    public static bool MayLink(Touchpoint touchpoint) => Carried(touchpoint, previousId => previousId).Count > 1;

    /// <summary>The normalised value, or null when it is blocked or not a valid value of its type (it then never links).</summary>
    public static string? Normalise(IdentifierType type, string raw, IdentityRules rules)
    {
        if (rules.IsBlocked(raw))
        {
            return null;
        }

        var normalised = type switch
        {
            IdentifierType.Email => NormaliseEmail(raw),
            IdentifierType.Phone => NormalisePhone(raw, rules.PhoneRegion),
            _ => raw.Trim(),
        };
        return normalised is null || rules.IsBlocked(normalised) ? null : normalised;
    }

    /// <summary>Trimmed and lower-cased; it must have something either side of one @.</summary>
    public static string? NormaliseEmail(string raw)
    {
        var email = raw.Trim().ToLowerInvariant();
        var at = email.IndexOf('@', StringComparison.Ordinal);
        return at > 0 && at == email.LastIndexOf('@') && at < email.Length - 1 ? email : null;
    }

    /// <summary>
    /// E.164 (+14155550123) by libphonenumber's rules; a number it does not find valid is not matched, nor is one of the
    /// North American numbers reserved for fiction (NXX-555-0100 to 0199), which examples, tests and demos share
    /// (libphonenumber finds them valid).
    /// </summary>
    public static string? NormalisePhone(string raw, string defaultRegion)
    {
        var util = PhoneNumberUtil.GetInstance();
        try
        {
            var number = util.Parse(raw, defaultRegion);
            var e164 = util.IsValidNumber(number) ? util.Format(number, PhoneNumberFormat.E164) : null;
            return e164 is not null && FictionalNorthAmerican().IsMatch(e164) ? null : e164;
        }
        catch (NumberParseException)
        {
            return null;
        }
    }

    /// <summary>The distinct, normalised identifiers of a touchpoint, indexed, in the rules' priority order.</summary>
    public static IReadOnlyList<Identifier> Indexed(IEnumerable<(IdentifierType Type, string Value)> carried, IdentityRules rules, BlindIndex index) =>
        carried.Select(c => (c.Type, Normalised: Normalise(c.Type, c.Value, rules)))
            .Where(c => c.Normalised is not null)
            .Select(c => index.Of(c.Type, c.Normalised!))
            .Distinct()
            .OrderBy(i => rules.PriorityOf(i.Type))
            .ToList();

    private static readonly Dictionary<string, IdentifierType> TraitNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["email"] = IdentifierType.Email,
        ["phone"] = IdentifierType.Phone,
        ["loyaltyCard"] = IdentifierType.LoyaltyCard,
        ["loyalty_card"] = IdentifierType.LoyaltyCard,
    };

    /// <summary>email, phone and loyaltyCard (or loyalty_card) among an identify call's traits, when they are strings.</summary>
    private static IEnumerable<(IdentifierType, string)> FromTraits(string traitsJson)
    {
        // Only an object carries traits. Still sealed (MayLink asks of every recorded touchpoint) they are not JSON at all, and
        // parsing them threw and caught an exception per identify call.
        if (!traitsJson.AsSpan().TrimStart().StartsWith('{'))
        {
            yield break;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(traitsJson);
        }
        catch (JsonException)
        {
            yield break;
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                yield break;
            }

            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (TraitNames.TryGetValue(property.Name, out var type) && property.Value.ValueKind == JsonValueKind.String)
                {
                    yield return (type, property.Value.GetString()!);
                }
            }
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\+1[0-9]{3}55501[0-9]{2}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex FictionalNorthAmerican();
}
