using Microsoft.AspNetCore.Mvc;

namespace CustomerJourney.WebConsole;

/// <summary>What an API endpoint's code answered a page: its value, or the problem it would have sent over HTTP.</summary>
public sealed record ApiAnswer<T>(T? Value, ProblemDetails? Problem) where T : class;

public static class ApiAnswers
{
    public static ApiAnswer<T> Of<T>(IResult result) where T : class => result switch
    {
        IValueHttpResult { Value: ProblemDetails problem } => new ApiAnswer<T>(null, problem),
        IValueHttpResult { Value: T value } => new ApiAnswer<T>(value, null),
        IStatusCodeHttpResult { StatusCode: { } status } => new ApiAnswer<T>(null, new ProblemDetails { Status = status, Title = $"The service answered {status}" }),
        _ => throw new InvalidOperationException($"The endpoint answered {result.GetType().Name}, which the console does not read as {typeof(T).Name}."),
    };
}

/// <summary>
/// Pages call the API's own endpoint methods, so a page shows exactly what the API answers (validation, redaction,
/// as-of replay included). The endpoints read their parameters from a request's query string; a page builds that
/// query from its own fields here, for the signed-in person.
/// </summary>
public static class ApiCalls
{
    public static HttpRequest Query(HttpContext page, params (string Name, string? Value)[] parameters)
    {
        var call = new DefaultHttpContext { RequestServices = page.RequestServices, User = page.User };
        call.Request.Query = new QueryCollection(parameters.Where(p => p.Value is not null)
            .GroupBy(p => p.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => new Microsoft.Extensions.Primitives.StringValues([.. g.Select(p => p.Value)]), StringComparer.Ordinal));
        return call.Request;
    }

    public static async Task<ApiAnswer<T>> Answer<T>(Task<IResult> call) where T : class => ApiAnswers.Of<T>(await call);
}

/// <summary>A request carrying a JSON body, for the endpoints that read theirs from the request (API keys, erasure).</summary>
public static class ApiBodies
{
    public static HttpRequest Json(HttpContext page, object body)
    {
        var call = new DefaultHttpContext { RequestServices = page.RequestServices, User = page.User };
        var bytes = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(body, System.Text.Json.JsonSerializerOptions.Web);
        call.Request.Method = HttpMethods.Post;
        call.Request.ContentType = "application/json; charset=utf-8";
        call.Request.ContentLength = bytes.Length;
        call.Request.Body = new MemoryStream(bytes);
        return call.Request;
    }
}
