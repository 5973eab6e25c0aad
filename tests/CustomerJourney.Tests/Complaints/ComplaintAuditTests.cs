using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;
using Npgsql;

namespace CustomerJourney.Tests.Complaints;

/// <summary>The hash chain of a case: exported, verified, and shown to catch each way of tampering with the stored rows.</summary>
// One collection: the audit tests sign every case's chain head at once (as an admin does), which would slip a signed head
// into the complaint snapshot's verify answer if the two ran side by side.
[Collection("Signed chain heads")]
public sealed class ComplaintAuditTests(AppFixture app)
{
    private Credentials Auditor => app.As("auditor");

    /// <summary>A case with five events: logged, acknowledged, apology, resolved, closed.</summary>
    private async Task<string> FiveStepCase()
    {
        var customer = Ids.Customer();
        var id = Ids.Unique("k");
        var start = ComplaintApi.Now.AddHours(-5);
        var v = (await app.Log(customer, id, occurredAt: start)).Version();
        v = (await app.Step(id, "acknowledge", v, at: start.AddHours(1))).Version();
        v = (await app.Step(id, "apologize", v, new JsonObject { ["by"] = "Ann", ["wording"] = "Sorry" }, start.AddHours(2))).Version();
        v = (await app.Step(id, "resolve", v, new JsonObject { ["rootCause"] = "carrier", ["summary"] = "Resent" }, start.AddHours(3))).Version();
        Assert.Equal(5, (await app.Step(id, "close", v, at: start.AddHours(4))).Version());
        return id;
    }

    private async Task Sql(string sql)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql.Replace("{s}", app.Schema, StringComparison.Ordinal), connection);
        await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    private async Task<JsonNode> Verify(string id, JsonNode? exportedHead = null) => exportedHead is null
        ? (await app.Get($"/api/complaints/{id}/audit/verify", Auditor)).Body!
        : (await app.Call(HttpMethod.Post, $"/api/complaints/{id}/audit/verify", exportedHead, Auditor)).Body!;

    private static long? FirstMismatch(JsonNode verification) => verification["firstMismatch"]?["version"]?.GetValue<long>();

    private async Task<JsonNode> ExportHead(string id)
    {
        Assert.Equal(200, (await app.Call(HttpMethod.Post, "/api/complaints/audit/heads", null, app.As("admin"))).Status);
        var heads = (await app.Get($"/api/complaints/audit/heads?complaintId={id}", Auditor)).Body!.AsArray();
        return heads[^1]!.DeepClone();
    }

    [Fact]
    public async Task Auditors_verify_against_an_exported_head_but_only_an_admin_signs_heads()
    {
        var id = await FiveStepCase();

        var auditorSigns = await app.Call(HttpMethod.Post, "/api/complaints/audit/heads", null, Auditor);
        var supervisorSigns = await app.Call(HttpMethod.Post, "/api/complaints/audit/heads", null, app.As("supervisor"));
        var head = await ExportHead(id);
        var verified = await app.Call(HttpMethod.Post, $"/api/complaints/{id}/audit/verify", head, Auditor);

        Assert.Equal((403, "application/problem+json"), (auditorSigns.Status, auditorSigns.ContentType));
        Assert.Equal(403, supervisorSigns.Status);
        Assert.Equal(200, verified.Status);
        Assert.Null(FirstMismatch(verified.Body!));
    }

    [Fact]
    public async Task The_trail_lists_every_event_with_who_when_why_and_a_chain_that_verifies()
    {
        var id = await FiveStepCase();

        var trail = (await app.Get($"/api/complaints/{id}/audit", Auditor)).Body!;
        var entries = trail["entries"]!.AsArray();
        Assert.Equal(5, entries.Count);
        Assert.Equal(new string('0', 64), entries[0]!["previousHash"]!.GetValue<string>());
        for (var i = 1; i < entries.Count; i++)
        {
            var previous = entries[i - 1]!["chainHash"]!.GetValue<string>();
            Assert.Equal(previous, entries[i]!["previousHash"]!.GetValue<string>());
            var link = SHA256.HashData([.. Convert.FromHexString(previous), .. Convert.FromHexString(entries[i]!["entryHash"]!.GetValue<string>())]);
            Assert.Equal(Convert.ToHexStringLower(link), entries[i]!["chainHash"]!.GetValue<string>());
        }

        Assert.Equal("POST /api/complaints/{complaintId}/acknowledge", entries[1]!["command"]!.GetValue<string>());
        Assert.Equal("user:agent-ann", entries[1]!["recordedBy"]!.GetValue<string>());
        Assert.NotNull(entries[1]!["occurredAt"]);
        var verified = await Verify(id);
        Assert.True(verified["verified"]!.GetValue<bool>(), verified.ToJsonString());

        var csv = await app.Call(HttpMethod.Get, $"/api/complaints/{id}/audit", null, Auditor, accept: "text/csv");
        Assert.Equal("text/csv", csv.ContentType);
        var lines = csv.Body!.GetValue<string>().Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(6, lines.Length);
        Assert.StartsWith("version,sequence,type,", lines[0], StringComparison.Ordinal);

        var early = await app.Get($"/api/complaints/{id}/audit?asOf={Uri.EscapeDataString(entries[2]!["recordedAt"]!.GetValue<string>())}", Auditor);
        Assert.Equal(3, early.Body!["entries"]!.AsArray().Count);
        Assert.Equal(403, (await app.Get($"/api/complaints/{id}/audit", app.As("agent"))).Status);
    }

    [Fact]
    public async Task The_trail_shows_the_callers_correlation_id_and_the_trace_id_apart()
    {
        var id = Ids.Unique("k");
        var v = (await app.Log(Ids.Customer(), id)).Version();
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var correlationId = Ids.Unique("ticket");

        var step = await app.Call(HttpMethod.Post, $"/api/complaints/{id}/acknowledge", new JsonObject { ["correlationId"] = correlationId }, app.Agent(),
            ifMatch: $"\"{v}\"", traceParent: $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        Assert.Equal(200, step.Status);

        var acknowledged = (await app.Get($"/api/complaints/{id}/audit", Auditor)).Body!["entries"]![1]!;
        Assert.Equal((correlationId, traceId), (acknowledged["correlationId"]?.GetValue<string>(), acknowledged["traceId"]?.GetValue<string>()));
        var csv = (await app.Call(HttpMethod.Get, $"/api/complaints/{id}/audit?format=csv", null, Auditor)).Body!.GetValue<string>()
            .Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(',')).ToList();
        string Column(string[] row, string name) => row[Array.IndexOf(csv[0], name)];
        Assert.Equal((correlationId, traceId), (Column(csv[2], "correlationId"), Column(csv[2], "traceId")));
        var verified = await Verify(id);
        Assert.True(verified["verified"]!.GetValue<bool>(), verified.ToJsonString());
    }

    [Fact]
    public async Task Changing_a_stored_event_is_caught_at_that_entry()
    {
        var id = await FiveStepCase();

        await Sql($"update {{s}}.mt_events set data = jsonb_set(data, '{{by}}', '\"Mallory\"') where stream_id = 'complaint/{id}' and version = 3");

        var verification = await Verify(id);
        Assert.False(verification["verified"]!.GetValue<bool>());
        Assert.Equal(3, FirstMismatch(verification));
        Assert.Contains("content", verification["firstMismatch"]!["problem"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deleting_a_stored_event_is_caught_at_that_entry()
    {
        var id = await FiveStepCase();

        await Sql($"delete from {{s}}.mt_events where stream_id = 'complaint/{id}' and version = 2");

        Assert.Equal(2, FirstMismatch(await Verify(id)));
    }

    [Fact]
    public async Task Swapping_two_stored_events_is_caught_at_the_first_of_them()
    {
        var id = await FiveStepCase();

        await Sql($$"""
                   update {s}.mt_events set version = -3 where stream_id = 'complaint/{{id}}' and version = 3;
                   update {s}.mt_events set version = 3 where stream_id = 'complaint/{{id}}' and version = 4;
                   update {s}.mt_events set version = 4 where stream_id = 'complaint/{{id}}' and version = -3;
                   """);

        Assert.Equal(3, FirstMismatch(await Verify(id)));
    }

    [Fact]
    public async Task Truncating_the_tail_with_its_seals_is_caught_against_an_exported_signed_head()
    {
        var id = await FiveStepCase();
        var head = await ExportHead(id);
        Assert.Equal(5, head["version"]!.GetValue<long>());

        // A careful forger removes the last two events, their seals and the stored heads: what remains is consistent.
        await Sql($$"""
                   delete from {s}.mt_events where stream_id = 'complaint/{{id}}' and version > 3;
                   delete from {s}.cj_complaint_audit_chain where stream_id = 'complaint/{{id}}' and version > 3;
                   delete from {s}.mt_doc_signedchainhead where data ->> 'complaintId' = '{{id}}';
                   """);

        var alone = await Verify(id);
        Assert.Null(FirstMismatch(alone));
        var againstExport = await Verify(id, head);
        Assert.False(againstExport["verified"]!.GetValue<bool>());
        var check = againstExport["heads"]!.AsArray().Single(h => h!["source"]!.GetValue<string>() == "exported")!;
        Assert.Contains("entries were removed", check["problem"]!.GetValue<string>(), StringComparison.Ordinal);

        var forged = head.DeepClone();
        forged["chainHash"] = new string('a', 64);
        var refused = await Verify(id, forged);
        Assert.False(refused["heads"]!.AsArray().Single()!["signatureValid"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Erasing_the_customer_keeps_the_chain_verifiable()
    {
        var customer = Ids.Customer();
        var id = Ids.Unique("k");
        var v = (await app.Log(customer, id)).Version();
        await app.Step(id, "acknowledge", v, new JsonObject { ["reason"] = "Called the customer back" });

        var erased = await app.Call(HttpMethod.Post, $"/api/customers/{customer}/erasure", null, app.As("admin"));
        Assert.Equal(200, erased.Status);

        var verification = await Verify(id);
        Assert.True(verification["verified"]!.GetValue<bool>(), verification.ToJsonString());
        var trail = (await app.Get($"/api/complaints/{id}/audit", Auditor)).Body!.ToJsonString();
        Assert.DoesNotContain("Called the customer back", trail, StringComparison.Ordinal);
    }
}
