using System.Collections.Concurrent;
using System.Diagnostics;
using CustomerJourney.Infrastructure;
using CustomerJourney.Tests.Support;

namespace CustomerJourney.Tests.Infrastructure;

public sealed class TracingTests(AppFixture app)
{
    /// <summary>
    /// Npgsql joins the SQL of every statement of a batch to name its span; for an ingest's thousands of appends that was
    /// 8 % of what the service allocated. The store's data source traces commands and small batches, not large ones.
    /// </summary>
    [Fact]
    public async Task Npgsql_traces_small_batches_but_does_not_spell_out_large_ones()
    {
        var marker = Ids.Unique("traced");
        var started = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStarted = started.Add,
        };
        ActivitySource.AddActivityListener(listener);

        await using (var small = app.Store.LightweightSession())
        {
            small.QueueSqlCommand($"select 1 /* {marker}-small */");
            await small.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        await using (var large = app.Store.LightweightSession())
        {
            for (var i = 0; i <= CritterStackSetup.TracedBatchStatements; i++)
            {
                large.QueueSqlCommand($"select {i} /* {marker}-large */");
            }

            await large.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        Assert.Contains(started, a => Mentions(a, $"{marker}-small"));
        Assert.DoesNotContain(started, a => Mentions(a, $"{marker}-large"));
    }

    private static bool Mentions(Activity activity, string text) =>
        activity.DisplayName.Contains(text, StringComparison.Ordinal) ||
        activity.TagObjects.Any(t => t.Value is string value && value.Contains(text, StringComparison.Ordinal));
}
