using System.Text.Json.Nodes;
using CustomerJourney.Complaints;
using CustomerJourney.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Wolverine;

namespace CustomerJourney.Tests.Complaints;

public sealed class ComplaintHttpTests(AppFixture app)
{
    private async Task<(string Customer, string OrderId)> CustomerWithPurchase(decimal amount = 40m)
    {
        var customer = Ids.Customer();
        var order = Ids.Unique("order");
        var purchase = TouchpointJson.Purchase(null, ComplaintApi.Now.AddDays(-10), amount, sourceId: order);
        var answer = await app.PostTouchpoint(customer, purchase);
        Assert.True(answer.Status == 201, answer.Body?.ToJsonString());
        return (customer, order);
    }

    [Fact]
    public async Task A_case_goes_from_logged_to_closed_through_every_step_and_a_closed_case_takes_no_more()
    {
        var (customer, order) = await CustomerWithPurchase(40m);
        var id = Ids.Unique("k");
        var start = ComplaintApi.Now.AddHours(-3);

        var logged = await app.Log(customer, id, occurredAt: start, orders: order);
        Assert.Equal(201, logged.Status);
        Assert.Equal($"/api/complaints/{id}", logged.Response.Headers.Location!.ToString());
        Assert.Equal(1, logged.Version());

        var v = logged.Version();
        async Task<Answer> Next(string action, JsonObject? body = null, int expected = 200)
        {
            var answer = await app.Step(id, action, v, body, start.AddMinutes(10 * (v + 1)));
            Assert.True(expected == answer.Status, $"{action}: {answer.Status} {answer.Body}");
            if (answer.Status == 200)
            {
                v = answer.Version();
            }

            return answer;
        }

        await Next("acknowledge", new JsonObject { ["reason"] = "Read it" });
        await Next("escalate", new JsonObject { ["to"] = "sam", ["reason"] = "Asked for a manager" });
        await Next("apologize", new JsonObject { ["by"] = "Ann", ["wording"] = "We are sorry" });
        var tooMuch = await Next("offer-remedy", new JsonObject { ["remedy"] = "refund", ["amount"] = 40.01, ["currency"] = "USD" }, 422);
        Assert.Equal("refund-exceeds-payment", tooMuch.Rule());
        await Next("offer-remedy", new JsonObject { ["remedy"] = "refund", ["amount"] = 30, ["currency"] = "USD" });
        await Next("accept-remedy");
        await Next("await-customer", new JsonObject { ["reason"] = "Photo of the damage" });
        await Next("customer-responded");
        await Next("resolve", new JsonObject { ["rootCause"] = "carrier-delay", ["summary"] = "Refunded and resent" });
        await Next("follow-up-call", new JsonObject { ["outcome"] = "reached", ["satisfied"] = false });
        await Next("reopen", new JsonObject { ["reason"] = "Still damaged" });
        var beforeClose = ComplaintApi.Now;
        await Next("resolve", new JsonObject { ["rootCause"] = "packaging", ["summary"] = "Replaced" });
        var closed = await Next("close");
        Assert.Equal(("closed", 13L), (closed.Status(), v));

        var refused = await Next("apologize", new JsonObject { ["by"] = "Ann", ["wording"] = "Sorry again" }, 409);
        Assert.Equal("case-closed", refused.Rule());
        Assert.Equal("application/problem+json", refused.ContentType);

        var now = await app.Get($"/api/complaints/{id}");
        Assert.Equal((1, 2, true), (now.Body!["case"]!.Int("reopened"), now.Body!["case"]!["cycles"]!.AsArray().Count, now.Body!["case"]!["escalatedTo"]!.GetValue<string>() == "sam"));
        var then = await app.Get($"/api/complaints/{id}?asOf={Uri.EscapeDataString(beforeClose.ToString("O"))}");
        Assert.Equal("acknowledged", then.Status());

        var journey = await app.Get($"/api/customers/{customer}/journey");
        var kinds = journey.Body!["entries"]!.AsArray().Select(e => e!["kind"]!.GetValue<string>()).ToList();
        Assert.Contains("complaint-logged", kinds);
        Assert.Contains("complaint-closed", kinds);
        Assert.Equal(14, kinds.Count);
        Assert.All(journey.Body!["entries"]!.AsArray().Where(e => e!["kind"]!.GetValue<string>() != "purchase"),
            e => Assert.Equal("user:agent-ann", e!["recordedBy"]!.GetValue<string>()));

        var mine = await app.Get($"/api/customers/{customer}/complaints");
        Assert.Equal(id, mine.Body!["cases"]![0]!["complaintId"]!.GetValue<string>());
        var listed = await app.Get($"/api/complaints?status=closed&category=delivery&pageSize=500&from={Uri.EscapeDataString(start.AddSeconds(-1).ToString("O"))}", app.As("supervisor"));
        Assert.Contains(listed.Body!["cases"]!.AsArray(), c => c!["complaintId"]!.GetValue<string>() == id);
        Assert.Equal(403, (await app.Get("/api/complaints", app.Agent())).Status);
    }

    [Fact]
    public async Task A_step_without_a_version_is_refused_and_a_stale_version_loses_with_409_and_changes_nothing()
    {
        var (customer, _) = await CustomerWithPurchase();
        var id = Ids.Unique("k");
        Assert.Equal(201, (await app.Log(customer, id)).Status);

        var unversioned = await app.Call(HttpMethod.Post, $"/api/complaints/{id}/acknowledge", new JsonObject(), app.Agent());
        var stale = await app.Call(HttpMethod.Post, $"/api/complaints/{id}/acknowledge", new JsonObject(), app.Agent(), ifMatch: "\"7\"");
        var disagreeing = await app.Call(HttpMethod.Post, $"/api/complaints/{id}/acknowledge", new JsonObject { ["expectedVersion"] = 2 }, app.Agent(), ifMatch: "\"1\"");
        var byBody = await app.Call(HttpMethod.Post, $"/api/complaints/{id}/acknowledge", new JsonObject { ["expectedVersion"] = 1 }, app.Agent());

        Assert.Equal(428, unversioned.Status);
        Assert.Equal((409, "stale-version"), (stale.Status, stale.Rule()));
        Assert.Equal(400, disagreeing.Status);
        Assert.Equal((200, 2L), (byBody.Status, byBody.Version()));
    }

    [Fact]
    public async Task Fifty_writers_on_one_version_give_one_success_and_forty_nine_conflicts()
    {
        var (customer, _) = await CustomerWithPurchase();
        var id = Ids.Unique("k");
        var version = (await app.Log(customer, id)).Version();

        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            app.Step(id, "apologize", version, new JsonObject { ["by"] = $"agent-{i}", ["wording"] = "Sorry" })));

        Assert.Equal(1, answers.Count(a => a.Status == 200));
        Assert.Equal(49, answers.Count(a => a.Status == 409));
        var final = await app.Get($"/api/complaints/{id}");
        Assert.Equal(version + 1, final.Version());
        Assert.Equal(1, final.Body!["case"]!.Int("apologies"));
    }

    [Fact]
    public async Task Repeating_a_step_with_its_idempotency_key_records_it_once()
    {
        var (customer, _) = await CustomerWithPurchase();
        var id = Ids.Unique("k");
        await app.Log(customer, id);
        var key = Ids.Unique("retry");
        // A retry sends the very same request again, business time included.
        var at = ComplaintApi.Now;

        var first = await app.Step(id, "acknowledge", 1, at: at, idempotencyKey: key);
        var retry = await app.Step(id, "acknowledge", 1, at: at, idempotencyKey: key);

        Assert.Equal((200, 200), (first.Status, retry.Status));
        Assert.Equal((2L, 2L), (first.Version(), retry.Version()));
    }

    [Fact]
    public async Task Ingested_complaint_steps_go_through_the_same_rules_item_by_item()
    {
        var customer = Ids.Customer();
        var id = Ids.Unique("k");
        var answer = await app.PostBatch(
        [
            TouchpointJson.Kind("complaint-logged", new JsonObject { ["complaintId"] = id, ["category"] = "billing", ["severity"] = "low", ["description"] = "Charged twice" }, customer, ComplaintApi.Now.AddHours(-2)),
            TouchpointJson.Kind("apology-issued", new JsonObject { ["complaintId"] = id, ["by"] = "crm", ["wording"] = "Sorry" }, customer, ComplaintApi.Now.AddHours(-1)),
            TouchpointJson.Kind("complaint-resolved", new JsonObject { ["complaintId"] = id, ["rootCause"] = "billing", ["summary"] = "Refunded" }, customer, ComplaintApi.Now.AddHours(-1)),
            TouchpointJson.Kind("remedy-offered", new JsonObject { ["complaintId"] = Ids.Unique("nope"), ["remedy"] = "discount", ["amount"] = 5, ["currency"] = "USD" }, customer),
            TouchpointJson.Kind("remedy-offered", new JsonObject { ["complaintId"] = id, ["remedy"] = "refund", ["amount"] = 5, ["currency"] = "USD" }, customer, ComplaintApi.Now.AddHours(-1)),
            TouchpointJson.Kind("follow-up-call", new JsonObject { ["outcome"] = "reached", ["satisfied"] = true }, customer),
        ]);

        Assert.Equal(200, answer.Status);
        Assert.Equal(3, answer.Body.Int("appended"));
        var rejected = answer.Body!["rejected"]!.AsArray().ToDictionary(r => r!.Int("index"), r => (r!["problem"]!.Int("status"), r["problem"]!["rule"]!.GetValue<string>()));
        Assert.Equal(new Dictionary<int, (int, string)> { [2] = (409, "not-acknowledged"), [3] = (422, "unknown-complaint"), [4] = (422, "refund-exceeds-payment") }, rejected);

        var fixedResend = TouchpointJson.Kind("complaint-acknowledged", new JsonObject { ["complaintId"] = id }, customer, ComplaintApi.Now.AddMinutes(-50));
        Assert.Equal(200, (await app.PostBatch([fixedResend])).Status);
        var state = await app.Get($"/api/complaints/{id}");
        Assert.Equal(("acknowledged", 3L), (state.Status(), state.Version()));
    }

    [Fact]
    public async Task A_refund_in_the_batch_that_logs_its_case_is_checked_against_the_purchase_in_that_batch()
    {
        var customer = Ids.Customer();
        var order = Ids.Unique("order");
        var id = Ids.Unique("k");
        JsonNode Step(string kind, JsonObject data, int hoursAgo) => TouchpointJson.Kind(kind, data, customer, ComplaintApi.Now.AddHours(-hoursAgo));
        var answer = await app.PostBatch(
        [
            TouchpointJson.Purchase(customer, ComplaintApi.Now.AddDays(-3), 30m, sourceId: order),
            Step("complaint-logged", new JsonObject { ["complaintId"] = id, ["category"] = "damaged", ["severity"] = "medium", ["description"] = "Cracked", ["orderIds"] = new JsonArray(order) }, 6),
            Step("complaint-acknowledged", new JsonObject { ["complaintId"] = id }, 5),
            Step("remedy-offered", new JsonObject { ["complaintId"] = id, ["remedy"] = "refund", ["amount"] = 31, ["currency"] = "USD" }, 4),
            Step("remedy-offered", new JsonObject { ["complaintId"] = id, ["remedy"] = "refund", ["amount"] = 30, ["currency"] = "USD" }, 3),
            Step("remedy-accepted", new JsonObject { ["complaintId"] = id }, 2),
        ]);

        Assert.Equal(200, answer.Status);
        Assert.Equal(5, answer.Body.Int("appended"));
        var rejected = answer.Body!["rejected"]!.AsArray().Select(r => (r!.Int("index"), r!["problem"]!["rule"]!.GetValue<string>())).ToList();
        Assert.Equal([(3, "refund-exceeds-payment")], rejected);
        var state = await app.Get($"/api/complaints/{id}");
        Assert.Equal(("acknowledged", 4L), (state.Status(), state.Version()));
    }

    [Fact]
    public async Task Unknown_cases_and_steps_answer_404_and_a_bad_body_400()
    {
        var (customer, _) = await CustomerWithPurchase();
        var id = Ids.Unique("k");
        await app.Log(customer, id);

        Assert.Equal(404, (await app.Get($"/api/complaints/{Ids.Unique("none")}")).Status);
        Assert.Equal(404, (await app.Step(Ids.Unique("none"), "acknowledge", 1)).Status);
        Assert.Equal(404, (await app.Step(id, "teleport", 1)).Status);
        Assert.Equal(400, (await app.Step(id, "escalate", 1, new JsonObject { ["reason"] = 42 })).Status);
        Assert.Equal(400, (await app.Step(id, "acknowledge", 1, new JsonObject { ["surprise"] = true })).Status);
        Assert.Equal(400, (await app.Call(HttpMethod.Post, $"/api/complaints/{id}/acknowledge", JsonValue.Create("[1]"), app.Agent(), ifMatch: "\"1\"")).Status);
    }

    [Theory]
    [InlineData("acknowledge", """{ "surprise": true }""", "surprise")]
    [InlineData("escalate", """{ "reason": 42 }""", "reason")]
    [InlineData("escalate", """{ "reason": "\ud800 alone" }""", "reason")]
    [InlineData("offer-remedy", """{ "remedy": "refund", "amount": "12", "currency": "USD" }""", "amount")]
    [InlineData("offer-remedy", """{ "remedy": "cash", "amount": 12, "currency": "USD" }""", "remedy")]
    [InlineData("follow-up-call", """{ "outcome": "not-reached", "satisfied": true }""", "satisfied")]
    [InlineData("resolve", """{ "rootCause": "late", "summary": "Resent", "occurredAt": "2024-05-01T10:00:00" }""", "occurredAt")]
    [InlineData("reopen", """[ "not an object" ]""", "$")]
    public async Task A_step_body_with_an_undefined_field_a_wrong_type_or_bad_text_is_a_400_naming_the_field(string action, string body, string field)
    {
        var (customer, _) = await CustomerWithPurchase();
        var id = Ids.Unique("k");
        await app.Log(customer, id);

        using var client = app.Host.Server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/complaints/{id}/{action}") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        app.Agent().Apply(request);
        request.Headers.TryAddWithoutValidation("If-Match", "\"1\"");
        var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;

        Assert.Equal((400, "application/problem+json"), ((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType));
        Assert.True(problem["errors"]?[field] is not null, problem.ToJsonString());
        Assert.Equal(1, (await app.Get($"/api/complaints/{id}")).Version());
    }

    [Fact]
    public async Task A_step_without_a_body_is_the_step_with_no_fields()
    {
        var (customer, _) = await CustomerWithPurchase();
        var id = Ids.Unique("k");
        await app.Log(customer, id);

        var acknowledged = await app.Call(HttpMethod.Post, $"/api/complaints/{id}/acknowledge", null, app.Agent(), ifMatch: "\"1\"");

        Assert.Equal((200, 2L, "acknowledged"), (acknowledged.Status, acknowledged.Version(), acknowledged.Status()));
    }

    [Fact]
    public async Task The_API_description_gives_each_step_its_own_typed_body()
    {
        var document = (await app.Get("/openapi/v1.json")).Body!;
        string[] actions = ["acknowledge", "escalate", "apologize", "offer-remedy", "accept-remedy", "decline-remedy", "await-customer", "customer-responded",
            "resolve", "follow-up-call", "close", "reopen"];

        var schemas = actions.Select(a => document["paths"]![$"/api/complaints/{{complaintId}}/{a}"]?["post"]?["requestBody"]?["content"]?["application/json"]?["schema"]?["$ref"]?.GetValue<string>())
            .Append(document["paths"]!["/api/complaints"]?["post"]?["requestBody"]?["content"]?["application/json"]?["schema"]?["$ref"]?.GetValue<string>())
            .ToList();

        Assert.All(schemas, s => Assert.NotNull(s));
        Assert.Equal(schemas.Count, schemas.Distinct().Count());
        var offer = document["components"]!["schemas"]![schemas[3]!.Split('/')[^1]]!["properties"]!.AsObject().Select(p => p.Key).Order().ToList();
        Assert.Equal(["amount", "channel", "correlationId", "currency", "expectedVersion", "occurredAt", "remedy"], offer);
    }

    [Fact]
    public async Task A_missed_promise_is_recorded_once_by_the_timer_and_shows_on_the_case_and_the_list()
    {
        var (customer, _) = await CustomerWithPurchase();
        var id = Ids.Unique("k");
        await app.Log(customer, id, severity: "low", occurredAt: ComplaintApi.Now.AddHours(-30));

        // Deliver the check the ledger scheduled (its due time has passed); the real timer may race it, which the version check settles.
        await Deliver(id);
        var breaches = (await app.Get($"/api/complaints/{id}")).Body!["case"]!["breaches"];
        var breach = Assert.Single(breaches!.AsArray())!;
        Assert.Equal(("acknowledge", "standard"), (breach["promise"]!.GetValue<string>(), breach["policy"]!.GetValue<string>()));
        Assert.True(TimeSpan.Parse(breach["overdueBy"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture) >= TimeSpan.FromHours(6));
        var listed = await app.Get($"/api/complaints?breached=true&pageSize=500&from={Uri.EscapeDataString(ComplaintApi.Now.AddHours(-31).ToString("O"))}", app.As("supervisor"));
        Assert.Contains(listed.Body!["cases"]!.AsArray(), c => c!["complaintId"]!.GetValue<string>() == id);

        // Delivering the timer again (a restart, a second instance) records nothing more.
        await Deliver(id);
        Assert.Single((await app.Get($"/api/complaints/{id}")).Body!["case"]!["breaches"]!.AsArray());
    }

    [Fact]
    public async Task A_promise_timer_is_scheduled_for_the_due_time_and_breaches_only_once_that_time_has_passed()
    {
        var (customer, _) = await CustomerWithPurchase();
        var id = Ids.Unique("k");
        var loggedAt = ComplaintApi.Now.AddMinutes(-1);
        await app.Log(customer, id, severity: "critical", occurredAt: loggedAt);
        var due = loggedAt.AddHours(2);

        var scheduled = await ScheduledChecks(due);
        Assert.Single(scheduled);

        Assert.Equal(due, await CheckAt(id, due.AddMinutes(-1)));
        Assert.Empty((await app.Get($"/api/complaints/{id}")).Body!["case"]!["breaches"]!.AsArray());
        await CheckAt(id, due.AddMinutes(1));

        var breach = Assert.Single((await app.Get($"/api/complaints/{id}")).Body!["case"]!["breaches"]!.AsArray())!;
        Assert.Equal("acknowledge", breach["promise"]!.GetValue<string>());
    }

    [Fact]
    public async Task Each_step_replaces_the_cases_timer_and_a_case_with_every_promise_met_has_none()
    {
        var (customer, _) = await CustomerWithPurchase();
        var id = Ids.Unique("k");
        var loggedAt = ComplaintApi.Now.AddMinutes(-30);
        var logged = await app.Log(customer, id, severity: "critical", occurredAt: loggedAt);

        var first = await Timer(id);
        Assert.Equal(loggedAt.AddHours(2), first!.DueAt);
        Assert.Equal([first.DueAt], await ScheduledEnvelope(first.EnvelopeId));

        var acknowledged = await app.Step(id, "acknowledge", logged.Version(), at: loggedAt.AddMinutes(10));
        var second = await Timer(id);
        Assert.Equal(loggedAt.AddHours(24), second!.DueAt);
        Assert.Empty(await ScheduledEnvelope(first.EnvelopeId));
        Assert.Equal([second.DueAt], await ScheduledEnvelope(second.EnvelopeId));

        var resolved = await app.Step(id, "resolve", acknowledged.Version(), new JsonObject { ["rootCause"] = "carrier-delay", ["summary"] = "Resent" }, loggedAt.AddMinutes(20));
        var third = await Timer(id);
        Assert.Empty(await ScheduledEnvelope(second.EnvelopeId));
        await app.Step(id, "close", resolved.Version(), at: loggedAt.AddMinutes(25));

        Assert.Null(await Timer(id));
        Assert.Empty(await ScheduledEnvelope(third!.EnvelopeId));
    }

    private async Task<ComplaintTimer?> Timer(string id)
    {
        await using var session = app.Store.QuerySession();
        return await session.LoadAsync<ComplaintTimer>(id, TestContext.Current.CancellationToken);
    }

    /// <summary>The due time of a scheduled envelope still waiting in Wolverine's durable store.</summary>
    private async Task<List<DateTimeOffset>> ScheduledEnvelope(Guid envelopeId)
    {
        await using var connection = new Npgsql.NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            $"select execution_time from {app.Schema}_wolverine.wolverine_incoming_envelopes where status = 'Scheduled' and id = @id", connection);
        command.Parameters.AddWithValue("id", envelopeId);
        var times = new List<DateTimeOffset>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            times.Add(reader.GetFieldValue<DateTimeOffset>(0));
        }

        return times;
    }

    /// <summary>
    /// The promise check handled by Wolverine, as the timer's delivery is (the handler reads the real clock). Invoked
    /// inline, not in a tracked session, which would wait for every other test's messages in the shared host; the real
    /// timer may race it, which the stream's version settles (the loser retries and finds the breach recorded).
    /// </summary>
    private Task<bool> Deliver(string id) => CustomerJourney.Infrastructure.TransientConflicts.RetryAsync(async () =>
    {
        await using var scope = app.Host.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IMessageBus>().InvokeAsync(new CheckComplaintSla(id), TestContext.Current.CancellationToken);
        return true;
    }, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, "test delivery", TestContext.Current.CancellationToken);

    /// <summary>The promise check's decision at an instant of the test's choosing, appended as the handler appends it.</summary>
    private async Task<DateTimeOffset?> CheckAt(string id, DateTimeOffset now)
    {
        await using var session = app.Store.LightweightSession();
        var stream = await session.Events.FetchForWriting<ComplaintCase>(ComplaintCase.StreamKey(id), TestContext.Current.CancellationToken);
        var (breaches, next) = SlaClocks.Check(stream.Aggregate!, app.Host.Services.GetRequiredService<SlaPolicies>(), now);
        stream.AppendMany(breaches);
        await session.SaveChangesAsync(TestContext.Current.CancellationToken);
        return next;
    }

    /// <summary>The promise checks Wolverine holds in its durable store for (about) this instant.</summary>
    private async Task<List<DateTimeOffset>> ScheduledChecks(DateTimeOffset due)
    {
        await using var connection = new Npgsql.NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            $"select execution_time from {app.Schema}_wolverine.wolverine_incoming_envelopes where status = 'Scheduled' and message_type like '%CheckComplaintSla%' and execution_time between @from and @to",
            connection);
        command.Parameters.AddWithValue("from", due.AddMilliseconds(-1));
        command.Parameters.AddWithValue("to", due.AddMilliseconds(1));
        var times = new List<DateTimeOffset>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            times.Add(reader.GetFieldValue<DateTimeOffset>(0));
        }

        return times;
    }

    [Fact]
    public async Task The_clocks_can_be_recomputed_under_another_policy_without_touching_recorded_breaches()
    {
        var (customer, _) = await CustomerWithPurchase();
        var id = Ids.Unique("k");
        await app.Log(customer, id, severity: "low", occurredAt: new DateTimeOffset(2026, 3, 6, 16, 0, 0, TimeSpan.Zero));

        var calendar = await app.Get($"/api/complaints/{id}/sla?policy=standard");
        var business = await app.Get($"/api/complaints/{id}/sla?policy=business-hours");
        var unknown = await app.Get($"/api/complaints/{id}/sla?policy=made-up");

        DateTimeOffset Due(Answer a) => DateTimeOffset.Parse(a.Body!["promises"]!.AsArray().Single(p => p!["promise"]!.GetValue<string>() == "acknowledge")!["dueAt"]!.GetValue<string>(),
            System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(new DateTimeOffset(2026, 3, 7, 16, 0, 0, TimeSpan.Zero), Due(calendar));
        // Friday 16:00 plus 24 business hours of 09:00-17:00 on weekdays: 1 h on Friday, 8 h on Monday and Tuesday, 7 h on Wednesday.
        Assert.Equal(new DateTimeOffset(2026, 3, 11, 16, 0, 0, TimeSpan.Zero), Due(business));
        Assert.StartsWith("business", business.Body!["clock"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(400, unknown.Status);
    }
}
