using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using CustomerJourney.Tests.Faults;
using CustomerJourney.Tests.Support;
using CustomerJourney.Tests.WinBack;
using Npgsql;

namespace CustomerJourney.Tests.Soak;

/// <summary>
/// Every string field of every write endpoint, filled with the Big List of Naughty Strings; every write endpoint fed
/// the JSONTestSuite parser cases; and generated bodies (CsCheck). Zero 5xx, every refusal a problem document, no
/// batch half-stored, nothing stored that was refused, and accepted free text read back byte-exact.
/// The suite runs every <see cref="Stride"/>-th string and case; tests/soak/run-bad-input-soak runs them all.
/// </summary>
public sealed class BadInputSoakTests
{
    private static readonly int Stride = int.TryParse(Environment.GetEnvironmentVariable("CJ_SOAK_STRIDE"), CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 7;

    // The list repeats four strings; as source ids their repeats would rightly be duplicates.
    private static readonly string[] NaughtyStrings =
        JsonSerializer.Deserialize<string[]>(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Corpora", "blns.json")))!.Distinct(StringComparer.Ordinal).ToArray();

    private sealed record ParsingCase(string Name, string Input);

    private static readonly ParsingCase[] ParsingCases = JsonSerializer.Deserialize<ParsingCase[]>(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Corpora", "json-test-suite-parsing.json")), ApiCalls.Json)!;

    private static IEnumerable<T> Sample<T>(IReadOnlyList<T> all) => all.Where((_, i) => i % Stride == 0);

    /// <summary>A write endpoint, the role that may call it, and a body it accepts.</summary>
    private sealed record Endpoint(string Name, string Url, string Role, Func<int, JsonNode> Valid);

    private static JsonObject Touchpoint(string sourceId, string? customer = null)
    {
        var item = new JsonObject
        {
            ["kind"] = "purchase", ["occurredAt"] = "1998-02-01T10:00:00Z", ["channel"] = "web", ["source"] = "staff", ["sourceId"] = sourceId,
            ["data"] = new JsonObject { ["orderId"] = "o-" + sourceId, ["amount"] = 12.5, ["currency"] = "USD" },
        };
        if (customer is not null)
        {
            item["customerId"] = customer;
        }

        return item;
    }

    /// <summary>Each step of a case is its own endpoint with its own body; they all say the version they read.</summary>
    private static Endpoint Step(string complaintId, string action, JsonObject body) =>
        new($"complaint step {action}", $"/api/complaints/{complaintId}/{action}", "agent", _ =>
        {
            var copy = body.DeepClone().AsObject();
            copy["expectedVersion"] = 1;
            return copy;
        });

    private static Endpoint[] Endpoints(string complaintId) =>
    [
        new("single touchpoint", "/api/customers/soak-single/touchpoints", "agent", n => Touchpoint($"single-{n}")),
        new("batch", "/api/touchpoints/batch", "agent", n => new JsonArray(Touchpoint($"batch-{n}-a", "soak-batch"), Touchpoint($"batch-{n}-b", "soak-batch"))),
        new("complaint", "/api/complaints", "agent", n => new JsonObject
        {
            ["complaintId"] = $"soak-k-{n}", ["customerId"] = "soak-complainer", ["category"] = "delivery", ["severity"] = "low",
            ["description"] = "Late", ["orderIds"] = new JsonArray("o-1"), ["channel"] = "email", ["occurredAt"] = "2026-11-30T10:00:00Z",
        }),
        Step(complaintId, "acknowledge", new JsonObject { ["reason"] = "Read it", ["channel"] = "email" }),
        Step(complaintId, "escalate", new JsonObject { ["to"] = "sam", ["reason"] = "Manager" }),
        Step(complaintId, "apologize", new JsonObject { ["by"] = "Ann", ["wording"] = "Sorry" }),
        Step(complaintId, "offer-remedy", new JsonObject { ["remedy"] = "discount", ["amount"] = 5, ["currency"] = "USD" }),
        Step(complaintId, "accept-remedy", new JsonObject { ["correlationId"] = "c-1" }),
        Step(complaintId, "decline-remedy", new JsonObject { ["reason"] = "Too little" }),
        Step(complaintId, "await-customer", new JsonObject { ["reason"] = "A photo" }),
        Step(complaintId, "customer-responded", new JsonObject { ["occurredAt"] = "2026-11-30T11:00:00Z" }),
        Step(complaintId, "resolve", new JsonObject { ["rootCause"] = "carrier-delay", ["summary"] = "Resent" }),
        Step(complaintId, "follow-up-call", new JsonObject { ["outcome"] = "reached", ["notes"] = "Happy" }),
        Step(complaintId, "close", new JsonObject { ["reason"] = "Done" }),
        Step(complaintId, "reopen", new JsonObject { ["reason"] = "Still broken" }),
        new("api key", "/api/access/keys", "admin", n => new JsonObject { ["source"] = $"soak-src-{n}" }),
        new("churn fit", "/api/churn/models", "analyst", _ => new JsonObject { ["calibrationEnd"] = "1997-09-30T00:00:00Z" }),
        new("campaign", "/api/winback/campaigns", "marketing", n => new JsonObject
        {
            ["name"] = $"Soak {n}", ["offer"] = new JsonObject { ["kind"] = "discount-percent", ["value"] = 10, ["validDays"] = 30 },
            ["channel"] = "email", ["controlShare"] = 0.2, ["seed"] = 1, ["at"] = "2010-03-01T00:00:00Z",
        }),
    ];

    /// <summary>The paths of every string in a body: "data.orderId", "[0].sourceId", ...</summary>
    private static IEnumerable<string[]> StringPaths(JsonNode node, string[] path)
    {
        switch (node)
        {
            case JsonObject o:
                return o.SelectMany(p => p.Value is null ? [] : StringPaths(p.Value, [.. path, p.Key]));
            case JsonArray a:
                return a.SelectMany((v, i) => v is null ? [] : StringPaths(v, [.. path, i.ToString(CultureInfo.InvariantCulture)]));
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                return [path];
            default:
                return [];
        }
    }

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

    private sealed class Findings
    {
        public List<string> Violations { get; } = [];
        public int Requests { get; set; }

        public void Check(string what, int status, string? contentType, string text)
        {
            Requests++;
            if (status >= 500)
            {
                Violations.Add($"{what}: {status} {text[..Math.Min(200, text.Length)]}");
            }
            else if (status >= 400 && contentType != "application/problem+json")
            {
                Violations.Add($"{what}: {status} without a problem document ({contentType})");
            }
        }
    }

    [Fact]
    public async Task Naughty_strings_in_every_string_field_of_every_write_endpoint_never_give_a_5xx_and_what_is_accepted_reads_back_exactly()
    {
        await using var host = await WinBackHost.StartAsync();
        var complaintId = "soak-case";
        var complaint = Endpoints("x")[2].Valid(0).AsObject();
        complaint["complaintId"] = complaintId;
        var (logged, _) = await host.Send(HttpMethod.Post, "/api/complaints", complaint, "agent");
        Assert.Equal(201, logged);

        var findings = new Findings();
        var acceptedSingles = new List<(string[] Path, string Value, string SourceId)>();
        var batchAppended = 0;
        var n = 0;
        foreach (var endpoint in Endpoints(complaintId))
        {
            foreach (var path in StringPaths(endpoint.Valid(0), []).ToList())
            {
                foreach (var naughty in Sample(NaughtyStrings))
                {
                    var key = ++n;
                    var body = With(endpoint.Valid(key), path, naughty);
                    var (status, type, text) = await host.SendRaw(HttpMethod.Post, endpoint.Url, body.ToJsonString(), endpoint.Role);
                    findings.Check($"{endpoint.Name} {string.Join('.', path)} = {JsonSerializer.Serialize(naughty)}", status, type, text);
                    if (endpoint.Name == "single touchpoint" && status is 200 or 201)
                    {
                        acceptedSingles.Add((path, naughty, body["sourceId"]!.GetValue<string>()));
                    }

                    if (endpoint.Name == "batch" && status == 200)
                    {
                        var answer = JsonNode.Parse(text)!;
                        batchAppended += answer["appended"]!.GetValue<int>();
                        // The untouched item of the pair is always stored: a batch is never refused as a whole for one bad item.
                        Assert.True(answer["appended"]!.GetValue<int>() + answer["duplicates"]!.GetValue<int>() >= 1, text);
                    }
                }
            }
        }

        Assert.True(findings.Violations.Count == 0, $"{findings.Violations.Count} of {findings.Requests} requests: " + string.Join("\n", findings.Violations.Take(20)));

        // Nothing stored that was refused, nothing lost that was accepted, and the free text as it was sent.
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        // A naughty customerId that is a valid id lands on its own stream: count every purchase the batches stored.
        Assert.Equal(batchAppended, await Invariants.Scalar(connection, $"select count(*) from {host.Schema}.mt_events where type = 'purchase_made' and stream_id <> 'soak-single'"));
        var stored = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand($"select data::text from {host.Schema}.mt_events where stream_id = 'soak-single'", connection))
        await using (var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            {
                var e = JsonNode.Parse(reader.GetString(0))!;
                stored[e["sourceId"]!.GetValue<string>()] = e;
            }
        }

        var missing = acceptedSingles.Where(a => !stored.ContainsKey(a.SourceId)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} accepted but not stored: " +
            string.Join(" | ", missing.Take(5).Select(m => $"{string.Join('.', m.Path)} = {JsonSerializer.Serialize(m.Value)} ({m.SourceId})")));
        Assert.Equal(acceptedSingles.Count, stored.Count);
        foreach (var (path, value, sourceId) in acceptedSingles)
        {
            if (path[^1] is "orderId" or "sourceId")
            {
                Assert.Equal(value, stored[sourceId][path[^1]]!.GetValue<string>());
            }
        }

        Assert.Contains(acceptedSingles, a => a.Path[^1] == "orderId");
    }

    [Fact]
    public async Task Every_write_endpoint_answers_the_JSONTestSuite_cases_with_a_problem_or_a_clear_answer_never_a_5xx()
    {
        await using var host = await WinBackHost.StartAsync();
        var findings = new Findings();
        var accepted = new List<string>();
        foreach (var endpoint in Endpoints("soak-none"))
        {
            foreach (var @case in Sample(ParsingCases))
            {
                var (status, type, text) = await host.SendRaw(HttpMethod.Post, endpoint.Url, @case.Input, endpoint.Role);
                findings.Check($"{endpoint.Name} {@case.Name}", status, type, text);
                // Not JSON: refused (400, or 413 for the deepest nesting, 428 where the step's version is missing too).
                if (@case.Name.StartsWith("n_", StringComparison.Ordinal) && status is < 400 or >= 500)
                {
                    accepted.Add($"{endpoint.Name} {@case.Name}: {status}");
                }
            }
        }

        Assert.True(findings.Violations.Count == 0, string.Join("\n", findings.Violations.Take(20)));
        Assert.Empty(accepted);
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        Assert.Equal(0, await Invariants.Scalar(connection, $"select count(*) from {host.Schema}.mt_events"));
    }

    private static Gen<T> Pick<T>(params T[] values) => Gen.Int[0, values.Length - 1].Select(i => values[i]);

    private static readonly string[] FieldNames =
    [
        "kind", "occurredAt", "channel", "source", "sourceId", "data", "customerId", "complaintId", "category", "severity", "description", "orderIds",
        "to", "reason", "expectedVersion", "by", "wording", "remedy", "amount", "currency", "rootCause", "summary", "outcome", "satisfied", "notes",
        "correlationId", "calibrationEnd", "name", "offer", "value", "validDays", "controlShare", "seed", "at", "x",
    ];

    private static readonly Gen<JsonNode?> Leaf = Gen.Int[0, 5].SelectMany(kind => kind switch
    {
        0 => Gen.Bool.Select(b => (JsonNode?)b),
        1 => Gen.Int.Select(i => (JsonNode?)i),
        2 => Gen.Double.Select(d => double.IsFinite(d) ? (JsonNode?)d : null),
        3 => Gen.String.Select(text => (JsonNode?)text),
        4 => Pick("purchase", "low", "email", "1998-02-01T10:00:00Z", "staff", "USD", "discount-percent", "").Select(text => (JsonNode?)text),
        _ => Gen.Bool.Select(_ => (JsonNode?)null),
    });

    /// <summary>Objects with the endpoints' own field names (and one other), values of any kind, nested up to three deep.</summary>
    private static Gen<JsonNode?> Node(int depth) => depth == 0
        ? Leaf
        : Gen.Int[0, 9].SelectMany(kind => kind switch
        {
            < 3 => Leaf,
            < 8 => Gen.Select(Pick(FieldNames), Node(depth - 1)).Array[0, 8].Select(pairs =>
            {
                var o = new JsonObject();
                foreach (var (field, value) in pairs)
                {
                    o[field] = value?.DeepClone();
                }

                return (JsonNode?)o;
            }),
            _ => Node(depth - 1).Array[0, 4].Select(items => (JsonNode?)new JsonArray(items.Select(i => i?.DeepClone()).ToArray())),
        });

    [Fact]
    public async Task Generated_bodies_for_every_write_endpoint_never_give_a_5xx()
    {
        await using var host = await WinBackHost.StartAsync();
        var findings = new Findings();
        var endpoints = Endpoints("soak-none");
        await Gen.Select(Gen.Int[0, endpoints.Length - 1], Node(3)).SampleAsync(async sample =>
        {
            var (index, body) = sample;
            var (status, type, text) = await host.SendRaw(HttpMethod.Post, endpoints[index].Url, body?.ToJsonString() ?? "null", endpoints[index].Role);
            findings.Check($"{endpoints[index].Name} {body?.ToJsonString()}", status, type, text);
        }, iter: 1400 / Stride * 7, threads: 1);

        Assert.True(findings.Violations.Count == 0, $"{findings.Violations.Count} of {findings.Requests}: " + string.Join("\n", findings.Violations.Take(10)));
    }
}
