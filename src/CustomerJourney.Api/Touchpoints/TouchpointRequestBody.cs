using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace CustomerJourney.Touchpoints;

/// <summary>Reads a request body within a byte limit and checks its media type, answering 413/415 problems otherwise.</summary>
public static class TouchpointRequestBody
{
    public const string Json = "application/json";
    public const string NdJson = "application/x-ndjson";

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

    /// <summary>The media type (json or ndjson) if acceptable, else null.</summary>
    public static string? MediaType(HttpRequest request, bool allowNdJson)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type) || type.MediaType.Value is not { } media)
        {
            return null;
        }

        if (type.Charset.HasValue && !type.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (media.Equals(Json, StringComparison.OrdinalIgnoreCase) || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase))
        {
            return Json;
        }

        return allowNdJson && media.Equals(NdJson, StringComparison.OrdinalIgnoreCase) ? NdJson : null;
    }

    public static IResult UnsupportedMediaType(bool allowNdJson) => Results.Problem(
        statusCode: StatusCodes.Status415UnsupportedMediaType,
        title: "Unsupported media type",
        detail: allowNdJson
            ? "Send the batch as application/json (an array) or application/x-ndjson (one touchpoint per line), in UTF-8."
            : "Send the touchpoint as application/json in UTF-8.");

    public static IResult TooLarge(string detail) => Results.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request too large", detail: detail);

    public static IResult InvalidJson(JsonException e) => Results.Problem(
        statusCode: StatusCodes.Status400BadRequest,
        title: "Invalid JSON",
        detail: $"The body is not valid JSON: {e.Message}");

    /// <summary>The body, or null when it exceeds <paramref name="maxBytes"/>.</summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, long maxBytes, CancellationToken cancellation)
    {
        if (request.ContentLength > maxBytes)
        {
            return null;
        }

        // We enforce our own, endpoint-specific limit below; the server-wide default (30 MB) would cut the
        // 32 MiB batch short with a less helpful error.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes + 1;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellation)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
