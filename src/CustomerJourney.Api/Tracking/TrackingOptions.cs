using CustomerJourney.Touchpoints;

namespace CustomerJourney.TrackingApi;

/// <summary>Settings of the Segment tracking API (configuration section "Tracking").</summary>
public sealed class TrackingOptions
{
    /// <summary>Segment's own limit for one call, measured after decompression.</summary>
    public long MaxCallBytes { get; set; } = 32 * 1024;

    /// <summary>Segment's own limit for a batch, measured after decompression.</summary>
    public long MaxBatchBytes { get; set; } = 500 * 1024;

    /// <summary>
    /// The key (base64, at least 32 bytes) of the HMAC that turns a user id we may not use in clear (an e-mail address, a
    /// phone number, anything that is not a customer id) into a stable pseudonymous customer id. Kept outside the database,
    /// like the key-encryption key: whoever holds the database alone cannot test guesses against the pseudonyms.
    /// </summary>
    public string? PseudonymKey { get; set; }

    /// <summary>Segment's `channel` to ours; a channel not listed (or none) is <see cref="DefaultChannel"/>.</summary>
    public Dictionary<string, Channel> Channels { get; set; } = new(StringComparer.Ordinal)
    {
        ["browser"] = Channel.Web,
        ["mobile"] = Channel.App,
        ["server"] = Channel.Web,
    };

    public Channel DefaultChannel { get; set; } = Channel.Web;

    /// <summary>Our catalogue requires a return's reason; Segment's `Order Refunded` has none.</summary>
    public string DefaultReturnReason { get; set; } = "refunded";

    /// <summary>
    /// Segment consent categories (the keys of context.consent.categoryPreferences, as the consent management platform
    /// names them; any case) to our consent purposes. A category not listed, or listed with an empty purpose, is ignored.
    /// The defaults map only what our purposes (all of them marketing) can mean: a "no" to advertising or marketing
    /// withdraws marketing e-mail consent. Segment's own examples Analytics, Functional and DataSharing have no purpose of ours.
    /// </summary>
    public Dictionary<string, string> ConsentCategories { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Advertising"] = "marketing-email",
        ["Marketing"] = "marketing-email",
    };

    /// <summary>A public key for Development and tests only; start-up outside Development never uses it.</summary>
    public const string DevelopmentPseudonymKey = "Y3VzdG9tZXJqb3VybmV5LWRldmVsb3BtZW50LXBzZXVkb255bS1rZXk=";
}
