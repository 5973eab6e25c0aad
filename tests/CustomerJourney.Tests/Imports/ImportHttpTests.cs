using System.Text.Json.Nodes;
using CustomerJourney.Complaints;
using CustomerJourney.Imports;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CustomerJourney.Tests.Imports;

/// <summary>The import's guarantees over HTTP, one test each. Serial: one swaps the import's seam between claim and bulk append.</summary>
[Collection(nameof(SerialImports))]
public sealed class ImportHttpTests(AppFixture app)
{
    private static readonly DateTimeOffset Past = DateTimeOffset.Parse("2021-03-01T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    private async Task<Answer> PostImport(IEnumerable<JsonNode> items, string source = AppFixture.DefaultSource) =>
        await app.Send(HttpMethod.Post, "/api/imports", string.Join("\n", items.Select(i => i.ToJsonString())) + "\n", "application/x-ndjson",
            Credentials.Key(await app.KeyFor(source)));

    private async Task<Answer> Status(string location, string source = AppFixture.DefaultSource) =>
        await app.Get(location, Credentials.Key(await app.KeyFor(source)));

    private async Task<IReadOnlyList<JasperFx.Events.IEvent>> Stream(string key)
    {
        await using var session = app.Store.QuerySession();
        return await session.Events.FetchStreamAsync(key, token: TestContext.Current.CancellationToken);
    }

    private static List<JsonNode> History(string customer, int count, string source = AppFixture.DefaultSource) =>
        Enumerable.Range(0, count).Select(i => (JsonNode)TouchpointJson.Purchase(customer, Past.AddDays(i), source: source)).ToList();

    [Fact]
    public async Task New_customers_are_bulk_appended_sealed_as_live_ones_and_a_repost_appends_nothing()
    {
        var (ann, bob) = (Ids.Customer(), Ids.Customer());
        var contact = TouchpointJson.Kind("contact-details-changed", new JsonObject { ["email"] = $"{ann}@import.example" }, ann, Past, channel: "web");
        var items = History(ann, 5).Concat(History(bob, 3)).Append(contact).ToList();

        var first = await PostImport(items);
        var again = await PostImport(items);

        Assert.Equal(202, first.Status);
        Assert.Equal((9, 9, 9, 0), (first.Body.Int("items"), first.Body.Int("appended"), first.Body.Int("bulkAppended"), first.Body.Int("duplicates")));
        Assert.StartsWith("/api/imports/http-", first.Response.Headers.Location?.ToString());
        Assert.Equal((0, 9), (again.Body.Int("appended"), again.Body.Int("duplicates")));
        var stream = await Stream(ann);
        Assert.Equal(6, stream.Count(e => e.Data is Touchpoint));
        Assert.Equal(Enumerable.Range(1, stream.Count).Select(v => (long)v), stream.Select(e => e.Version));
        Assert.All(stream.Where(e => e.Data is Touchpoint), e =>
            Assert.Equal(HistoryImport.EventIdOf(((Touchpoint)e.Data).Source, ((Touchpoint)e.Data).SourceId), e.Id));
        Assert.Equal($"key:", stream[0].UserName![..4]);
        // Each bulk-appended event carries the command that recorded it (the audit trail reads it).
        Assert.All(stream.Where(e => e.Data is Touchpoint), e => Assert.Equal("POST /api/imports", e.Headers?[AuditHeaders.Command]?.ToString()));
        // Sealed with the customer's key like a live touchpoint, and opened for a reader like one.
        Assert.StartsWith("pd1:", ((ContactDetailsChanged)stream.Single(e => e.Data is ContactDetailsChanged).Data).Email);
        var journey = await app.Get($"/api/customers/{ann}/journey?pageSize=50");
        Assert.Contains($"{ann}@import.example", journey.Body!.ToJsonString());
        var status = await Status(first.Response.Headers.Location!.ToString());
        Assert.Equal(9, status.Body.Int("appended"));
    }

    [Fact]
    public async Task Refused_items_are_listed_with_their_problems_and_the_rest_is_appended()
    {
        var customer = Ids.Customer();
        var items = History(customer, 2);
        items.Insert(1, TouchpointJson.Purchase(customer, Past, source: "someone-else"));
        items.Insert(2, TouchpointJson.Purchase(customer, Past).With("kind", "teleport"));
        items.Insert(3, JsonValue.Create("not an object")!);

        var answer = await PostImport(items);

        Assert.Equal(202, answer.Status);
        Assert.Equal((5, 2, 3), (answer.Body.Int("items"), answer.Body.Int("appended"), answer.Body.Int("rejected")));
        var rejected = answer.Body!["rejectedItems"]!.AsArray();
        Assert.Equal([1L, 2L, 3L], rejected.Select(r => r!["index"]!.GetValue<long>()));
        Assert.Equal([403, 400, 400], rejected.Select(r => r!["problem"]!["status"]!.GetValue<int>()));
        Assert.Contains("kind", rejected[1]!["problem"]!["errors"]!.AsObject().Select(e => e.Key));
    }

    [Fact]
    public async Task A_customer_who_already_has_a_stream_is_appended_through_the_ledger()
    {
        var customer = Ids.Customer();
        Assert.Equal(201, (await app.PostTouchpoint(customer, TouchpointJson.Purchase(occurredAt: Past))).Status);

        var answer = await PostImport(History(customer, 4));

        Assert.Equal((4, 0), (answer.Body.Int("appended"), answer.Body.Int("bulkAppended")));
        Assert.Equal(5, (await Stream(customer)).Count(e => e.Data is Touchpoint));
    }

    [Fact]
    public async Task A_source_id_the_register_knows_is_a_duplicate_even_for_a_customer_new_to_the_store()
    {
        // The register is keyed by source and source id, not by customer: a source that re-used an id for another
        // customer has sent it already. The new customer's other touchpoints are still bulk appended.
        var (known, newcomer) = (Ids.Customer(), Ids.Customer());
        var sourceId = Ids.Unique("order");
        Assert.Equal(201, (await app.PostTouchpoint(known, TouchpointJson.Purchase(occurredAt: Past, sourceId: sourceId))).Status);
        var items = History(newcomer, 3);
        items.Insert(1, TouchpointJson.Purchase(newcomer, Past.AddHours(1), sourceId: sourceId));

        var answer = await PostImport(items);

        Assert.Equal((4, 3, 3, 1), (answer.Body.Int("items"), answer.Body.Int("appended"), answer.Body.Int("bulkAppended"), answer.Body.Int("duplicates")));
        var appended = (await Stream(newcomer)).Where(e => e.Data is Touchpoint).Select(e => ((Touchpoint)e.Data).SourceId).ToList();
        Assert.Equal(3, appended.Count);
        Assert.DoesNotContain(sourceId, appended);
        Assert.Single(await Stream(known), e => e.Data is Touchpoint);
    }

    [Fact]
    public async Task Live_ingest_starting_a_customer_between_claim_and_bulk_append_leaves_every_touchpoint_once()
    {
        var customer = Ids.Customer();
        var live = TouchpointJson.Purchase(occurredAt: Past.AddYears(1));
        var import = app.Host.Services.GetRequiredService<HistoryImport>();
        import.BeforeBulkAppend = async chunk =>
        {
            if (chunk.Any(t => t.CustomerId == customer))
            {
                Assert.Equal(201, (await app.PostTouchpoint(customer, live)).Status);
            }
        };
        try
        {
            var answer = await PostImport(History(customer, 4));

            Assert.Equal((4, 0), (answer.Body.Int("appended"), answer.Body.Int("bulkAppended")));
        }
        finally
        {
            import.BeforeBulkAppend = null;
        }

        var touchpoints = (await Stream(customer)).Where(e => e.Data is Touchpoint).ToList();
        Assert.Equal(5, touchpoints.Count);
        Assert.Equal(5, touchpoints.Select(e => ((Touchpoint)e.Data).SourceId).Distinct().Count());
    }

    [Fact]
    public async Task A_chunk_claimed_by_an_import_that_died_before_its_bulk_append_is_given_back_and_appended_by_the_rerun()
    {
        var customer = Ids.Customer();
        var items = History(customer, 3);
        var schema = app.Store.Options.Events.DatabaseSchemaName;
        var ids = items.Select(i => i["sourceId"]!.GetValue<string>()).ToArray();
        // What a kill -9 right after the claim leaves: the register and the chunk's claim, no events.
        await using (var connection = new NpgsqlConnection(AppFixture.ConnectionString))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var claim = new NpgsqlCommand(
                $"""
                 insert into {schema}.{TouchpointLedger.TableName} (source, source_id, customer_id) select @source, i, @customer from unnest(@ids) i;
                 insert into {schema}.{HistoryImport.ChunkTable} (import_id, chunk, state, sources, source_ids, customers)
                 values (@import, 0, 'claimed', @sources, @ids, @customers);
                 """, connection);
            claim.Parameters.AddWithValue("source", AppFixture.DefaultSource);
            claim.Parameters.AddWithValue("customer", customer);
            claim.Parameters.AddWithValue("ids", ids);
            claim.Parameters.AddWithValue("import", $"dead-{customer}");
            claim.Parameters.AddWithValue("sources", ids.Select(_ => AppFixture.DefaultSource).ToArray());
            claim.Parameters.AddWithValue("customers", ids.Select(_ => customer).ToArray());
            await claim.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var answer = await PostImport(items);

        Assert.Equal((3, 0), (answer.Body.Int("appended"), answer.Body.Int("duplicates")));
        Assert.Equal(ids, (await Stream(customer)).Where(e => e.Data is Touchpoint).Select(e => ((Touchpoint)e.Data).SourceId));
    }

    [Fact]
    public async Task An_imported_case_gets_its_case_file_and_audit_chain_and_a_past_breach_recorded_once_without_a_timer()
    {
        var customer = Ids.Customer();
        var complaint = Ids.Unique("k");
        var logged = TouchpointJson.Kind("complaint-logged", new JsonObject
        {
            ["complaintId"] = complaint, ["category"] = "delivery", ["severity"] = "critical", ["description"] = "Never arrived",
            ["orderIds"] = new JsonArray("o-1"),
        }, customer, Past);
        var acknowledged = TouchpointJson.Kind("complaint-acknowledged", new JsonObject { ["complaintId"] = complaint }, customer, Past.AddMinutes(30));

        var answer = await PostImport([TouchpointJson.Purchase(customer, Past.AddDays(-3)), logged, acknowledged]);
        Assert.Equal(3, answer.Body.Int("appended"));

        // Never resolved: the resolve promise broke years ago, and is recorded once when the import is judged.
        var key = ComplaintCase.StreamKey(complaint);
        var breaches = await Waiting.For(async () => (await Stream(key)).Select(e => e.Data).OfType<ComplaintSlaBreached>().ToList(),
            b => b.Count > 0, TimeSpan.FromMinutes(3), "the imported case's past breach");
        using (var scope = app.Host.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<Wolverine.IMessageBus>().InvokeAsync(new SettleImportedComplaints(), TestContext.Current.CancellationToken);
        }

        var after = (await Stream(key)).Select(e => e.Data).OfType<ComplaintSlaBreached>().ToList();
        Assert.Equal(breaches.Select(b => (b.Promise, b.Cycle)), after.Select(b => (b.Promise, b.Cycle)));
        Assert.Single(after, b => b.Promise == SlaPromise.Resolve);
        Assert.DoesNotContain(after, b => b.Promise == SlaPromise.Acknowledge);

        await using var session = app.Store.QuerySession();
        Assert.Null(await session.LoadAsync<ComplaintTimer>(complaint, TestContext.Current.CancellationToken));
        Assert.Null(await session.LoadAsync<UnsettledComplaint>(complaint, TestContext.Current.CancellationToken));
        Assert.Equal(200, (await app.Get($"/api/complaints/{complaint}")).Status);
        var verify = await app.Get($"/api/complaints/{complaint}/audit/verify", Credentials.Token(app.Token("test-auditor", "auditor")));
        Assert.True(verify.Status == 200, verify.Body?.ToJsonString());
    }

    [Fact]
    public void The_import_endpoint_is_exempt_from_the_request_timeout_that_every_other_request_gets()
    {
        var endpoints = app.Host.Services.GetServices<Microsoft.AspNetCore.Routing.EndpointDataSource>().SelectMany(s => s.Endpoints)
            .OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>().ToList();
        bool Exempt(string route, string method) => endpoints.Single(e => e.RoutePattern.RawText!.Trim('/') == route &&
                e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()!.HttpMethods.Contains(method))
            .Metadata.GetMetadata<Microsoft.AspNetCore.Http.Timeouts.DisableRequestTimeoutAttribute>() is not null;

        Assert.True(Exempt("api/imports", "POST"));
        Assert.False(Exempt("api/touchpoints/batch", "POST"));
    }

    [Fact]
    public async Task An_import_that_is_not_ndjson_is_refused_with_a_problem()
    {
        var answer = await app.Send(HttpMethod.Post, "/api/imports", "a,b\n", "text/csv");

        Assert.Equal(415, answer.Status);
        Assert.Equal("application/problem+json", answer.Response.Content.Headers.ContentType?.MediaType);
    }
}

[CollectionDefinition(nameof(SerialImports))]
public sealed class SerialImports;
