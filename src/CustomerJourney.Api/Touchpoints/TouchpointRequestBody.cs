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
