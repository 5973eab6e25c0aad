using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Alba;

namespace CustomerJourney.Tests.Support;

public sealed record Answer(int Status, JsonNode? Body, HttpResponseMessage Response)
{
    public string? ContentType => Response.Content.Headers.ContentType?.MediaType;
}

/// <summary>Small HTTP helpers over the test host's client; each returns the status and the parsed body.</summary>
public static class ApiCalls
{
    public static Task<Answer> PostTouchpoint(this AppFixture app, string customerId, JsonNode body) =>
        app.Send(HttpMethod.Post, $"/api/customers/{Uri.EscapeDataString(customerId)}/touchpoints", body.ToJsonString(), "application/json");

    public static Task<Answer> PostBatch(this AppFixture app, IEnumerable<JsonNode> items) =>
        app.Send(HttpMethod.Post, "/api/touchpoints/batch", new JsonArray(items.Select(i => i.DeepClone()).ToArray()).ToJsonString(), "application/json");

    public static Task<Answer> PostNdJson(this AppFixture app, string body) =>
        app.Send(HttpMethod.Post, "/api/touchpoints/batch", body, "application/x-ndjson");

    public static Task<Answer> Get(this AppFixture app, string url) => app.Send(HttpMethod.Get, url, null, null);

    public static async Task<Answer> Send(this AppFixture app, HttpMethod method, string url, string? body, string? contentType)
    {
        using var client = app.Host.Server.CreateClient();
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = contentType is null ? null : MediaTypeHeaderValue.Parse(contentType);
        }

        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? parsed = null;
        if (text.Length > 0 && response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) == true)
        {
            parsed = JsonNode.Parse(text);
        }

        return new Answer((int)response.StatusCode, parsed, response);
    }

    public static async Task<Answer> SendBytes(this AppFixture app, string url, byte[] body, string contentType)
    {
        using var client = app.Host.Server.CreateClient();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        var response = await client.PostAsync(url, content);
        var text = await response.Content.ReadAsStringAsync();
        return new Answer((int)response.StatusCode, text.Length > 0 && text.TrimStart().StartsWith('{') ? JsonNode.Parse(text) : null, response);
    }

    public static int Int(this JsonNode? node, string name) => node![name]!.GetValue<int>();

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);
}
