using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CustomerJourney.Tests.Support;

public sealed record Answer(int Status, JsonNode? Body, HttpResponseMessage Response)
{
    public string? ContentType => Response.Content.Headers.ContentType?.MediaType;
}

/// <summary>How a test request authenticates: a bearer token, an API key, or nothing.</summary>
public sealed record Credentials(string? Bearer = null, string? ApiKey = null)
{
    public static readonly Credentials None = new();

    public static Credentials Token(string token) => new(Bearer: token);

    public static Credentials Key(string key) => new(ApiKey: key);

    public void Apply(HttpRequestMessage request)
    {
        if (Bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Bearer);
        }

        if (ApiKey is not null)
        {
            request.Headers.Add("X-Api-Key", ApiKey);
        }
    }
}

/// <summary>
/// Small HTTP helpers over the test host's client; each returns the status and the parsed body. Unless told
/// otherwise, writes authenticate with the API key of the body's source and reads as an agent.
/// </summary>
public static class ApiCalls
{
    public static async Task<Answer> PostTouchpoint(this ServiceHost app, string customerId, JsonNode body, Credentials? credentials = null) =>
        await app.Send(HttpMethod.Post, $"/api/customers/{Uri.EscapeDataString(customerId)}/touchpoints", body.ToJsonString(), "application/json",
            credentials ?? Credentials.Key(await app.KeyFor(SourceOf(body))));

    public static async Task<Answer> PostBatch(this ServiceHost app, IEnumerable<JsonNode> items, Credentials? credentials = null)
    {
        var array = new JsonArray(items.Select(i => i.DeepClone()).ToArray());
        return await app.Send(HttpMethod.Post, "/api/touchpoints/batch", array.ToJsonString(), "application/json",
            credentials ?? Credentials.Key(await app.KeyFor(array.Count > 0 ? SourceOf(array[0]!) : AppFixture.DefaultSource)));
    }

    public static async Task<Answer> PostNdJson(this ServiceHost app, string body) =>
        await app.Send(HttpMethod.Post, "/api/touchpoints/batch", body, "application/x-ndjson", Credentials.Key(await app.KeyFor(AppFixture.DefaultSource)));

    public static Task<Answer> Get(this ServiceHost app, string url, Credentials? credentials = null) =>
        app.Send(HttpMethod.Get, url, null, null, credentials ?? Credentials.Token(app.Token("test-agent", "agent")));

    private static string SourceOf(JsonNode body) =>
        body is JsonObject o && o["source"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : AppFixture.DefaultSource;

    public static async Task<Answer> Send(this ServiceHost app, HttpMethod method, string url, string? body, string? contentType, Credentials? credentials = null)
    {
        var (response, text) = await app.Exchange(method, url, body, contentType, credentials ?? (method == HttpMethod.Get
            ? Credentials.Token(app.Token("test-agent", "agent"))
            : Credentials.Key(await app.KeyFor(AppFixture.DefaultSource))));
        JsonNode? parsed = null;
        if (text.Length > 0 && response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) == true)
        {
            parsed = JsonNode.Parse(text);
        }

        return new Answer((int)response.StatusCode, parsed, response);
    }

    /// <summary>One request as it goes over the wire: the response and its body as text, nothing parsed.</summary>
    public static async Task<(HttpResponseMessage Response, string Text)> Exchange(this ServiceHost app, HttpMethod method, string url, string? body,
        string? contentType, Credentials credentials)
    {
        using var client = app.Host.Server.CreateClient();
        using var request = new HttpRequestMessage(method, url);
        credentials.Apply(request);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = contentType is null ? null : MediaTypeHeaderValue.Parse(contentType);
        }

        var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        return (response, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    public static async Task<Answer> SendBytes(this ServiceHost app, string url, byte[] body, string contentType)
    {
        using var client = app.Host.Server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        Credentials.Key(await app.KeyFor(AppFixture.DefaultSource)).Apply(request);
        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new Answer((int)response.StatusCode, text.Length > 0 && text.TrimStart().StartsWith('{') ? JsonNode.Parse(text) : null, response);
    }

    public static int Int(this JsonNode? node, string name) => node![name]!.GetValue<int>();

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);
}
