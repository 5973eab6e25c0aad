using Microsoft.AspNetCore.Http;

namespace CustomerJourney.Tests.Support;

/// <summary>What the loopback relays (the browser tests' and the Node SDK tests') share: a received request, re-sent to the in-process test host.</summary>
public static class RelayRequests
{
    /// <summary>The request as the test host's client sends it: same method, path, query, body and headers; the Host is left to the client.</summary>
    public static async Task<HttpRequestMessage> ForHostAsync(HttpContext context, string origin)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var forward = new HttpRequestMessage(new HttpMethod(context.Request.Method), origin + context.Request.Path + context.Request.QueryString)
        {
            Content = new ByteArrayContent(body.ToArray()),
        };
        foreach (var header in context.Request.Headers)
        {
            if (!forward.Headers.TryAddWithoutValidation(header.Key, header.Value.ToArray()))
            {
                forward.Content.Headers.TryAddWithoutValidation(header.Key, header.Value.ToArray());
            }
        }

        forward.Headers.Host = null;
        return forward;
    }
}
