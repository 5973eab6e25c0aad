using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;

namespace CustomerJourney.Tests.Tracking;

/// <summary>Sends Segment tracking calls as the SDKs put them on the wire: Basic auth with the write key, JSON, gzip if asked.</summary>
public static class SegmentClient
{
    public const string Source = "segment-shop";

    public static async Task<Answer> PostV1(this AppFixture app, string path, JsonNode body, bool gzip = false, string contentType = "application/json",
        string? writeKey = null, bool basicAuth = true) =>
        await app.PostV1Bytes(path, Encoding.UTF8.GetBytes(body.ToJsonString()), gzip, contentType, writeKey ?? await app.KeyFor(Source), basicAuth);

    public static async Task<Answer> PostV1Bytes(this AppFixture app, string path, byte[] body, bool gzip, string contentType, string? writeKey, bool basicAuth = true)
    {
        using var client = app.Host.Server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(gzip ? Gzip(body) : body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (gzip)
        {
            request.Content.Headers.ContentEncoding.Add("gzip");
        }

        if (writeKey is not null && basicAuth)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(writeKey + ":")));
        }

        var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return new Answer((int)response.StatusCode, text.Length > 0 && text.TrimStart().StartsWith('{') ? JsonNode.Parse(text) : null, response);
    }

    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    public static JsonObject Track(string userId, string @event, JsonObject? properties = null, string? messageId = null, DateTimeOffset? timestamp = null) => new()
    {
        ["type"] = "track",
        ["userId"] = userId,
        ["event"] = @event,
        ["properties"] = properties ?? new JsonObject(),
        ["messageId"] = messageId ?? Ids.Unique("msg"),
        ["timestamp"] = (timestamp ?? DateTimeOffset.Parse("2024-05-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture)).ToString("O"),
        ["context"] = new JsonObject { ["library"] = new JsonObject { ["name"] = "test", ["version"] = "1" } },
        ["_metadata"] = new JsonObject { ["nodeVersion"] = "20" },
        ["integrations"] = new JsonObject(),
        ["channel"] = "server",
    };

    public static JsonObject Batch(params JsonObject[] calls) => new() { ["batch"] = new JsonArray(calls.Select(c => (JsonNode)c.DeepClone()).ToArray()) };

    public static JsonObject OrderCompleted(string orderId, decimal revenue = 30m, string currency = "EUR") => new()
    {
        ["order_id"] = orderId,
        ["revenue"] = revenue,
        ["tax"] = 2,
        ["coupon"] = "SUMMER",
        ["currency"] = currency,
        ["products"] = new JsonArray(new JsonObject { ["product_id"] = "p-1", ["sku"] = "sku-1", ["name"] = "Disc", ["price"] = 15, ["quantity"] = 2 }),
    };

    /// <summary>The journey's entries, read by an agent (who sees personal data).</summary>
    public static async Task<JsonArray> Journey(this AppFixture app, string customerId, string query = "")
    {
        var journey = await app.Get($"/api/customers/{Uri.EscapeDataString(customerId)}/journey?pageSize=500{query}");
        Assert.True(journey.Status == 200, journey.Body?.ToJsonString());
        return journey.Body!["entries"]!.AsArray();
    }
}
