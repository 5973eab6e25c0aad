using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.TrackingApi;

/// <summary>
/// What a Segment tracking call carried besides the fields of the kind it became: Segment's four times, the ids as the
/// source sent them, the context, and the properties no field of the kind holds. Kept as <see cref="Touchpoint.Call"/> on
/// a touchpoint of any kind, a page view or a purchase alike. Everything that may identify the customer is sealed with
/// the customer's key, so an erasure covers it.
/// </summary>
public sealed record TrackedCall
{
    /// <summary>The client's clock when the call was made (Segment's originalTimestamp).</summary>
    public DateTimeOffset? OriginalTimestamp { get; init; }

    /// <summary>The client's clock when the call was sent (item-level, else batch-level sentAt).</summary>
    public DateTimeOffset? SentAt { get; init; }

    /// <summary>Our clock when the call arrived.</summary>
    public DateTimeOffset? ReceivedAt { get; init; }

    /// <summary>The timestamp the source set, as sent (the touchpoint's OccurredAt is the business time derived from it).</summary>
    public DateTimeOffset? Timestamp { get; init; }

    /// <summary>The user id as the source sent it (the stream may be keyed by its pseudonym).</summary>
    [PersonalData] public string? UserId { get; init; }

    [PersonalData] public string? AnonymousId { get; init; }

    /// <summary>The call's context (ip, userAgent, locale, page, campaign, device, os, app, library, traits, consent) as JSON.</summary>
    [PersonalData] public string? Context { get; init; }

    /// <summary>
    /// The call's properties that no field of the kind holds, as JSON: all of them for an event the catalogue does not map
    /// and for a page view; for a mapped one what its mapping left (an order's tax, coupon, products[].name...).
    /// </summary>
    [PersonalData] public string? Properties { get; init; }

    /// <summary>A copy with <paramref name="map"/> applied to every personal field (sealing, opening, redacting).</summary>
    public TrackedCall MapPersonal(Func<string?, string?> map) => this with
    {
        UserId = map(UserId),
        AnonymousId = map(AnonymousId),
        Context = map(Context),
        Properties = map(Properties),
    };

    /// <summary>JSON text of an object the call carried (properties, traits, context); up to a whole call's size.</summary>
    public const int JsonTextMax = 512 * 1024;

    /// <summary>Reads `data.call` as SegmentCalls writes it (every field optional), sealing what identifies the customer.</summary>
    public static TrackedCall? Read(FieldReader d, TouchpointCatalogue.Sealer seal)
    {
        var call = new TrackedCall
        {
            OriginalTimestamp = d.Instant("originalTimestamp", required: false),
            SentAt = d.Instant("sentAt", required: false),
            ReceivedAt = d.Instant("receivedAt", required: false),
            Timestamp = d.Instant("timestamp", required: false),
            UserId = d.Text("userId", required: false, maxLength: 256),
            AnonymousId = d.Text("anonymousId", required: false, maxLength: 256),
            Context = d.FreeText("context", required: false, maxLength: JsonTextMax),
            Properties = d.FreeText("properties", required: false, maxLength: JsonTextMax),
        };
        d.RejectUndefined();
        return d.Errors.Any ? null : call.MapPersonal(text => text is null ? null : seal(text));
    }
}

// Touchpoints that arrive through the Segment tracking API and have no moment of truth behind them: page and screen
// views, events our catalogue does not know, identify/alias/group calls. They live on the journey with the rest and
// never count as moments of truth. Each keeps its call (above) like any touchpoint from /v1/*; what is here are each
// kind's own fields.

/// <summary>A `track` call whose event name our catalogue does not map: kept with its name (its properties, sealed, on the touchpoint).</summary>
public sealed record EventTracked : Touchpoint
{
    public required string Name { get; init; }
}

/// <summary>A `page` (web) or `screen` (app) call; its properties (url, path, referrer, title, search: URLs often carry personal data) sealed on the touchpoint.</summary>
public sealed record PageViewed : Touchpoint
{
    /// <summary>"page" or "screen".</summary>
    public required string View { get; init; }
    public string? Name { get; init; }
    public string? Category { get; init; }
}

/// <summary>A `group` call: the account (company, household) the customer belongs to.</summary>
public sealed record AccountGrouped : Touchpoint
{
    public required string GroupId { get; init; }
    [PersonalData] public string? Traits { get; init; }
}

/// <summary>An `identify` call: the traits and identifiers it carried, for identity resolution to link profiles.</summary>
public sealed record IdentityRecorded : Touchpoint
{
    [PersonalData] public string? Traits { get; init; }
}

/// <summary>An `alias` call: the source says <see cref="PreviousId"/> and the call's user id are one person.</summary>
public sealed record IdentitiesAliased : Touchpoint
{
    [PersonalData] public required string PreviousId { get; init; }
}

/// <summary>How the touchpoint catalogue reads the tracked kinds' own `data` (the Tracking slice writes it, see SegmentCalls).</summary>
public static partial class TrackedKinds
{
    public static EventTracked? ReadEventTracked(FieldReader d) =>
        d.Text("name") is { } name ? new EventTracked { Name = name } : null;

    public static PageViewed? ReadPageViewed(FieldReader d)
    {
        var view = d.Text("view", pattern: ViewPattern(), patternHint: "must be page or screen.");
        var name = d.Text("name", required: false);
        var category = d.Text("category", required: false);
        return view is null ? null : new PageViewed { View = view, Name = name, Category = category };
    }

    public static AccountGrouped? ReadAccountGrouped(FieldReader d, TouchpointCatalogue.Sealer seal)
    {
        var groupId = d.Text("groupId");
        var traits = d.FreeText("traits", required: false, maxLength: TrackedCall.JsonTextMax);
        return groupId is null ? null : new AccountGrouped { GroupId = groupId, Traits = Sealed(traits, seal) };
    }

    public static IdentityRecorded? ReadIdentityRecorded(FieldReader d, TouchpointCatalogue.Sealer seal) =>
        new() { Traits = Sealed(d.FreeText("traits", required: false, maxLength: TrackedCall.JsonTextMax), seal) };

    public static IdentitiesAliased? ReadIdentitiesAliased(FieldReader d, TouchpointCatalogue.Sealer seal) =>
        d.Text("previousId", maxLength: 256) is { } previousId ? new IdentitiesAliased { PreviousId = seal(previousId) } : null;

    [System.Text.RegularExpressions.GeneratedRegex("^(page|screen)$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex ViewPattern();

    private static string? Sealed(string? text, TouchpointCatalogue.Sealer seal) => text is null ? null : seal(text);
}
