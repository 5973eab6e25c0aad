using System.Diagnostics;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;
using Npgsql;

namespace CustomerJourney.Tests.Faults;

/// <summary>
/// The service killed mid-ingest, and PostgreSQL stopped under load: nothing acknowledged is lost, nothing is stored
/// twice, no stream has a gap, and the summaries equal a recount from the events.
/// </summary>
public sealed class FaultTests
{
    private const string Source = "fault-shop";

    /// <param name="customer">In the body for a batch item; null when the route names the customer.</param>
    private static string Item(string? customer, string sourceId)
    {
        var item = new JsonObject
        {
            ["kind"] = "purchase", ["occurredAt"] = "1998-02-01T10:00:00Z", ["channel"] = "web", ["source"] = Source, ["sourceId"] = sourceId,
            ["data"] = new JsonObject { ["orderId"] = sourceId, ["amount"] = 12.5, ["currency"] = "USD" },
        };
        if (customer is not null)
        {
            item["customerId"] = customer;
        }

        return item.ToJsonString();
    }

    private static string CustomerOf(string sourceId) => $"p-{int.Parse(sourceId.Split('-')[2], System.Globalization.CultureInfo.InvariantCulture) % 50}";

    /// <summary>Every source id once, every stream without a gap, every summary equal to a count of its stream.</summary>
    private static async Task AssertInvariants(string connectionString, string schema, IReadOnlySet<string> acknowledged, int expectedTotal)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        async Task<long> Count(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            return Convert.ToInt64(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        }

        Assert.Equal(expectedTotal, await Count($"select count(*) from {schema}.mt_events where data->>'source' = '{Source}'"));
        Assert.Equal(expectedTotal, await Count($"select count(distinct data->>'sourceId') from {schema}.mt_events where data->>'source' = '{Source}'"));
        Assert.Equal(expectedTotal, await Count($"select count(*) from {schema}.cj_touchpoint_sources where source = '{Source}'"));
        await using (var gaps = new NpgsqlCommand(
                         $"select stream_id || ': ' || string_agg(version::text || '/' || type, ',' order by seq_id) from {schema}.mt_events " +
                         // Marten's own 'mt_tombstone' stream marks sequence numbers of rolled-back appends: not a customer's.
                         $"where stream_id in (select stream_id from {schema}.mt_events where stream_id <> 'mt_tombstone' group by stream_id having max(version) <> count(*) or min(version) <> 1) group by stream_id", connection))
        {
            var found = new List<string>();
            await using var reader = await gaps.ExecuteReaderAsync(TestContext.Current.CancellationToken);
            while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            {
                found.Add(reader.GetString(0));
            }

            Assert.True(found.Count == 0, "streams with a version gap: " + string.Join(" | ", found.Take(5)));
        }

        Assert.Equal(0, await Count(
            $"""
             select count(*) from {schema}.mt_doc_customersummary s
             where (s.data->>'touchpointCount')::int <> (select count(*) from {schema}.mt_events e where e.stream_id = s.id and e.data ? 'sourceId')
             """));
        await using var ids = new NpgsqlCommand($"select data->>'sourceId' from {schema}.mt_events where data->>'source' = '{Source}'", connection);
        var stored = new HashSet<string>(StringComparer.Ordinal);
        await using (var reader = await ids.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            while (await reader.ReadAsync(TestContext.Current.CancellationToken))
            {
                stored.Add(reader.GetString(0));
            }
        }

        Assert.Empty(acknowledged.Except(stored));
    }

    private static async Task Drop(string connectionString, string schema)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"drop schema if exists {schema} cascade; drop schema if exists {schema}_wolverine cascade; drop schema if exists {schema}_keys cascade;", connection);
        await drop.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task Killed_with_SIGKILL_in_the_middle_of_a_batch_ingest_and_sent_everything_again_every_touchpoint_is_there_once()
    {
        var schema = $"fault_{DateTime.UtcNow:yyyyMMddHHmmss}_{Guid.NewGuid().ToString("N")[..6]}";
        var batches = Enumerable.Range(0, 40).Select(b => "[" + string.Join(",", Enumerable.Range(0, 500).Select(i => Item($"k-{(b * 500 + i) % 4000}", $"s-{b}-{i}"))) + "]").ToList();
        var acknowledged = new HashSet<string>(StringComparer.Ordinal);
        var service = new ServiceProcess(AppFixture.ConnectionString, schema);
        try
        {
            await service.StartAsync(Source);
            var queue = new System.Collections.Concurrent.ConcurrentQueue<int>(Enumerable.Range(0, batches.Count));
            var clients = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
            {
                while (queue.TryDequeue(out var b))
                {
                    try
                    {
                        var (status, _, _) = await service.PostAsync("/api/touchpoints/batch", batches[b]);
                        if (status == 200)
                        {
                            lock (acknowledged)
                            {
                                acknowledged.UnionWith(Enumerable.Range(0, 500).Select(i => $"s-{b}-{i}"));
                            }
                        }
                    }
                    catch (HttpRequestException)
                    {
                        return;
                    }
                }
            })).ToList();
            await Waiting.Until(() =>
            {
                lock (acknowledged)
                {
                    return acknowledged.Count > 0;
                }
            }, TimeSpan.FromSeconds(60), "a first acknowledged batch");

            // Some batches answered, others in flight: now.
            await service.KillAsync();
            await Task.WhenAll(clients);
            Assert.NotEmpty(acknowledged);
            Assert.True(acknowledged.Count < 40 * 500, "the kill came after everything was acknowledged");

            await service.StartAsync(Source);
            foreach (var batch in batches)
            {
                var (status, body, _) = await service.PostAsync("/api/touchpoints/batch", batch);
                Assert.True(status == 200, body);
            }

            await AssertInvariants(AppFixture.ConnectionString, schema, acknowledged, 40 * 500);
        }
        finally
        {
            await service.DisposeAsync();
            await Drop(AppFixture.ConnectionString, schema);
        }
    }

    [Fact]
    public async Task PostgreSQL_stopped_under_load_gives_503_problems_then_the_service_recovers_by_itself_and_loses_nothing_acknowledged()
    {
        await using var cluster = await TemporaryCluster.CreateAsync();
        var service = new ServiceProcess(cluster.ConnectionString, "journey");
        try
        {
            await service.StartAsync(Source);
            var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
            var statuses = new System.Collections.Concurrent.ConcurrentBag<(int Status, string? ContentType, string Body)>();
            var unsure = new System.Collections.Concurrent.ConcurrentBag<string>();
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(14));
            var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
            {
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var id = $"pg-{w}-{n}";
                    try
                    {
                        var (status, body, type) = await service.PostAsync($"/api/customers/{CustomerOf(id)}/touchpoints", Item(null, id));
                        statuses.Add((status, type, body));
                        if (status is 200 or 201)
                        {
                            acknowledged[id] = true;
                        }
                        else
                        {
                            unsure.Add(id);
                            await Task.Delay(100);
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                        unsure.Add(id);
                    }
                }
            })).ToList();

            // Under load first, then away until the service has answered that it is, then back.
            await Waiting.Until(() => acknowledged.Count >= 50, TimeSpan.FromSeconds(10), "50 acknowledged writes");
            await cluster.StopAsync();
            await Waiting.Until(() => statuses.Any(s => s.Status == 503), TimeSpan.FromSeconds(10), "a 503 while PostgreSQL is away");
            await cluster.StartAsync();
            await Task.WhenAll(writers);

            var outcomes = statuses.GroupBy(s => s.Status).ToDictionary(g => g.Key, g => g.Count());
            Assert.True(outcomes.ContainsKey(503), string.Join(", ", outcomes.Select(o => $"{o.Key}: {o.Value}")));
            Assert.All(statuses.Where(s => s.Status == 503), s => Assert.Equal("application/problem+json", s.ContentType));
            Assert.DoesNotContain(500, outcomes.Keys);

            // Recovered by itself: the last requests, after the restart, were acknowledged again.
            Assert.Contains(statuses, s => s.Status is 200 or 201);
            foreach (var id in unsure)
            {
                var (status, body, _) = await service.PostAsync($"/api/customers/{CustomerOf(id)}/touchpoints", Item(null, id));
                Assert.True(status is 200 or 201, body);
                acknowledged[id] = true;
            }

            await AssertInvariants(cluster.ConnectionString, "journey", acknowledged.Keys.ToHashSet(StringComparer.Ordinal), acknowledged.Count);
        }
        finally
        {
            await service.DisposeAsync();
        }
    }
}
