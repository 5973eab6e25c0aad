using System.Text.Json.Nodes;
using CustomerJourney.Access;
using CustomerJourney.Tests.Support;
using CustomerJourney.Tests.WinBack;
using CustomerJourney.Touchpoints;
using Npgsql;

namespace CustomerJourney.Tests.Faults;

/// <summary>
/// A commit that PostgreSQL refuses (here as a full disk refuses it) is never replayed in part: Marten by itself would try
/// its own part of the unit of work again in a fresh transaction, the events without the claim of their source ids and
/// without the customers' locks, so a touchpoint was stored that the register did not know, and its re-send was stored
/// again (found by tests/faults/run-root-faults). The whole write fails (503) or is tried again whole.
/// </summary>
public sealed class CommitRetryTests
{
    [Fact]
    public async Task A_commit_refused_for_a_full_disk_is_not_replayed_in_part_so_a_resent_touchpoint_is_stored_and_claimed_once()
    {
        await using var host = await WinBackHost.StartAsync();
        var cancellation = TestContext.Current.CancellationToken;
        var customer = Ids.Unique("retried");
        var sourceId = Ids.Unique("src");
        JsonObject Purchase() => TouchpointJson.Make("purchase", customer, DateTimeOffset.UtcNow.AddDays(-1), SourceOwnership.StaffSource, sourceId, "web",
            new JsonObject { ["orderId"] = "o-1", ["amount"] = 20, ["currency"] = "USD" });
        await host.Record(TouchpointJson.Make("purchase", Ids.Unique("first"), DateTimeOffset.UtcNow.AddDays(-2), SourceOwnership.StaffSource, Ids.Unique("src"), "web",
            new JsonObject { ["orderId"] = "o-0", ["amount"] = 10, ["currency"] = "USD" }));

        // The first insert of this touchpoint's event fails as on a full disk; a sequence, which no rollback resets,
        // makes it fail once.
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(cancellation);
        await using (var trigger = new NpgsqlCommand(
            $"""
             create sequence {host.Schema}.fail_once;
             create function {host.Schema}.fail_once() returns trigger language plpgsql as $$
             begin
               if new.data->>'sourceId' = '{sourceId}' then
                 if nextval('{host.Schema}.fail_once') = 1 then
                   raise exception 'refused once' using errcode = '53100';
                 end if;
               end if;
               return new;
             end $$;
             create trigger fail_once before insert on {host.Schema}.mt_events for each row execute function {host.Schema}.fail_once();
             """, connection))
        {
            await trigger.ExecuteNonQueryAsync(cancellation);
        }

        // The full disk answers 503 and stores nothing; the source system sends again, and once more for good measure.
        var refused = await host.PostBatch([Purchase()], host.Staff("agent"));
        var stored = await host.PostBatch([Purchase()], host.Staff("agent"));
        var again = await host.PostBatch([Purchase()], host.Staff("agent"));

        Assert.Equal(1, await Invariants.Scalar(connection, $"select count(*) from {host.Schema}.mt_events where data->>'sourceId' = '{sourceId}'"));
        Assert.Equal(1, await Invariants.Scalar(connection,
            $"select count(*) from {host.Schema}.{TouchpointLedger.TableName} where source = '{SourceOwnership.StaffSource}' and source_id = '{sourceId}'"));
        Assert.Equal(503, refused.Status);
        Assert.True(stored.Status == 200 && stored.Body.Int("appended") == 1, $"{stored.Status} {stored.Body}");
        Assert.True(again.Status == 200 && again.Body.Int("appended") == 0 && again.Body.Int("duplicates") == 1, $"{again.Status} {again.Body}");
    }
}
