namespace CustomerJourney.Identity;

/// <summary>The kinds of identifier a touchpoint can carry. The order is the default priority (see <see cref="IdentityOptions.Linking"/>).</summary>
public enum IdentifierType
{
    /// <summary>A customer id we file touchpoints under; an `alias` call names another one (its previousId).</summary>
    CustomerId,
    UserId,
    Email,
    Phone,
    LoyaltyCard,
    AnonymousId,
}

/// <summary>Settings of identity resolution (configuration section "Identity").</summary>
public sealed class IdentityOptions
{
    /// <summary>A public key for Development and tests only; start-up outside Development refuses it.</summary>
    public const string DevelopmentBlindIndexKey = "Y3VzdG9tZXJqb3VybmV5LWRldmVsb3BtZW50LWJsaW5kLWluZGV4LWtleQ==";

    /// <summary>
    /// The key (base64, at least 32 bytes) of the blind index: identifiers are matched by HMAC-SHA256 of their normalised
    /// value, never in clear. Kept outside the database like the key-encryption key, so a copy of the database alone
    /// cannot test guesses ("is jane@example.com a customer?"). Required outside Development.
    /// </summary>
    public string? BlindIndexKey { get; set; }

    /// <summary>
    /// The identifier types that link profiles, in priority order (an observation's identifiers are matched in this
    /// order). Null: <see cref="IdentityRules.DefaultLinking"/>. Types not listed are recorded but never link.
    /// </summary>
    public List<IdentifierType>? Linking { get; set; }

    /// <summary>Values that never link, in addition to <see cref="IdentityRules.AlwaysBlocked"/> (compared after normalising, case-insensitively).</summary>
    public List<string> BlockedValues { get; set; } = [];

    /// <summary>At most this many distinct values of a type per profile; a link that would exceed it is recorded as a conflict instead. Overrides <see cref="IdentityRules.DefaultLimits"/> per type.</summary>
    public Dictionary<IdentifierType, int> Limits { get; set; } = [];

    /// <summary>The region a phone number without a country code is read in (ISO 3166 alpha-2).</summary>
    public string DefaultPhoneRegion { get; set; } = "US";
}
