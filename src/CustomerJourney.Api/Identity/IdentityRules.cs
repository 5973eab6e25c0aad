namespace CustomerJourney.Identity;

/// <summary>
/// The configured rules of identity resolution, as the pure decisions read them: which types link (and in which
/// priority), which values never link, how many values of a type one profile may hold.
/// </summary>
public sealed record IdentityRules(IReadOnlyList<IdentifierType> Linking, IReadOnlySet<string> Blocked, IReadOnlyDictionary<IdentifierType, int> Limits,
    string PhoneRegion)
{
    public static readonly IReadOnlyList<IdentifierType> DefaultLinking =
        [IdentifierType.CustomerId, IdentifierType.UserId, IdentifierType.Email, IdentifierType.Phone, IdentifierType.LoyaltyCard, IdentifierType.AnonymousId];

    /// <summary>Placeholders sources send when they know nobody; they would link every unknown visitor into one profile.</summary>
    public static readonly IReadOnlyList<string> AlwaysBlocked =
        ["", "null", "undefined", "none", "nil", "n/a", "unknown", "anonymous", "0", "-1", "test@example.com", "noemail@example.com"];

    /// <summary>A person has one login; a household shares an address book, but five e-mails on one profile is already many.</summary>
    public static readonly IReadOnlyDictionary<IdentifierType, int> DefaultLimits = new Dictionary<IdentifierType, int>
    {
        [IdentifierType.UserId] = 1,
        [IdentifierType.Email] = 5,
    };

    public static IdentityRules Default { get; } = From(new IdentityOptions());

    public static IdentityRules From(IdentityOptions options)
    {
        var limits = new Dictionary<IdentifierType, int>(DefaultLimits);
        foreach (var (type, limit) in options.Limits)
        {
            limits[type] = limit;
        }

        return new IdentityRules(
            options.Linking is { Count: > 0 } linking ? linking.Distinct().ToList() : DefaultLinking,
            AlwaysBlocked.Concat(options.BlockedValues).Select(v => v.Trim().ToLowerInvariant()).ToHashSet(StringComparer.Ordinal),
            limits,
            options.DefaultPhoneRegion);
    }

    public bool Links(IdentifierType type) => Linking.Contains(type);

    /// <summary>Linking types first, in configured order; the rest after.</summary>
    public int PriorityOf(IdentifierType type) => Linking.IndexOf(type) is var i and >= 0 ? i : Linking.Count + (int)type;

    public int? LimitOf(IdentifierType type) => Limits.TryGetValue(type, out var limit) ? limit : null;

    public bool IsBlocked(string value) => Blocked.Contains(value.Trim().ToLowerInvariant());
}

file static class ListExtensions
{
    public static int IndexOf<T>(this IReadOnlyList<T> list, T item)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (EqualityComparer<T>.Default.Equals(list[i], item))
            {
                return i;
            }
        }

        return -1;
    }
}
