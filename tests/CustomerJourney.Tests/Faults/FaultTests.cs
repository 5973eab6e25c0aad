using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;
using Npgsql;

namespace CustomerJourney.Tests.Faults;

/// <summary>
/// The service killed mid-ingest, PostgreSQL stopped under load, and the service's connections cut again and again;
/// after each, the invariants hold (Invariants).
/// </summary>
public sealed class FaultTests
{
    internal const string Source = "fault-shop";

    /// <param name="customer">In the body for a batch item; null when the route names the customer.</param>
    internal static string Item(string? customer, string sourceId)
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

    internal static string CustomerOf(string sourceId) => $"p-{int.Parse(sourceId.Split('-')[2], System.Globalization.CultureInfo.InvariantCulture) % 50}";

    internal static Task Drop(string connectionString, string schema) => ServiceHost.DropSchemas(schema, connectionString);

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

            await Invariants.AssertAsync(service, AppFixture.ConnectionString, schema, Source, acknowledged, 40 * 500);
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

            await Invariants.AssertAsync(service, cluster.ConnectionString, "journey", Source, acknowledged.Keys.ToHashSet(StringComparer.Ordinal), acknowledged.Count);
        }
        finally
        {
            await service.DisposeAsync();
        }
    }
    /// <summary>
    /// Posts one touchpoint until the service says it is stored (200/201): a 503, a cut connection or a timeout leaves
    /// the client not knowing, and sending the same source id again is how it finds out. Bounded.
    /// </summary>
    internal static async Task<int> UntilAcknowledged(ServiceProcess service, string url, string body, ConcurrentBag<int> statuses)
    {
        for (var attempt = 1; attempt <= 60; attempt++)
        {
            try
            {
                var (status, _, _) = await service.PostAsync(url, body);
                statuses.Add(status);
                if (status is 200 or 201)
                {
                    return attempt;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                statuses.Add(0);
            }

            // A client's back-off between retries, as a real source system would do.
            await Task.Delay(100 * Math.Min(attempt, 10));
        }

        throw new Xunit.Sdk.XunitException($"{url} was never acknowledged in 60 attempts");
    }

    [Fact]
    public async Task Connections_cut_by_pg_terminate_backend_every_two_seconds_each_retried_request_is_stored_exactly_once()
    {
        var schema = $"fault_{DateTime.UtcNow:yyyyMMddHHmmss}_{Guid.NewGuid().ToString("N")[..6]}";
        // Its own application name, so only the service's connections are cut, not those of the tests beside it.
        var application = "cj-" + schema;
        var service = new ServiceProcess($"{AppFixture.ConnectionString};Application Name={application}", schema);
        var acknowledged = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        var statuses = new ConcurrentBag<int>();
        var terminated = 0L;
        try
        {
            await service.StartAsync(Source);
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            var singles = Enumerable.Range(0, 3).Select(w => Task.Run(async () =>
            {
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var id = $"cut-{w}-{n}";
                    await UntilAcknowledged(service, $"/api/customers/{CustomerOf(id)}/touchpoints", Item(null, id), statuses);
                    acknowledged[id] = true;
                }
            }));
            var batches = Task.Run(async () =>
            {
                for (var b = 0; !stop.IsCancellationRequested; b++)
                {
                    var ids = Enumerable.Range(0, 200).Select(i => $"cut-b{b}-{i}").ToList();
                    await UntilAcknowledged(service, "/api/touchpoints/batch", "[" + string.Join(",", ids.Select((id, i) => Item($"c-{i % 50}", id))) + "]", statuses);
                    ids.ForEach(id => acknowledged[id] = true);
                }
            }, TestContext.Current.CancellationToken);
            var cutter = Task.Run(async () =>
            {
                await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
                await connection.OpenAsync();
                while (!stop.IsCancellationRequested)
                {
                    // The fault's cadence: the service's connections are cut every 2 s.
                    await Task.Delay(2000);
                    await using var cut = new NpgsqlCommand(
                        $"select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = '{application}'", connection);
                    Interlocked.Add(ref terminated, (long)(await cut.ExecuteScalarAsync())!);
                }
            }, TestContext.Current.CancellationToken);
            await Task.WhenAll([.. singles, batches, cutter]);

            Assert.True(Interlocked.Read(ref terminated) > 0, "no connection of the service was cut");
            var outcomes = statuses.GroupBy(s => s).ToDictionary(g => g.Key, g => g.Count());
            var summary = string.Join(", ", outcomes.Select(o => $"{(o.Key == 0 ? "no answer" : o.Key)}: {o.Value}"));
            Assert.True(statuses.Any(s => s is not (200 or 201)), $"every request succeeded at once, so nothing was retried: {summary}");
            Assert.True(statuses.All(s => s is 0 or 200 or 201 or 503), summary);
            await Invariants.AssertAsync(service, AppFixture.ConnectionString, schema, Source, acknowledged.Keys.ToHashSet(StringComparer.Ordinal), acknowledged.Count);
        }
        finally
        {
            await service.DisposeAsync();
            await Drop(AppFixture.ConnectionString, schema);
        }
    }
}
