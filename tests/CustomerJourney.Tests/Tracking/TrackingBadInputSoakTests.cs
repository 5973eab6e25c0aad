using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;

namespace CustomerJourney.Tests.Tracking;

/// <summary>
/// The bad-input soak (Soak/BadInputSoakTests) for /v1/*: every string field of a call and of a batch filled with the Big
/// List of Naughty Strings, and the JSONTestSuite parser cases, plain and gzipped under RudderStack's content type. Zero 5xx,
/// every refusal a problem document, a batch answered 200 whatever one call holds, and no text parsed as JSON accepted.
/// Runs every CJ_SOAK_STRIDE-th (default 7th) case like the rest of the soak.
/// </summary>
public sealed class TrackingBadInputSoakTests(AppFixture app)
{
    private static readonly int Stride = int.TryParse(Environment.GetEnvironmentVariable("CJ_SOAK_STRIDE"), CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 7;

    private static readonly string[] NaughtyStrings =
        JsonSerializer.Deserialize<string[]>(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Corpora", "blns.json")))!.Distinct(StringComparer.Ordinal).ToArray();

    private sealed record ParsingCase(string Name, string Input);

    private static readonly ParsingCase[] ParsingCases = JsonSerializer.Deserialize<ParsingCase[]>(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Corpora", "json-test-suite-parsing.json")), ApiCalls.Json)!;

    private static IEnumerable<T> Sample<T>(IReadOnlyList<T> all) => all.Where((_, i) => i % Stride == 0);

    private static JsonObject Call(int n) => new()
    {
        ["type"] = "track",
        ["userId"] = "soak-v1",
        ["anonymousId"] = "anon-soak",
        ["event"] = "Order Completed",
        ["messageId"] = $"soak-v1-{n}",
        ["timestamp"] = "2024-05-01T10:00:00.000Z",
        ["sentAt"] = "2024-05-01T10:00:01.000Z",
        ["properties"] = new JsonObject { ["order_id"] = $"o-{n}", ["revenue"] = 10, ["currency"] = "EUR", ["products"] = new JsonArray(new JsonObject { ["sku"] = "s-1", ["price"] = 10 }) },
        ["context"] = new JsonObject { ["ip"] = "203.0.113.1", ["locale"] = "en", ["traits"] = new JsonObject { ["email"] = "a@example.com" } },
        ["channel"] = "server",
    };

    private static IEnumerable<string[]> StringPaths(JsonNode node, string[] path) => node switch
    {
        JsonObject o => o.SelectMany(p => p.Value is null ? [] : StringPaths(p.Value, [.. path, p.Key])),
        JsonArray a => a.SelectMany((v, i) => v is null ? [] : StringPaths(v, [.. path, i.ToString(CultureInfo.InvariantCulture)])),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => [path],
        _ => [],
    };

    private static JsonNode With(JsonNode body, string[] path, string value)
    {
        var copy = body.DeepClone();
        var parent = path[..^1].Aggregate(copy, (node, step) => node is JsonArray a ? a[int.Parse(step, CultureInfo.InvariantCulture)]! : node[step]!);
        if (parent is JsonArray array)
        {
            array[int.Parse(path[^1], CultureInfo.InvariantCulture)] = value;
        }
        else
        {
            parent[path[^1]] = value;
        }

        return copy;
    }

    private static void Check(List<string> violations, string what, Answer answer)
    {
        if (answer.Status >= 500)
        {
            violations.Add($"{what}: {answer.Status}");
        }
        else if (answer.Status >= 400 && answer.ContentType != "application/problem+json")
        {
            violations.Add($"{what}: {answer.Status} without a problem document ({answer.ContentType})");
        }
    }

    [Fact]
    public async Task Naughty_strings_in_every_string_field_of_a_call_and_a_batch_never_give_a_5xx_nor_fail_a_batch()
    {
        var violations = new List<string>();
        var n = 0;
        foreach (var path in StringPaths(Call(0), []).ToList())
        {
            foreach (var naughty in Sample(NaughtyStrings))
            {
                var single = With(Call(++n), path, naughty);
                Check(violations, $"/v1/track {string.Join('.', path)} = {JsonSerializer.Serialize(naughty)}", await app.PostV1("/v1/track", single));

                var batch = SegmentClient.Batch(With(Call(++n), path, naughty).AsObject(), Call(++n));
                batch["sentAt"] = naughty;
                var answer = await app.PostV1("/v1/batch", batch, gzip: n % 2 == 0, contentType: n % 2 == 0 ? "application/x-www-form-urlencoded" : "application/json");
                Check(violations, $"/v1/batch {string.Join('.', path)} = {JsonSerializer.Serialize(naughty)}", answer);
                if (answer.Status == 200)
                {
                    Assert.True(answer.Body.Int("appended") + answer.Body.Int("duplicates") >= 1, answer.Body!.ToJsonString());
                }
            }
        }

        Assert.True(violations.Count == 0, string.Join("\n", violations.Take(20)));
    }

    [Fact]
    public async Task The_JSONTestSuite_cases_plain_and_gzipped_get_a_problem_or_a_clear_answer_never_a_5xx()
    {
        var violations = new List<string>();
        var accepted = new List<string>();
        var key = await app.KeyFor(SegmentClient.Source);
        foreach (var path in new[] { "/v1/track", "/v1/batch" })
        {
            foreach (var @case in Sample(ParsingCases))
            {
                foreach (var gzip in new[] { false, true })
                {
                    var answer = await app.PostV1Bytes(path, Encoding.UTF8.GetBytes(@case.Input), gzip, gzip ? "application/x-www-form-urlencoded" : "application/json", key);
                    Check(violations, $"{path} {@case.Name} gzip={gzip}", answer);
                    if (@case.Name.StartsWith("n_", StringComparison.Ordinal) && answer.Status is < 400 or >= 500)
                    {
                        accepted.Add($"{path} {@case.Name}: {answer.Status}");
                    }
                }
            }
        }

        Assert.True(violations.Count == 0, string.Join("\n", violations.Take(20)));
        Assert.Empty(accepted);
    }
}
