using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Wolverine.Http;

namespace CustomerJourney.Infrastructure;

/// <summary>
/// The one rule for request bodies that Wolverine binds to a type (a command record), applied before the endpoint
/// runs. Left to itself, Wolverine answers a body it cannot bind with a 400 that names no field (and a bare 400 for
/// some failures) and reads bodies of any size. Here the body is read within <see cref="MaxBytes"/> (413 beyond),
/// parsed with duplicate names refused (400 "Invalid JSON"), and bound with the service's JSON options, which refuse
/// undefined members; a member that is undefined, of the wrong type or not valid Unicode text answers a 400 problem
/// whose <c>errors</c> name it. An empty body reads as <c>{}</c>, so a command whose members are all optional may be
/// sent without one. The bytes read are handed on, so Wolverine binds the same body again.
/// </summary>
public static class TypedJsonBodies
{
    public const long MaxBytes = 1024 * 1024;
    public const int MaxDepth = 32;

    public static WebApplication UseTypedJsonBodies(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<HttpChain>() is { HasRequestType: true, RequestType: { } type } &&
                !HttpMethods.IsGet(context.Request.Method) && await CheckAsync(context, type) is { } problem)
            {
                await problem.ExecuteAsync(context);
                return;
            }

            await next(context);
        });
        return app;
    }

    private static async Task<IResult?> CheckAsync(HttpContext context, Type type)
    {
        var request = context.Request;
        if (await ReadAsync(request, context.RequestAborted) is not { } bytes)
        {
            return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request too large",
                detail: $"A request body may be at most {MaxBytes} bytes.");
        }

        if (bytes.Length == 0 || bytes.AsSpan().IndexOfAnyExcept(" \t\r\n"u8) < 0)
        {
            bytes = "{}"u8.ToArray();
            request.ContentType = RequestMediaTypes.Json + "; charset=utf-8";
        }

        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = MaxDepth, AllowDuplicateProperties = false });
            var options = context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
            try
            {
                // A JSON null binds to a null command, which no endpoint expects.
                if (document.RootElement.Deserialize(type, options) is null)
                {
                    return Refused("$", "must be a JSON object with the fields this request defines.");
                }
            }
            catch (JsonException e)
            {
                return Refused(FieldOf(e.Path), Reason(e));
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: the duplicate-name check unescapes names, and a lone surrogate cannot be unescaped.
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid JSON",
                detail: $"The body is not valid JSON: {(e is JsonException ? e.Message : "a property name is not valid Unicode text.")}");
        }

        request.Body = new MemoryStream(bytes, writable: false);
        request.ContentLength = bytes.Length;
        return null;
    }

    private static IResult Refused(string field, string reason) => Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [reason] },
        title: "Invalid request", detail: "Nothing was recorded; see errors for the field.");

    /// <summary>"$.reason" -> "reason", "$.orderIds[2]" -> "orderIds[2]", "$" (the body itself) stays "$".</summary>
    public static string FieldOf(string? path) =>
        path is null or "$" ? "$" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;

    /// <summary>Why binding refused the member a <see cref="JsonException"/> names, as the client reads it.</summary>
    public static string Reason(JsonException e) =>
        e.Message.Contains("could not be mapped", StringComparison.Ordinal) ? "is not a defined field."
        : e.Message.Contains("UTF-16", StringComparison.Ordinal) || e.Message.Contains("surrogate", StringComparison.OrdinalIgnoreCase) ? "is not valid Unicode text."
        : e.Path is null or "$" ? "must be a JSON object with the fields this request defines."
        : "has the wrong type for this field.";

    /// <summary>The body, or null when it exceeds <see cref="MaxBytes"/>.</summary>
    private static async Task<byte[]?> ReadAsync(HttpRequest request, CancellationToken cancellation)
    {
        if (request.ContentLength > MaxBytes)
        {
            return null;
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBytes + 1;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16384];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellation)) > 0)
        {
            if (buffer.Length + read > MaxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
