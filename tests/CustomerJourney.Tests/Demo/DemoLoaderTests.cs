using CustomerJourney.Demo;
using CustomerJourney.Tests.Support;
using Marten;

namespace CustomerJourney.Tests.Demo;

public sealed class DemoLoaderTests(AppFixture app)
{
    private async Task<long> DemoEventCount()
    {
        await using var session = app.Store.QuerySession();
        return await session.Events.QueryAllRawEvents()
            // Touchpoints only: sweeps after other tests' fits may add churn-flag events to these streams, and the
            // promise timers breach events to the complaint cases' streams.
            .Where(e => (e.StreamKey!.StartsWith("cdnow-") || e.StreamKey!.StartsWith("complaint/cdnow-")) &&
                        !e.EventTypeName.StartsWith("churn_flag") && e.EventTypeName != "complaint_sla_breached")
            .CountAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Loading_the_demo_twice_appends_nothing_the_second_time()
    {
        var loader = DemoData.Loader(app);
        var expected = DemoTouchpoints.Build(CdnowPurchaseLog.Read(DemoSample.File()), (_, s) => s).Count;

        await loader.StartAsync(TestContext.Current.CancellationToken);
        var afterFirst = await DemoEventCount();
        await loader.StartAsync(TestContext.Current.CancellationToken);
        var afterSecond = await DemoEventCount();

        Assert.Equal(expected, afterFirst);
        Assert.Equal(afterFirst, afterSecond);
        var journey = await app.Get("/api/customers/cdnow-0001/journey");
        Assert.Equal(200, journey.Status);

        // The demo's cases are resolved and surveyed afterwards, so the metrics have durations and CSAT to show.
        var metrics = await app.Get("/api/complaints/metrics?from=1997-01-01T00:00:00Z&to=1999-01-01T00:00:00Z", Credentials.Token(app.Token("sup", "supervisor")));
        var all = metrics.Body!["all"]!;
        Assert.True(all["csat"]!.Int("answers") > 0, all.ToJsonString());
        Assert.True(all["timeToResolve"]!.Int("count") > 100, all.ToJsonString());
    }
}
