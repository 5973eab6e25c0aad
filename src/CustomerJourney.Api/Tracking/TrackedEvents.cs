using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.TrackingApi;

// Touchpoints that arrive through the Segment tracking API (/v1/*) and have no moment of truth behind them: page and
// screen views, events our catalogue does not know, identify/alias/group calls. They live on the journey with the
// rest, never count as moments of truth, and keep what the call carried. Everything a customer may have typed or that
// identifies them (ids as sent, ip, traits, the properties of an unknown event) is sealed with the customer's key.

/// <summary>What every tracked call keeps: Segment's four times, the ids as the source sent them, and its context.</summary>
public abstract record TrackedTouchpoint : Touchpoint
{
    /// <summary>The client's clock when the call was made (Segment's originalTimestamp).</summary>
    public DateTimeOffset? OriginalTimestamp { get; init; }

    /// <summary>The client's clock when the call was sent (item-level, else batch-level sentAt).</summary>
    public DateTimeOffset? SentAt { get; init; }

    /// <summary>Our clock when the call arrived.</summary>
    public DateTimeOffset? ReceivedAt { get; init; }

    /// <summary>The timestamp the source set, as sent (OccurredAt is the business time derived from it).</summary>
    public DateTimeOffset? Timestamp { get; init; }

    [PersonalData] public string? UserId { get; init; }
    [PersonalData] public string? AnonymousId { get; init; }

    /// <summary>The call's context (ip, userAgent, locale, page, campaign, device, os, app, library, traits) as JSON.</summary>
    [PersonalData] public string? Context { get; init; }

    /// <summary>A copy with <paramref name="map"/> applied to every personal field (sealing, opening, redacting).</summary>
    public TrackedTouchpoint MapPersonal(Func<string?, string?> map) => MapOwn(map) with
    {
        UserId = map(UserId),
        AnonymousId = map(AnonymousId),
        Context = map(Context),
    };

    protected abstract TrackedTouchpoint MapOwn(Func<string?, string?> map);
}

/// <summary>A `track` call whose event name our catalogue does not map: kept with its name and (sealed) properties.</summary>
public sealed record EventTracked : TrackedTouchpoint
{
    public required string Name { get; init; }
    [PersonalData] public string? Properties { get; init; }

    protected override TrackedTouchpoint MapOwn(Func<string?, string?> map) => this with { Properties = map(Properties) };
}

/// <summary>A `page` (web) or `screen` (app) call.</summary>
public sealed record PageViewed : TrackedTouchpoint
{
    /// <summary>"page" or "screen".</summary>
    public required string View { get; init; }
    public string? Name { get; init; }
    public string? Category { get; init; }

    /// <summary>url, path, referrer, title, search...: URLs often carry personal data, so sealed.</summary>
    [PersonalData] public string? Properties { get; init; }

    protected override TrackedTouchpoint MapOwn(Func<string?, string?> map) => this with { Properties = map(Properties) };
}

/// <summary>A `group` call: the account (company, household) the customer belongs to.</summary>
public sealed record AccountGrouped : TrackedTouchpoint
{
    public required string GroupId { get; init; }
    [PersonalData] public string? Traits { get; init; }

    protected override TrackedTouchpoint MapOwn(Func<string?, string?> map) => this with { Traits = map(Traits) };
}

/// <summary>An `identify` call: the traits and identifiers it carried, for identity resolution to link profiles.</summary>
public sealed record IdentityRecorded : TrackedTouchpoint
{
    [PersonalData] public string? Traits { get; init; }

    protected override TrackedTouchpoint MapOwn(Func<string?, string?> map) => this with { Traits = map(Traits) };
}

/// <summary>An `alias` call: the source says <see cref="PreviousId"/> and the call's user id are one person.</summary>
public sealed record IdentitiesAliased : TrackedTouchpoint
{
    [PersonalData] public required string PreviousId { get; init; }

    protected override TrackedTouchpoint MapOwn(Func<string?, string?> map) => this with { PreviousId = map(PreviousId)! };
}

/// <summary>How the touchpoint catalogue reads the tracked kinds' `data` (the Tracking slice writes it, see SegmentCalls).</summary>
public static partial class TrackedKinds
{
    /// <summary>JSON text of an object the call carried (properties, traits, context); up to a whole call's size.</summary>
    private const int JsonTextMax = 512 * 1024;

    public static EventTracked? ReadEventTracked(FieldReader d, TouchpointCatalogue.Sealer seal)
    {
        var name = d.Text("name");
        var properties = d.FreeText("properties", required: false, maxLength: JsonTextMax);
        return Common(d, seal, name is null ? null : new EventTracked { Name = name, Properties = Sealed(properties, seal) });
    }

    public static PageViewed? ReadPageViewed(FieldReader d, TouchpointCatalogue.Sealer seal)
    {
        var view = d.Text("view", pattern: ViewPattern(), patternHint: "must be page or screen.");
        var name = d.Text("name", required: false);
        var category = d.Text("category", required: false);
        var properties = d.FreeText("properties", required: false, maxLength: JsonTextMax);
        return Common(d, seal, view is null ? null : new PageViewed { View = view, Name = name, Category = category, Properties = Sealed(properties, seal) });
    }

    public static AccountGrouped? ReadAccountGrouped(FieldReader d, TouchpointCatalogue.Sealer seal)
    {
        var groupId = d.Text("groupId");
        var traits = d.FreeText("traits", required: false, maxLength: JsonTextMax);
        return Common(d, seal, groupId is null ? null : new AccountGrouped { GroupId = groupId, Traits = Sealed(traits, seal) });
    }

    public static IdentityRecorded? ReadIdentityRecorded(FieldReader d, TouchpointCatalogue.Sealer seal)
    {
        var traits = d.FreeText("traits", required: false, maxLength: JsonTextMax);
        return Common(d, seal, new IdentityRecorded { Traits = Sealed(traits, seal) });
    }

    public static IdentitiesAliased? ReadIdentitiesAliased(FieldReader d, TouchpointCatalogue.Sealer seal)
    {
        var previousId = d.Text("previousId", maxLength: 256);
        return Common(d, seal, previousId is null ? null : new IdentitiesAliased { PreviousId = seal(previousId) });
    }

    [System.Text.RegularExpressions.GeneratedRegex("^(page|screen)$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex ViewPattern();

    private static T? Common<T>(FieldReader d, TouchpointCatalogue.Sealer seal, T? touchpoint) where T : TrackedTouchpoint
    {
        TrackedTouchpoint? read = touchpoint;
        var originalTimestamp = d.Instant("originalTimestamp", required: false);
        var sentAt = d.Instant("sentAt", required: false);
        var receivedAt = d.Instant("receivedAt", required: false);
        var timestamp = d.Instant("timestamp", required: false);
        var userId = d.Text("userId", required: false, maxLength: 256);
        var anonymousId = d.Text("anonymousId", required: false, maxLength: 256);
        var context = d.FreeText("context", required: false, maxLength: JsonTextMax);
        return read is null || d.Errors.Any
            ? null
            : (T)(read with
            {
                OriginalTimestamp = originalTimestamp,
                SentAt = sentAt,
                ReceivedAt = receivedAt,
                Timestamp = timestamp,
                UserId = Sealed(userId, seal),
                AnonymousId = Sealed(anonymousId, seal),
                Context = Sealed(context, seal),
            });
    }

    private static string? Sealed(string? text, TouchpointCatalogue.Sealer seal) => text is null ? null : seal(text);
}
