using System.Diagnostics;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;
using Npgsql;

namespace CustomerJourney.Tests.Faults;

/// <summary>
/// The import command killed with SIGKILL mid-import, and again between a chunk's claim and its bulk append, then run
/// again to the end, then the same file posted over HTTP: every touchpoint is stored exactly once (Invariants).
/// </summary>
public sealed class ImportFaultTests
{
    private const string Source = "fault-import";
    private const int Customers = 1_200;
    private const int PerCustomer = 10;
    private const int ChunkSize = 1_000;

    [Fact]
    public async Task Killed_mid_import_and_between_the_claim_and_the_bulk_append_then_run_again_every_touchpoint_is_there_once()
    {
        var schema = $"fault_{DateTime.UtcNow:yyyyMMddHHmmss}_{Guid.NewGuid().ToString("N")[..6]}";
        var file = Path.Combine(Path.GetTempPath(), $"{Source}-{schema}.ndjson");
        // Grouped by customer, as a history exported from another system is: most of it goes through the bulk append.
        await File.WriteAllLinesAsync(file, Enumerable.Range(0, Customers * PerCustomer).Select(i => Item($"imp-{i / PerCustomer}", $"h-{i}")),
            TestContext.Current.CancellationToken);
        var service = new ServiceProcess(AppFixture.ConnectionString, schema);
        service.Settings["Imports__ChunkSize"] = ChunkSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            await service.StartAsync(Source);
            await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
            await connection.OpenAsync(TestContext.Current.CancellationToken);

            // First kill: somewhere after two chunks were closed.
            await KillWhenAsync(service.StartCommand("import", file, "--source", Source), () => Scalar(connection, $"select count(*) from {schema}.cj_import_chunks where state = 'done'"),
                done => done >= 2, "two closed chunks");
            var acknowledged = await Stored(connection, schema);
            Assert.InRange(acknowledged.Count, 2 * ChunkSize, (Customers * PerCustomer) - 1);

            // Second kill: the next run holds after claiming chunk 9, with its source ids in the register and no events yet.
            service.Settings["Imports__HoldAfterClaimOfChunk"] = "9";
            await KillWhenAsync(service.StartCommand("import", file, "--source", Source),
                () => Scalar(connection, $"select count(*) from {schema}.cj_import_chunks where state = 'claimed' and chunk = 9"), claimed => claimed == 1,
                "chunk 9 claimed");
            var registered = await Scalar(connection, $"select count(*) from {schema}.cj_touchpoint_sources where source = '{Source}'");
            var stored = await Stored(connection, schema);
            Assert.True(registered > stored.Count, $"the kill came after the bulk append ({registered} registered, {stored.Count} stored)");

            service.Settings.Remove("Imports__HoldAfterClaimOfChunk");
            using (var last = service.StartCommand("import", file, "--source", Source))
            {
                var output = last.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
                var error = last.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
                await last.WaitForExitAsync(TestContext.Current.CancellationToken);
                Assert.True(last.ExitCode == 0, await output + await error);
                Assert.Contains("events/s", await output, StringComparison.Ordinal);
            }

            // The same history over HTTP: everything is known already.
            using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/imports") { Content = new StreamContent(File.OpenRead(file)) })
            {
                request.Content.Headers.ContentType = new("application/x-ndjson");
                request.Headers.Add("X-Api-Key", service.ApiKey);
                using var response = await service.Http.SendAsync(request, TestContext.Current.CancellationToken);
                var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;
                Assert.Equal(202, (int)response.StatusCode);
                Assert.Equal((0, Customers * PerCustomer), (body["appended"]!.GetValue<int>(), body["duplicates"]!.GetValue<int>()));
            }

            await Invariants.AssertAsync(service, AppFixture.ConnectionString, schema, Source, acknowledged, Customers * PerCustomer);
        }
        finally
        {
            await service.DisposeAsync();
            await FaultTests.Drop(AppFixture.ConnectionString, schema);
            File.Delete(file);
        }
    }

    private static async Task KillWhenAsync(Process command, Func<Task<long>> read, Func<long, bool> holds, string what)
    {
        using (command)
        {
            _ = command.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            _ = command.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await Waiting.For(async () =>
            {
                Assert.False(command.HasExited, $"the import ended (exit {(command.HasExited ? command.ExitCode : 0)}) before {what}");
                return await read();
            }, holds, TimeSpan.FromMinutes(3), what, TimeSpan.FromMilliseconds(50));
            command.Kill(entireProcessTree: true);
            await command.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }

    private static string Item(string customer, string sourceId) => new JsonObject
    {
        ["customerId"] = customer, ["kind"] = "purchase", ["occurredAt"] = "1998-02-01T10:00:00Z", ["channel"] = "web", ["source"] = Source,
        ["sourceId"] = sourceId, ["data"] = new JsonObject { ["orderId"] = sourceId, ["amount"] = 12.5, ["currency"] = "USD" },
    }.ToJsonString();

    private static async Task<HashSet<string>> Stored(NpgsqlConnection connection, string schema)
    {
        await using var command = new NpgsqlCommand($"select data->>'sourceId' from {schema}.mt_events where data->>'source' = '{Source}'", connection);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        var stored = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            stored.Add(reader.GetString(0));
        }

        return stored;
    }

    private static async Task<long> Scalar(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }
}
