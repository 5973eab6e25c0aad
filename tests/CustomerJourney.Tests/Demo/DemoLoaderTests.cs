using CustomerJourney.Demo;
using CustomerJourney.Identity;
using CustomerJourney.Infrastructure;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;
using Marten;
using Npgsql;

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

    /// <summary>Resolution messages (the ledger's word of appended touchpoints) still waiting in Wolverine's durable inbox, by id.</summary>
    private async Task<HashSet<Guid>> PendingResolutions(IReadOnlyCollection<Guid>? among = null)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(
            $"select id from {CritterStackSetup.WolverineSchema(app.Schema)}.wolverine_incoming_envelopes where message_type = @type and status <> 'Handled'",
            connection);
        command.Parameters.AddWithValue("type", typeof(TouchpointsAppended).FullName!);
        var pending = new HashSet<Guid>();
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            pending.Add(reader.GetGuid(0));
        }

        return among is null ? pending : [.. pending.Where(among.Contains)];
    }

    [Fact]
    public async Task Identity_resolution_merges_no_two_demo_customers()
    {
        var cancellation = TestContext.Current.CancellationToken;
        // Who the demo shows an e-mail for (each their own; the demo's phones are all fictional 555-01xx numbers, which never link).
        var withEmail = DemoTouchpoints.Build(CdnowPurchaseLog.Read(DemoSample.File()), (_, s) => s)
            .OfType<ContactDetailsChanged>().Where(c => c.Email is not null).Select(c => c.CustomerId).ToHashSet(StringComparer.Ordinal);
        Assert.True(withEmail.Count > 50, $"only {withEmail.Count} demo customers show an e-mail");

        await DemoData.LoadAsync(app);

        // Resolution has caught up when every resolution message committed with the demo has been handled, and every
        // customer with an e-mail has its profile (only an identifier beyond the customer id starts one).
        // The queue is the whole host's: while other classes ingest (and the browser tests drive the same host), it can be
        // minutes behind on 2 cores, as the identity tests allow for too. The waits end as soon as it has caught up.
        var committed = await PendingResolutions();
        await Waiting.Until(async () => (await PendingResolutions(committed)).Count == 0, TimeSpan.FromSeconds(180), "the demo's resolution messages handled");
        await using var session = app.Store.QuerySession();
        var memberships = await Waiting.For(
            async () => await session.Query<ProfileMembership>().Where(m => m.Id.StartsWith("cdnow-")).ToListAsync(cancellation),
            found => withEmail.All(found.Select(m => m.Id).ToHashSet(StringComparer.Ordinal).Contains), TimeSpan.FromSeconds(180),
            "a profile for every demo customer with an e-mail");

        Assert.All(memberships, m => Assert.Equal(ProfileIds.HomeOf(m.Id), m.ProfileId));
        var merges = await session.Events.QueryAllRawEvents()
            .Where(e => e.EventTypeName == "profiles_merged" && e.StreamKey!.StartsWith(ProfileIds.Prefix + "cdnow-"))
            .CountAsync(cancellation);
        Assert.Equal(0, merges);
        var started = await session.Events.QueryAllRawEvents()
            .Where(e => e.EventTypeName == "profile_started" && e.StreamKey!.StartsWith(ProfileIds.Prefix + "cdnow-"))
            .CountAsync(cancellation);
        Assert.Equal(memberships.Count, started);
        var sample = await app.Get($"/api/profiles/{withEmail.Order(StringComparer.Ordinal).First()}");
        Assert.Single(sample.Body!["members"]!.AsArray());
    }
}
