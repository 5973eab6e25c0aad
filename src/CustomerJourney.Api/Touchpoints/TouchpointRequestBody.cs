using System.Text.Json;
using CustomerJourney.Infrastructure;
using Microsoft.AspNetCore.Http.Features;

namespace CustomerJourney.Touchpoints;

/// <summary>Reads a request body within a byte limit and parses it, answering 413/400 problems otherwise (the media type is RequestMediaTypes' rule).</summary>
public static class TouchpointRequestBody
{
    public static readonly JsonDocumentOptions ParseOptions = new()
    {
        MaxDepth = 32,
        AllowDuplicateProperties = false,
    };

    /// <summary>Parses JSON, reporting every way it can be unreadable as a <see cref="JsonException"/>.</summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> json)
    {
        try
        {
            return JsonDocument.Parse(json, ParseOptions);
        }
        catch (InvalidOperationException e)
        {
            // The duplicate-property check unescapes names and throws this for an escaped lone surrogate.
            throw new JsonException("A property name is not valid Unicode text.", e);
        }
    }

    /// <summary>
    /// Parses one value (a batch's item or an NDJSON line) into arrays of its own size, reporting every way it can be
    /// unreadable as a <see cref="JsonException"/>. Nothing to dispose; what it rents from the shared array pool while
    /// parsing is the size of the value, and returned.
    /// </summary>
    public static JsonElement ParseValue(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonElement.Parse(json, ParseOptions);
        }
        catch (InvalidOperationException e)
        {
            throw new JsonException("A property name is not valid Unicode text.", e);
        }
    }

    /// <summary>
    /// Parses a batch body value by value: the items of the array at its root (<paramref name="itemsProperty"/> null) or
    /// of its root object's <paramref name="itemsProperty"/>, each parsed on its own by <see cref="ParseValue"/>, and the
    /// root object's other properties. What <see cref="Parse"/> accepts and refuses is accepted and refused (depth,
    /// duplicate and unreadable names, trailing content): the reader checks the whole, each item is parsed as one
    /// document would parse it, and the root object without its items is parsed as one document. Why not one document
    /// of the whole: <c>JsonDocument.Parse</c> rents an index of the whole body from the shared array pool (1 MiB for a
    /// 783 KiB batch), and the pool keeps such arrays, once returned, per thread and per core.
    /// </summary>
    public static SplitBody ParseSplit(ReadOnlyMemory<byte> json, string? itemsProperty)
    {
        var reader = new Utf8JsonReader(json.Span, new JsonReaderOptions { MaxDepth = ParseOptions.MaxDepth });
        try
        {
            if (!reader.Read())
            {
                throw new JsonException("The body is empty.");
            }

            var kind = KindOf(reader.TokenType);
            if (itemsProperty is null && kind == JsonValueKind.Array)
            {
                var items = ReadItems(ref reader, json.Span);
                reader.Read(); // throws on anything after the root value
                return new SplitBody(kind, items, new Dictionary<string, JsonElement>());
            }

            if (itemsProperty is not null && kind == JsonValueKind.Object)
            {
                List<JsonElement>? items = null;
                var (arrayStart, arrayEnd) = (0, 0);
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isItems = items is null && reader.ValueTextEquals(itemsProperty);
                    reader.Read();
                    if (isItems && reader.TokenType == JsonTokenType.StartArray)
                    {
                        arrayStart = (int)reader.TokenStartIndex;
                        items = ReadItems(ref reader, json.Span);
                        arrayEnd = (int)reader.BytesConsumed;
                    }
                    else
                    {
                        reader.Skip();
                    }
                }

                reader.Read(); // throws on anything after the root value
                var rest = items is null ? json : Concat(json[..arrayStart], EmptyArray, json[arrayEnd..]);
                using var envelope = Parse(rest);
                var properties = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
                foreach (var property in envelope.RootElement.EnumerateObject())
                {
                    if (ReadableName(property) is { } name && !(name == itemsProperty && items is not null))
                    {
                        properties[name] = property.Value.Clone();
                    }
                }

                return new SplitBody(kind, items, properties);
            }

            // Not a batch's shape: one document says whether it is JSON at all.
            using var _ = Parse(json);
            return new SplitBody(kind, null, new Dictionary<string, JsonElement>());
        }
        catch (InvalidOperationException e)
        {
            throw new JsonException("A property name is not valid Unicode text.", e);
        }
    }

    private static readonly byte[] EmptyArray = "[]"u8.ToArray();

    private static ReadOnlyMemory<byte> Concat(ReadOnlyMemory<byte> a, ReadOnlyMemory<byte> b, ReadOnlyMemory<byte> c)
    {
        var all = new byte[a.Length + b.Length + c.Length];
        a.CopyTo(all);
        b.CopyTo(all.AsMemory(a.Length));
        c.CopyTo(all.AsMemory(a.Length + b.Length));
        return all;
    }

    /// <summary>A name one document lets through although it is not valid Unicode (an escaped lone surrogate) cannot be looked up.</summary>
    private static string? ReadableName(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static List<JsonElement> ReadItems(ref Utf8JsonReader reader, ReadOnlySpan<byte> json)
    {
        var items = new List<JsonElement>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            items.Add(ReadValue(ref reader, json));
        }

        return items;
    }

    /// <summary>The value the reader stands on, parsed on its own; the reader is left on its last token.</summary>
    private static JsonElement ReadValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> json)
    {
        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        return ParseValue(json[start..(int)reader.BytesConsumed]);
    }

    private static JsonValueKind KindOf(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => JsonValueKind.Object,
        JsonTokenType.StartArray => JsonValueKind.Array,
        JsonTokenType.String => JsonValueKind.String,
        JsonTokenType.Number => JsonValueKind.Number,
        JsonTokenType.True => JsonValueKind.True,
        JsonTokenType.False => JsonValueKind.False,
        _ => JsonValueKind.Null,
    };

    public static IResult TooLarge(string detail) => Results.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request too large", detail: detail);

    public static IResult InvalidJson(JsonException e) => Results.Problem(
        statusCode: StatusCodes.Status400BadRequest,
        title: "Invalid JSON",
        detail: $"The body is not valid JSON: {e.Message}");

    /// <summary>The body, or null when it exceeds <paramref name="maxBytes"/>.</summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, long maxBytes, CancellationToken cancellation)
    {
        // We enforce our own, endpoint-specific limit below; the server-wide default (30 MB) would cut the
        // 32 MiB batch short with a less helpful error.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes + 1;
        }

        return await BoundedBody.ReadAsync(request.Body, request.ContentLength, maxBytes, cancellation);
    }
}

/// <summary>
/// A batch body parsed value by value (<see cref="TouchpointRequestBody.ParseSplit"/>): the kind of its root, the items of
/// its array (null when there is none where one was looked for) and its root object's other properties.
/// </summary>
public sealed record SplitBody(JsonValueKind Kind, IReadOnlyList<JsonElement>? Items, IReadOnlyDictionary<string, JsonElement> Properties);
