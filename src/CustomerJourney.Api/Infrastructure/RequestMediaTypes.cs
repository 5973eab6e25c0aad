using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace CustomerJourney.Infrastructure;

/// <summary>Endpoint metadata: media types an endpoint reads besides JSON.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AlsoReadsAttribute(params string[] mediaTypes) : Attribute
{
    public IReadOnlyList<string> MediaTypes { get; } = mediaTypes;
}

/// <summary>
/// The one rule for request bodies, applied to every endpoint before it runs: JSON (or a +json type), or a type
/// the endpoint declares with <see cref="AlsoReadsAttribute"/>, in UTF-8. Anything else is a 415 problem, so no
/// endpoint reads a body it cannot decode, and none can forget the check.
/// </summary>
public static class RequestMediaTypes
{
    public const string Json = "application/json";
    public const string NdJson = "application/x-ndjson";

    /// <summary>The media type the body is read as (<see cref="Json"/> or one of <paramref name="alsoReads"/>), or null when not acceptable.</summary>
    public static string? Accepted(string? contentType, IReadOnlyList<string> alsoReads)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var type) || type.MediaType.Value is not { } media)
        {
            return null;
        }

        // RFC 9110: a parameter value may be quoted, and charset names are case-insensitive; charset="UTF-8" is UTF-8.
        if (type.Charset.HasValue && !HeaderUtilities.RemoveQuotes(type.Charset).Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (media.Equals(Json, StringComparison.OrdinalIgnoreCase) || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase))
        {
            return Json;
        }

        return alsoReads.FirstOrDefault(a => media.Equals(a, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>After authorization, so a caller who may not call the endpoint learns nothing from its media types.</summary>
    public static WebApplication UseRequestMediaTypes(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (context.GetEndpoint() is RouteEndpoint endpoint && HasBody(context.Request))
            {
                var alsoReads = endpoint.Metadata.GetMetadata<AlsoReadsAttribute>()?.MediaTypes ?? [];
                if (Accepted(context.Request.ContentType, alsoReads) is not { } media)
                {
                    await Unsupported(alsoReads).ExecuteAsync(context);
                    return;
                }

                // One spelling downstream: the framework's JSON binding looks a charset up by name, and fails on a quoted one.
                context.Request.ContentType = $"{media}; charset=utf-8";
            }

            await next(context);
        });
        return app;
    }

    private static bool HasBody(HttpRequest request) =>
        request.ContentLength != 0 &&
        (request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody
         ?? (request.ContentLength > 0 || request.Headers.ContainsKey(HeaderNames.TransferEncoding)));

    private static IResult Unsupported(IReadOnlyList<string> alsoReads) => Results.Problem(
        statusCode: StatusCodes.Status415UnsupportedMediaType,
        title: "Unsupported media type",
        detail: $"Send the body as {string.Join(" or ", alsoReads.Prepend(Json))}, in UTF-8.");
}
