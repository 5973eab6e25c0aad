using System.Text.Json;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;

namespace CustomerJourney.Tests.Touchpoints;

/// <summary>Public bad-input corpora thrown at the ingestion endpoints: never a 5xx, nothing half-stored.</summary>
public sealed class NaughtyInputTests(AppFixture app)
{
    private static readonly string[] NaughtyStrings =
        JsonSerializer.Deserialize<string[]>(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Corpora", "blns.json")))!;

    private sealed record ParsingCase(string Name, string Input);

    private static readonly ParsingCase[] ParsingCases = JsonSerializer.Deserialize<ParsingCase[]>(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Corpora", "json-test-suite-parsing.json")), ApiCalls.Json)!;

    [Fact]
    public async Task Naughty_strings_in_free_text_and_source_ids_are_stored_verbatim_or_refused_with_a_problem()
    {
        var customer = Ids.Customer("naughty");
        var items = NaughtyStrings.Select((s, i) => (JsonNode)TouchpointJson.Kind("complaint-logged",
            new JsonObject { ["complaintId"] = $"k-{i}-{customer}", ["category"] = "naughty", ["severity"] = "low", ["description"] = s },
            customer, sourceId: SourceIdFor(i, s))).ToList();

        var answer = await app.PostBatch(items);

        Assert.Equal(200, answer.Status);
        var rejected = answer.Body!["rejected"]!.AsArray().Select(r => r!["index"]!.GetValue<int>()).ToHashSet();
        Assert.Equal(NaughtyStrings.Length, answer.Body.Int("appended") + rejected.Count);
        Assert.All(rejected, i => Assert.True(NaughtyStrings[i].Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t')) || string.IsNullOrWhiteSpace(NaughtyStrings[i]),
            $"item {i} was refused but holds only storable text"));

        var journey = await app.Get($"/api/customers/{customer}/journey?pageSize=500");
        var stored = journey.Body!["entries"]!.AsArray().ToDictionary(e => e!["sourceId"]!.GetValue<string>(), e => e!["data"]!["description"]!.GetValue<string>());
        for (var i = 0; i < NaughtyStrings.Length; i++)
        {
            if (!rejected.Contains(i))
            {
                Assert.Equal(NaughtyStrings[i], stored[SourceIdFor(i, NaughtyStrings[i])]);
            }
        }
    }

    // Naughty source ids too, as long as they fit the 256-character limit.
    private static string SourceIdFor(int index, string naughty) => naughty.Length <= 200 ? $"{index}:{naughty}" : $"{index}";

    [Fact]
    public async Task Naughty_customer_ids_answer_400_or_are_valid_ids_never_a_server_error()
    {
        foreach (var naughty in NaughtyStrings.Where(s => s.Length > 0).Take(200))
        {
            var answer = await app.PostTouchpoint(naughty, TouchpointJson.Purchase());

            // "." and ".." are resolved away by the URL itself: what remains is another route, or none.
            Assert.True(answer.Status is 201 or 400 or 404 or 405, $"'{naughty}' answered {answer.Status}");
        }
    }

    [Fact]
    public async Task Every_JSONTestSuite_case_gets_a_clear_answer_and_the_invalid_ones_a_400()
    {
        foreach (var @case in ParsingCases)
        {
            var answer = await app.Send(HttpMethod.Post, "/api/touchpoints/batch", @case.Input, "application/json");

            Assert.True(answer.Status is 200 or 400, $"{@case.Name} answered {answer.Status}");
            if (answer.Status == 400)
            {
                Assert.Equal("application/problem+json", answer.ContentType);
            }

            if (@case.Name.StartsWith("y_", StringComparison.Ordinal) && answer.Status == 200)
            {
                Assert.Equal(0, answer.Body.Int("appended"));
            }
        }

        var mustFail = ParsingCases.Where(c => c.Name.StartsWith("n_", StringComparison.Ordinal)).ToList();
        var accepted = new List<string>();
        foreach (var @case in mustFail)
        {
            if ((await app.Send(HttpMethod.Post, "/api/touchpoints/batch", @case.Input, "application/json")).Status != 400)
            {
                accepted.Add(@case.Name);
            }
        }

        Assert.Empty(accepted);
    }
}
