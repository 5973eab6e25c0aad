using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Alba;
using CustomerJourney.Access;
using CustomerJourney.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace CustomerJourney.Tests.Contracts;

/// <summary>
/// What the answer snapshots share: an answer without the values that differ on every run, and masks that keep a
/// masked value's place (and an array's length) in the snapshot, so a reviewer still sees the shape and every masked
/// field is named where the snapshot is taken.
/// </summary>
internal static partial class Answers
{
    public const string Varies = "<varies>";

    /// <summary>
    /// The answer without the values that differ on every run (trace ids, record times). A trace id that is a field of
    /// the answer itself, not of a problem's diagnostics, is named by a JSONPath in <paramref name="traceIdFields"/> and
    /// kept in its place, for the caller to mask.
    /// </summary>
    public static JToken Stable(JsonObject answers, params string[] traceIdFields)
    {
        var token = JToken.Parse(answers.ToJsonString());
        var kept = traceIdFields.SelectMany(token.SelectTokens).ToHashSet();
        foreach (var volatileField in token.SelectTokens("$..traceId").Where(t => !kept.Contains(t)).Concat(token.SelectTokens("$..recordedAt")).ToList())
        {
            volatileField.Parent!.Remove();
        }

        // A journey entry's event id is Marten's, new on every run.
        foreach (var eventId in token.SelectTokens("$..eventId").OfType<JValue>().Where(v => v.Type != JTokenType.Null).ToList())
        {
            eventId.Value = Varies;
        }

        // API key ids are random per run.
        foreach (var recordedBy in token.SelectTokens("$..recordedBy").OfType<JValue>().Where(v => v.Value is string))
        {
            recordedBy.Value = KeyActor().Replace((string)recordedBy.Value!, "key:<id>");
        }

        return token;
    }

    /// <summary>
    /// Replaces the non-null values of the named fields with "&lt;varies&gt;": a bare name masks that field wherever it
    /// occurs; a name starting with "$" is a JSONPath, for a field that varies only in some places. A masked array keeps
    /// its length, each element masked.
    /// </summary>
    public static JToken Masked(JToken token, params string[] names)
    {
        foreach (var name in names)
        {
            var path = name.StartsWith('$') ? name : $"$..{name}";
            foreach (var selected in token.SelectTokens(path).ToList())
            {
                IEnumerable<JValue> values = selected switch { JArray array => array.Children().OfType<JValue>(), JValue one => [one], _ => [] };
                foreach (var value in values.Where(v => v.Type != JTokenType.Null).ToList())
                {
                    value.Value = Varies;
                }
            }
        }

        return token;
    }

    /// <summary>A bearer token of the host's development issuer, for a person with these roles.</summary>
    public static Credentials Bearer(IAlbaHost host, string name, params string[] roles)
    {
        var now = DateTimeOffset.UtcNow;
        return Credentials.Token(DevelopmentTokens.Issue(host.Services.GetRequiredService<JwtSettings>(), name, roles, null, now, now.AddMinutes(10)));
    }

    /// <summary>
    /// One request, and its answer as a client sees it: status, media type, Location (when sent) and the body (parsed when
    /// JSON, as text otherwise).
    /// </summary>
    public static async Task<JsonObject> Call(IAlbaHost host, HttpMethod method, string url, Credentials credentials, JsonNode? body = null,
        IReadOnlyDictionary<string, string>? headers = null)
    {
        using var client = host.Server.CreateClient();
        using var request = new HttpRequestMessage(method, url);
        credentials.Apply(request);
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.Add(name, value);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        var answer = new JsonObject { ["status"] = (int)response.StatusCode, ["contentType"] = mediaType };
        if (response.Headers.Location is { } location)
        {
            answer["location"] = location.ToString();
        }

        if (response.Headers.RetryAfter is { } retryAfter)
        {
            answer["retryAfter"] = retryAfter.ToString();
        }

        answer["body"] = text.Length == 0 ? null : mediaType?.Contains("json", StringComparison.Ordinal) == true ? JsonNode.Parse(text) : text;
        return answer;
    }

    [GeneratedRegex("^key:[0-9a-f]{16}$")]
    private static partial Regex KeyActor();
}
