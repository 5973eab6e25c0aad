using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.TrackingApi;

/// <summary>What a batch gives every item that lacks its own: the batch's context (merged, the item's keys win) and sentAt.</summary>
public sealed record BatchDefaults(JsonObject? Context, DateTimeOffset? SentAt)
{
    public static readonly BatchDefaults None = new(null, null);

    /// <summary>The batch's own `context` and `sentAt`, from the body's properties other than its calls.</summary>
    public static BatchDefaults Read(IReadOnlyDictionary<string, JsonElement> batch, FieldErrors errors)
    {
        var own = new JsonObject();
        foreach (var name in (ReadOnlySpan<string>)["context", "sentAt"])
        {
            if (batch.TryGetValue(name, out var value))
            {
                own[name] = SegmentCalls.NodeOf(value);
            }
        }

        return new BatchDefaults(SegmentCalls.Object(own, "context", errors), SegmentCalls.Instant(own, "sentAt", errors));
    }
}

/// <summary>
/// One Segment call read as our touchpoint JSON (for the ingestion pipeline and its intake), or why it cannot be; with
/// the consent statements its context.consent makes (also touchpoint JSON), and what an administrator may see of it
/// (type, messageId, event name; no personal values).
/// </summary>
public sealed record TranslatedCall(JsonObject? Touchpoint, FieldErrors Errors, string? Type, string? MessageId, string? Event)
{
    public IReadOnlyList<JsonObject> Consents { get; init; } = [];
}

/// <summary>
/// Turns Segment tracking calls into touchpoints. Pure: the receive time, the source and the pseudonyms come in as
/// arguments. Only the call's own shape is checked here (a type, an id, a track's event, readable times); the fields it
/// maps onto a catalogue kind are validated by <see cref="TouchpointIntake"/>, as for our own API. Fields Segment's
/// SDKs add that we do not use (_metadata, integrations, context.library...) are accepted and ignored, as Segment does.
/// </summary>
public static class SegmentCalls
{
    public static readonly IReadOnlyList<string> Types = ["track", "identify", "page", "screen", "group", "alias"];

    /// <param name="call">The call as sent.</param>
    /// <param name="type">The type from the route (/v1/track...), or null for a batch item, which names its own.</param>
    /// <param name="defaults">The batch's context and sentAt.</param>
    /// <param name="source">The write key's source.</param>
    /// <param name="receivedAt">Our clock when the request arrived.</param>
    /// <param name="pseudonyms">User ids to customer ids.</param>
    /// <param name="options">Channel table and defaults.</param>
    public static TranslatedCall Translate(JsonElement call, string? type, BatchDefaults defaults, string source, DateTimeOffset receivedAt,
        Pseudonyms pseudonyms, TrackingOptions options)
    {
        var errors = new FieldErrors();
        if (call.ValueKind != JsonValueKind.Object)
        {
            errors.Add("$", "a call must be a JSON object.");
            return new TranslatedCall(null, errors, type, null, null);
        }

        var node = NodeOf(call)!.AsObject();
        type ??= Text(node, "type", errors, required: true);
        if (type is not null && !Types.Contains(type))
        {
            errors.Add("type", $"must be one of: {string.Join(", ", Types)}.");
            type = null;
        }

        var messageId = Text(node, "messageId", errors, maxLength: 256);
        var userId = Id(node, "userId", errors);
        var anonymousId = Id(node, "anonymousId", errors);
        if (userId is null && anonymousId is null && !errors.Any)
        {
            errors.Add("userId", "a call needs a userId or an anonymousId.");
        }

        var eventName = type == "track" ? Text(node, "event", errors, required: true) : null;
        var originalTimestamp = Instant(node, "originalTimestamp", errors);
        var timestamp = Instant(node, "timestamp", errors);
        var sentAt = Instant(node, "sentAt", errors) ?? defaults.SentAt;
        var properties = Object(node, "properties", errors);
        var traits = Object(node, "traits", errors);
        var context = Merge(defaults.Context, Object(node, "context", errors));
        var consents = SegmentConsent.Read(context, options, errors);
        if (errors.Any || type is null)
        {
            return new TranslatedCall(null, errors, type, messageId, eventName);
        }

        var occurredAt = BusinessTime(timestamp, originalTimestamp, sentAt, receivedAt);
        var channel = ChannelOf(node["channel"], options);
        string kind;
        JsonObject data;
        JsonObject? rest = properties;
        if (type == "track" && SegmentMapping.Events.TryGetValue(eventName!, out var mapped))
        {
            kind = mapped.Kind;
            rest = properties?.DeepClone().AsObject() ?? [];
            data = mapped.Data(rest, options);
            // A source that knows the channel better (a call centre's system: phone) says so in properties.channel.
            if (rest["channel"] is JsonValue ours && ours.TryGetValue<string>(out var name) && TouchpointCatalogue.Channels.ContainsKey(name))
            {
                channel = name;
                rest.Remove("channel");
            }
        }
        else
        {
            (kind, data) = type switch
            {
                "track" => ("event-tracked", new JsonObject { ["name"] = eventName }),
                "page" or "screen" => ("page-viewed", new JsonObject
                {
                    ["view"] = type,
                    ["name"] = node["name"]?.DeepClone(),
                    ["category"] = node["category"]?.DeepClone(),
                }),
                "group" => ("account-grouped", new JsonObject { ["groupId"] = node["groupId"]?.DeepClone(), ["traits"] = JsonText(traits) }),
                "identify" => ("identity-recorded", new JsonObject { ["traits"] = JsonText(traits) }),
                _ => ("identities-aliased", new JsonObject { ["previousId"] = node["previousId"]?.DeepClone() }),
            };
        }

        // What the call carried besides the kind's fields, kept on a touchpoint of any kind (see TrackedCall).
        data["call"] = WithoutNulls(new JsonObject
        {
            ["originalTimestamp"] = Iso(originalTimestamp),
            ["sentAt"] = Iso(sentAt),
            ["receivedAt"] = Iso(receivedAt),
            ["timestamp"] = Iso(timestamp),
            ["userId"] = userId,
            ["anonymousId"] = anonymousId,
            ["context"] = JsonText(context),
            ["properties"] = type is "track" or "page" or "screen" ? JsonText(rest) : null,
        });
        WithoutNulls(data);

        var customerId = pseudonyms.CustomerIdFor(userId ?? anonymousId!);
        // Without a messageId a call cannot be recognised when re-sent; Segment's SDKs always send one.
        var sourceId = messageId ?? $"cj-{Guid.CreateVersion7():N}";
        var touchpoint = new JsonObject
        {
            ["customerId"] = customerId,
            ["kind"] = kind,
            ["occurredAt"] = Iso(occurredAt),
            ["channel"] = channel,
            ["source"] = source,
            ["sourceId"] = sourceId,
            ["data"] = data,
        };
        var statements = consents.Select(c => new JsonObject
        {
            ["customerId"] = customerId,
            ["kind"] = c.Given ? "consent-given" : "consent-withdrawn",
            ["occurredAt"] = Iso(occurredAt),
            ["channel"] = channel,
            ["source"] = source,
            ["sourceId"] = SegmentConsent.SourceId(sourceId, c.Category),
            ["data"] = new JsonObject { ["purpose"] = c.Purpose },
        }).ToList();
        return new TranslatedCall(touchpoint, errors, type, messageId, eventName) { Consents = statements };
    }

    /// <summary>
    /// The business time. A `timestamp` is the source's word for when it happened; but the Node SDKs set it from the client's
    /// clock, so one more than 5 minutes ahead of ours is corrected by the skew the call itself measures (Segment's formula:
    /// receivedAt - (sentAt - timestamp)). Without a timestamp, originalTimestamp corrected the same way; without either, now.
    /// What is still ahead after correction (no sentAt to measure by) is refused by the intake as a future occurredAt.
    /// </summary>
    public static DateTimeOffset BusinessTime(DateTimeOffset? timestamp, DateTimeOffset? originalTimestamp, DateTimeOffset? sentAt, DateTimeOffset receivedAt)
    {
        DateTimeOffset Corrected(DateTimeOffset t) => sentAt is { } sent ? receivedAt - (sent - t) : t;
        return timestamp is { } ts
            ? ts > receivedAt + TouchpointIntake.ClockSkewAllowance ? Corrected(ts) : ts
            : originalTimestamp is { } original ? Corrected(original) : receivedAt;
    }

    /// <summary>The top-level `context` merged into an item's (the item's own keys win), as Segment merges batch context.</summary>
    public static JsonObject? Merge(JsonObject? batch, JsonObject? item)
    {
        if (batch is null)
        {
            return item;
        }

        var merged = batch.DeepClone().AsObject();
        foreach (var (key, value) in item ?? [])
        {
            merged[key] = value?.DeepClone();
        }

        return merged;
    }

    /// <summary>A mutable copy of a parsed value, made from its UTF-8 bytes (not from a UTF-16 string of them).</summary>
    public static JsonNode? NodeOf(JsonElement value) => JsonNode.Parse(JsonMarshal.GetRawUtf8Value(value));

    public static DateTimeOffset? Instant(JsonObject node, string name, FieldErrors errors)
    {
        if (node[name] is null)
        {
            return null;
        }

        if (node[name] is JsonValue v && v.TryGetValue<string>(out var text) && FieldReader.TryParseInstant(text, out var instant))
        {
            return instant;
        }

        errors.Add(name, "must be an ISO 8601 date and time with an offset, e.g. 2024-05-01T10:00:00.000Z.");
        return null;
    }

    public static JsonObject? Object(JsonObject node, string name, FieldErrors errors)
    {
        switch (node[name])
        {
            case null:
                return null;
            case JsonObject o:
                return o;
            default:
                errors.Add(name, "must be a JSON object.");
                return null;
        }
    }

    private static string ChannelOf(JsonNode? segmentChannel, TrackingOptions options) => TouchpointCatalogue.NameOf(
        segmentChannel is JsonValue v && v.TryGetValue<string>(out var name) && options.Channels.TryGetValue(name, out var ours) ? ours : options.DefaultChannel);

    private static string? Text(JsonObject node, string name, FieldErrors errors, bool required = false, int maxLength = FieldReader.ShortTextMax)
    {
        switch (node[name])
        {
            case null when required:
                errors.Add(name, "is required.");
                return null;
            case null:
                return null;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String && FieldReader.StorableString(ElementOf(v), maxLength) is { } text:
                return text;
            default:
                errors.Add(name, $"must be a non-empty string of at most {maxLength} characters without control characters.");
                return null;
        }
    }

    /// <summary>
    /// The value as an element: a parsed call's values already are one (no copy); serialising one costs a 16 KiB buffer, and
    /// a batch reads five texts from each of its hundreds of calls.
    /// </summary>
    private static JsonElement ElementOf(JsonValue value) =>
        value.TryGetValue<JsonElement>(out var element) ? element : JsonSerializer.SerializeToElement(value);

    /// <summary>userId and anonymousId: a string, or a number (some SDKs send numeric ids), as text.</summary>
    private static string? Id(JsonObject node, string name, FieldErrors errors) =>
        node[name] is JsonValue v && v.GetValueKind() == JsonValueKind.Number
            ? v.ToJsonString()
            : node[name] is JsonValue s && s.GetValueKind() == JsonValueKind.String && s.GetValue<string>().Length == 0
                ? null
                : Text(node, name, errors, maxLength: 256);

    private static JsonObject WithoutNulls(JsonObject json)
    {
        foreach (var empty in json.Where(p => p.Value is null).Select(p => p.Key).ToList())
        {
            json.Remove(empty);
        }

        return json;
    }

    private static string? JsonText(JsonObject? value) => value is null || value.Count == 0 ? null : value.ToJsonString();

    private static string? Iso(DateTimeOffset? instant) => instant?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
}
