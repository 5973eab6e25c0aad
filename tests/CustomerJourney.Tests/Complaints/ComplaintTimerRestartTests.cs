using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Alba;
using CustomerJourney.Access;
using CustomerJourney.Complaints;
using CustomerJourney.Tests.Support;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CustomerJourney.Tests.Complaints;

/// <summary>
/// A promise timer survives a restart and fires once even with two instances running. Wolverine's scheduler runs on
/// the wall clock, so this one test waits in real time, polling with a deadline.
/// </summary>
public sealed class ComplaintTimerRestartTests
{
    private readonly string _schema = ServiceHost.NewSchema("restart");

    private Task<IAlbaHost> Start() => AlbaHost.For<Program>(builder => builder.UseSetting("EventStore:Schema", _schema));

    private static async Task<long> Breaches(IAlbaHost host, string complaintId)
    {
        await using var session = host.Services.GetRequiredService<IDocumentStore>().QuerySession();
        var events = await session.Events.FetchStreamAsync(ComplaintCase.StreamKey(complaintId), token: TestContext.Current.CancellationToken);
        return events.Count(e => e.Data is ComplaintSlaBreached);
    }

    /// <summary>Promise checks for this due time not yet handled (Wolverine keeps handled envelopes a while, to de-duplicate).</summary>
    private async Task<long> PendingChecks(DateTimeOffset due)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(
            $"select count(*) from {_schema}_wolverine.wolverine_incoming_envelopes where status <> 'Handled' and message_type like '%CheckComplaintSla%' and execution_time between @from and @to",
            connection);
        command.Parameters.AddWithValue("from", due.AddMilliseconds(-1));
        command.Parameters.AddWithValue("to", due.AddMilliseconds(1));
        return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    [Fact]
    public async Task A_timer_scheduled_before_a_restart_records_its_breach_once_with_two_instances_running()
    {
        var complaintId = Ids.Unique("k");
        try
        {
            var due = DateTimeOffset.MinValue;
            await using (var before = await Start())
            {
                Assert.Equal(_schema, before.Services.GetRequiredService<IDocumentStore>().Options.Events.DatabaseSchemaName);
                var jwt = before.Services.GetRequiredService<JwtSettings>();
                var now = DateTimeOffset.UtcNow;
                using var client = before.Server.CreateClient();
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/complaints");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", DevelopmentTokens.Issue(jwt, "ann", ["agent"], null, now, now.AddMinutes(5)));
                // Due 6 s from now: the acknowledge promise of a low-severity complaint is 24 h.
                request.Content = new StringContent(new JsonObject
                {
                    ["complaintId"] = complaintId,
                    ["customerId"] = Ids.Customer(),
                    ["category"] = "delivery",
                    ["severity"] = "low",
                    ["description"] = "late",
                    ["channel"] = "email",
                    ["occurredAt"] = DateTimeOffset.FromUnixTimeMilliseconds((now - TimeSpan.FromHours(24) + TimeSpan.FromSeconds(6)).ToUnixTimeMilliseconds()).ToString("O"),
                }.ToJsonString(), Encoding.UTF8, "application/json");
                due = DateTimeOffset.FromUnixTimeMilliseconds((now - TimeSpan.FromHours(24) + TimeSpan.FromSeconds(6)).ToUnixTimeMilliseconds()).AddHours(24);
                var answer = await client.SendAsync(request, TestContext.Current.CancellationToken);
                Assert.Equal(201, (int)answer.StatusCode);
                Assert.Equal(0, await Breaches(before, complaintId));
            }

            var instances = await Task.WhenAll(Start(), Start());
            try
            {
                await Waiting.Until(async () => await Breaches(instances[0], complaintId) > 0, TimeSpan.FromSeconds(30), "the breach to be recorded");
                Assert.Equal(1, await Breaches(instances[0], complaintId));

                // Once the timer's envelope has left the durable store, no instance can deliver it again.
                await Waiting.Until(async () => await PendingChecks(due) == 0, TimeSpan.FromSeconds(30), "the timer's envelope to leave the durable store");
                Assert.Equal(1, await Breaches(instances[1], complaintId));
            }
            finally
            {
                foreach (var instance in instances)
                {
                    await instance.DisposeAsync();
                }
            }
        }
        finally
        {
            await ServiceHost.DropSchemas(_schema);
        }
    }
}
