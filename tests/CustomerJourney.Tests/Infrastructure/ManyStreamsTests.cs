using CustomerJourney.Infrastructure;
using CustomerJourney.Tests.Support;
using JasperFx;
using JasperFx.Events;
using Marten;

namespace CustomerJourney.Tests.Infrastructure;

public sealed class ManyStreamsTests
{
    /// <summary>What the probe streams hold: a kind the service does not know, in a store of the test's own.</summary>
    public sealed record ManyStreamsProbe(int Number);

    [Fact]
    public async Task Each_stream_gets_its_events_in_order_and_a_stream_already_pending_or_named_twice_is_appended_to()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var schema = ServiceHost.NewSchema("manystreams");
        // Appended as the service's event store appends: string keys, quick append.
        await using var store = DocumentStore.For(options =>
        {
            options.Connection(AppFixture.ConnectionString);
            options.DatabaseSchemaName = schema;
            options.Events.StreamIdentity = StreamIdentity.AsString;
            options.Events.AppendMode = EventAppendMode.Quick;
            options.AutoCreateSchemaObjects = AutoCreate.All;
        });
        try
        {
            var (pendingFirst, fresh, twice) = ("pending", "fresh", "twice");

            IReadOnlyList<StreamAction> actions;
            await using (var session = store.LightweightSession())
            {
                session.Events.Append(pendingFirst, new ManyStreamsProbe(1));
                actions = ManyStreams.Append(session,
                [
                    (pendingFirst, [new ManyStreamsProbe(2)]),
                    (fresh, [new ManyStreamsProbe(3), new ManyStreamsProbe(4)]),
                    (twice, [new ManyStreamsProbe(5)]),
                    (twice, [new ManyStreamsProbe(6)]),
                ]);
                Assert.Equal(3, session.PendingChanges.Streams().Count);
                await session.SaveChangesAsync(cancellation);
            }

            await using var query = store.QuerySession();
            async Task<(Guid Id, int Number)[]> Stored(string stream) =>
                [.. (await query.Events.FetchStreamAsync(stream, token: cancellation)).Select(e => (e.Id, ((ManyStreamsProbe)e.Data).Number))];

            Assert.Equal([1, 2], (await Stored(pendingFirst)).Select(e => e.Number));
            var freshEvents = await Stored(fresh);
            Assert.Equal([3, 4], freshEvents.Select(e => e.Number));
            Assert.Equal(actions[1].Events.Select(e => e.Id), freshEvents.Select(e => e.Id));
            Assert.Equal([5, 6], (await Stored(twice)).Select(e => e.Number));
            Assert.Same(actions[2], actions[3]);
        }
        finally
        {
            await ServiceHost.DropSchemas(schema);
        }
    }
}
