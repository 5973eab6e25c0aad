using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;

namespace CustomerJourney.Tests.Complaints;

/// <summary>Small helpers for the complaint endpoints: they need headers (If-Match, Idempotency-Key) the generic helpers do not send.</summary>
public static class ComplaintApi
{
    /// <summary>The time now, to the millisecond (ingestion keeps at most that precision).</summary>
    public static DateTimeOffset Now => DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    public static Credentials Agent(this AppFixture app) => Credentials.Token(app.Token("agent-ann", "agent"));

    public static Credentials As(this AppFixture app, string role) => Credentials.Token(app.Token($"{role}-x", role));

    public static async Task<Answer> Call(this AppFixture app, HttpMethod method, string url, JsonNode? body, Credentials credentials,
        string? ifMatch = null, string? idempotencyKey = null, string? accept = null, string? traceParent = null)
    {
        using var client = app.Host.Server.CreateClient();
        using var request = new HttpRequestMessage(method, url);
        credentials.Apply(request);
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        if (traceParent is not null)
        {
            request.Headers.Add("traceparent", traceParent);
        }

        if (accept is not null)
        {
            request.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse(accept));
        }

        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var json = text.Length > 0 && response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.Ordinal) == true ? JsonNode.Parse(text) : null;
        return new Answer((int)response.StatusCode, json ?? (text.Length > 0 ? JsonValue.Create(text) : null), response);
    }

    public static Task<Answer> Log(this AppFixture app, string customerId, string complaintId, string severity = "medium", DateTimeOffset? occurredAt = null,
        string category = "delivery", params string[] orders) =>
        app.Call(HttpMethod.Post, "/api/complaints", new JsonObject
        {
            ["complaintId"] = complaintId,
            ["customerId"] = customerId,
            ["category"] = category,
            ["severity"] = severity,
            ["description"] = "The parcel came late and damaged",
            ["orderIds"] = new JsonArray(orders.Select(o => (JsonNode)o).ToArray()),
            ["channel"] = "email",
            ["occurredAt"] = (occurredAt ?? ComplaintApi.Now.AddMinutes(-5)).ToString("O"),
        }, app.Agent());

    public static Task<Answer> Step(this AppFixture app, string complaintId, string action, long version, JsonObject? body = null, DateTimeOffset? at = null,
        string? idempotencyKey = null)
    {
        var json = body ?? [];
        json["occurredAt"] ??= (at ?? ComplaintApi.Now).ToString("O");
        return app.Call(HttpMethod.Post, $"/api/complaints/{complaintId}/{action}", json, app.Agent(), ifMatch: $"\"{version}\"", idempotencyKey: idempotencyKey);
    }

    public static long Version(this Answer answer) => long.Parse(answer.Response.Headers.ETag!.Tag.Trim('"'), System.Globalization.CultureInfo.InvariantCulture);

    public static string Status(this Answer answer) => answer.Body!["case"]!["status"]!.GetValue<string>();

    public static string? Rule(this Answer answer) => answer.Body?["rule"]?.GetValue<string>();
}
