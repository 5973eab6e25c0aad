using CustomerJourney.Infrastructure;
using CustomerJourney.Tests.Support;
using JasperFx.Events.Projections;
using Marten;
using Marten.Storage;

namespace CustomerJourney.Tests.Infrastructure;

/// <summary>
/// Marten's single-pass replay, which a projection takes on its first start on a store that already has events, passes
/// over a write still open at that moment (SlowTransactionTests). That holds for any async projection, not only the
/// customers': this asks every async projection of the running store, as the daemon would, whether it would take it.
/// </summary>
public sealed class AsyncProjectionsTests(AppFixture app)
{
    [Fact]
    public void No_async_projection_of_the_store_would_start_with_the_single_pass_replay()
    {
        var store = (DocumentStore)app.Store;
        var asynchronous = store.Options.Projections.All.Where(p => p.Lifecycle == ProjectionLifecycle.Async).ToList();

        Assert.Contains(asynchronous, p => p.Name == CustomerProjections.Name);
        Assert.All(asynchronous, projection => Assert.False(
            projection.TryBuildReplayExecutor(store, (MartenDatabase)store.Storage.Database, out _),
            $"The async projection {projection.Name} would start with Marten's single-pass replay; opt it out as CustomerProjections does."));
    }
}
