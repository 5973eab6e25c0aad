using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using CustomerJourney.Churn;
using CustomerJourney.Tests.Complaints;
using CustomerJourney.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Wolverine;

namespace CustomerJourney.Tests.Churn;

public sealed class ChurnFlagsHttpTests(AppFixture app)
{
    private Credentials Marketing => Credentials.Token(app.Token("flag-reader", "marketing"));

    /// <summary>Runs the evaluation now, in-line, as the queued message would.</summary>
    private async Task Evaluate(string customer)
    {
        await using var scope = app.Host.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IMessageBus>().InvokeAsync(new EvaluateChurnFlags([customer]), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Touchpoints_posted_one_by_one_get_their_flags_without_anyone_asking()
    {
        // Posted separately, so the evaluations go through the batched reaction to TouchpointsRecorded, not a direct call.
        var customers = Enumerable.Range(0, 3).Select(_ => Ids.Customer("unasked")).ToList();
        foreach (var customer in customers)
        {
            Assert.Equal(201, (await app.PostTouchpoint(customer, TouchpointJson.Purchase(occurredAt: DateTimeOffset.UtcNow.AddDays(-20)))).Status);
            await app.PostTouchpoint(customer, TouchpointJson.Kind("survey-answered", new JsonObject { ["nps"] = 1 }, occurredAt: DateTimeOffset.UtcNow.AddDays(-1)));
        }

        foreach (var customer in customers)
        {
            await Waiting.Until(async () => (await app.Get($"/api/customers/{customer}/churn/flags", Marketing)).Body?.ToJsonString().Contains(FlagReasons.UnhappyAnswer, StringComparison.Ordinal) == true,
                TimeSpan.FromSeconds(30), $"the unhappy-answer flag of {customer}");
        }
    }

    [Fact]
    public async Task The_sweep_evaluates_customers_whose_touchpoints_no_reaction_saw_one_chunk_at_a_time_on_its_own_queue()
    {
        // Appended straight to the store (as an import or a restore might leave them): no reaction evaluates these customers.
        var customers = Enumerable.Range(0, 3).Select(_ => Ids.Customer("swept")).ToList();
        var now = DateTimeOffset.UtcNow;
        await AppendUnevaluatedAsync(app.Store, customers, now.AddDays(-1));

        var runtime = app.Host.Services.GetRequiredService<Wolverine.Runtime.IWolverineRuntime>();
        var sweepQueue = Assert.IsType<Wolverine.Runtime.Routing.MessageRoute>(Assert.Single(runtime.RoutingFor(typeof(SweepChurnFlags)).Routes)).Sender.Destination;
        Assert.Equal(new Uri($"local://{EvaluateChurnFlagsHandler.SweepQueue}"), sweepQueue);
        Assert.Equal(1, runtime.Endpoints.EndpointFor(sweepQueue)!.MaxDegreeOfParallelism);

        await using (var scope = app.Host.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IMessageBus>().InvokeAsync(new EvaluateAllChurnFlags(), TestContext.Current.CancellationToken);
        }

        foreach (var customer in customers)
        {
            await Waiting.Until(async () => (await app.Get($"/api/customers/{customer}/churn/flags", Marketing)).Body?.ToJsonString().Contains(FlagReasons.UnhappyAnswer, StringComparison.Ordinal) == true,
                TimeSpan.FromSeconds(60), $"the sweep's unhappy-answer flag of {customer}");
        }
    }

    /// <summary>
    /// A grant of consent can only clear a withdrawal's flag (<see cref="ChurnFlagRules.CanOnlyClear"/>): it clears the flag
    /// of a customer who carries it, and a customer who carries none is not evaluated for it, even one whose history would
    /// raise a flag (appended straight to the store, so no reaction has evaluated it: that is left to the daily sweep). A
    /// host of its own: a fit in another test sweeps every customer of its schema, this one's included.
    /// </summary>
    [Fact]
    public async Task A_consent_grant_is_evaluated_only_for_a_customer_who_carries_a_withdrawal()
    {
        await using var host = await WinBack.WinBackHost.StartAsync();
        var marketing = Credentials.Token(host.Token("flag-reader", "marketing"));
        var factory = host.Host.Services.GetRequiredService<IMeterFactory>();
        var outcomes = new ConcurrentQueue<(string Outcome, long People)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == factory && instrument.Name == "customerjourney.churn.flag_evaluations")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, people, tags, _) => outcomes.Enqueue(((string)tags.ToArray().Single(t => t.Key == "outcome").Value!, people)));
        listener.Start();
        async Task<string> Flags(string customer) => (await host.Get($"/api/customers/{customer}/churn/flags", marketing)).Body?.ToJsonString() ?? "";
        var (withdrawn, unevaluated) = (Ids.Customer("withdrawn"), Ids.Customer("unevaluated"));
        var now = DateTimeOffset.UtcNow;
        await AppendUnevaluatedAsync(host.Store, [unevaluated], now.AddDays(-3));

        Assert.Equal(201, (await host.PostTouchpoint(withdrawn, TouchpointJson.Kind("consent-withdrawn", new JsonObject { ["purpose"] = "marketing-email" }, occurredAt: now.AddDays(-2)))).Status);
        await Waiting.Until(async () => (await Flags(withdrawn)).Contains(FlagReasons.ConsentWithdrawn, StringComparison.Ordinal), TimeSpan.FromSeconds(30),
            $"the consent-withdrawn flag of {withdrawn}");

        // One request, so both customers are in one evaluation: once the first's flag is cleared, the second's turn is over.
        Assert.Equal(200, (await host.PostBatch(
        [
            TouchpointJson.Kind("consent-given", new JsonObject { ["purpose"] = "marketing-email" }, withdrawn, now.AddDays(-1)),
            TouchpointJson.Kind("consent-given", new JsonObject { ["purpose"] = "marketing-email" }, unevaluated, now.AddDays(-1)),
        ])).Status);
        await Waiting.Until(async () => !(await Flags(withdrawn)).Contains(FlagReasons.ConsentWithdrawn, StringComparison.Ordinal), TimeSpan.FromSeconds(30),
            $"the consent-withdrawn flag of {withdrawn} cleared");

        Assert.DoesNotContain(FlagReasons.UnhappyAnswer, await Flags(unevaluated), StringComparison.Ordinal);
        // The withdrawal's evaluation and the grant's: the withdrawn customer evaluated twice, the other left out once.
        Assert.Equal((2L, 1L), (outcomes.Where(o => o.Outcome == "evaluated").Sum(o => o.People), outcomes.Where(o => o.Outcome == "left-out").Sum(o => o.People)));
        await using (var scope = host.Host.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IMessageBus>().InvokeAsync(new EvaluateChurnFlags([unevaluated]), TestContext.Current.CancellationToken);
        }

        Assert.Contains(FlagReasons.UnhappyAnswer, await Flags(unevaluated), StringComparison.Ordinal);
    }

    /// <summary>
    /// Appends to each customer's stream straight through the store (as an import or a restore might leave them), so no
    /// reaction evaluates them: a purchase 20 days ago and a detractor's answer at <paramref name="answeredAt"/>, which an
    /// evaluation flags as unhappy.
    /// </summary>
    private static async Task AppendUnevaluatedAsync(Marten.IDocumentStore store, IEnumerable<string> customers, DateTimeOffset answeredAt)
    {
        await using var session = store.LightweightSession();
        foreach (var customer in customers)
        {
            session.Events.Append(customer,
                new CustomerJourney.Touchpoints.PurchaseMade
                {
                    CustomerId = customer, OccurredAt = DateTimeOffset.UtcNow.AddDays(-20), Channel = CustomerJourney.Touchpoints.Channel.Web, Source = "shop",
                    SourceId = Ids.Unique("src"), OrderId = Ids.Unique("o"), Amount = 10m, Currency = "USD",
                },
                new CustomerJourney.Touchpoints.SurveyAnswered
                {
                    CustomerId = customer, OccurredAt = answeredAt, Channel = CustomerJourney.Touchpoints.Channel.Email, Source = "survey", SourceId = Ids.Unique("src"), Nps = 1,
                });
        }

        await session.SaveChangesAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task An_unhappy_answer_raises_a_flag_with_its_evidence_a_follow_up_call_clears_it_and_the_history_replays()
    {
        var customer = Ids.Customer("flag");
        var now = DateTimeOffset.UtcNow;
        await app.PostBatch(
        [
            TouchpointJson.Purchase(customer, now.AddDays(-20)),
            TouchpointJson.Kind("survey-answered", new JsonObject { ["nps"] = 2 }, customer, now.AddDays(-1)),
        ]);
        await Evaluate(customer);

        var flagged = await app.Get($"/api/customers/{customer}/churn/flags", Marketing);
        var listed = await app.Get($"/api/churn/flags?reason={FlagReasons.UnhappyAnswer}&pageSize=500", Marketing);
        var raisedKnownAt = DateTimeOffset.UtcNow;
        await app.PostTouchpoint(customer, TouchpointJson.Kind("follow-up-call", new JsonObject { ["outcome"] = "reached", ["satisfied"] = true }, occurredAt: now));
        await Evaluate(customer);
        var cleared = await app.Get($"/api/customers/{customer}/churn/flags", Marketing);
        var asOfRaised = await app.Get($"/api/customers/{customer}/churn/flags?asOf={Uri.EscapeDataString(raisedKnownAt.ToString("O"))}", Marketing);
        var journey = await app.Get($"/api/customers/{customer}/journey");

        var flag = Assert.Single(flagged.Body!["flags"]!.AsArray())!;
        Assert.Equal(FlagReasons.UnhappyAnswer, flag["reason"]!.GetValue<string>());
        Assert.Equal(2, flag["figure"]!.GetValue<double>());
        var surveyEventId = flag["eventIds"]![0]!.GetValue<string>();
        Assert.Contains(listed.Body!["customers"]!.AsArray(), c => c!["customerId"]!.GetValue<string>() == customer);
        Assert.Empty(cleared.Body!["flags"]!.AsArray());
        Assert.Equal(FlagReasons.UnhappyAnswer, Assert.Single(asOfRaised.Body!["flags"]!.AsArray())!["reason"]!.GetValue<string>());
        Assert.Equal(3, journey.Body.Int("total"));

        await using var session = app.Store.QuerySession();
        var events = await session.Events.FetchStreamAsync(customer, token: TestContext.Current.CancellationToken);
        Assert.Equal(surveyEventId, events.Single(e => e.Data is CustomerJourney.Touchpoints.SurveyAnswered).Id.ToString());
        Assert.Contains(events, e => e.Data is ChurnFlagCleared { Reason: FlagReasons.UnhappyAnswer });
    }

    [Fact]
    public async Task An_open_complaint_past_its_promise_raises_the_unresolved_complaint_flag_and_closing_the_case_clears_it()
    {
        var customer = Ids.Customer("closed");
        var complaint = Ids.Unique("kc");
        var logged = ComplaintApi.Now.AddDays(-10);
        await app.PostBatch([TouchpointJson.Purchase(customer, logged.AddDays(-10))]);
        Assert.Equal(201, (await app.Log(customer, complaint, occurredAt: logged)).Status);
        await Evaluate(customer);
        var open = Assert.Single((await app.Get($"/api/customers/{customer}/churn/flags", Marketing)).Body!["flags"]!.AsArray())!;
        Assert.Equal(FlagReasons.UnresolvedComplaint, open["reason"]!.GetValue<string>());

        await StepOnLatest(complaint, "acknowledge", null, logged.AddDays(2));
        await StepOnLatest(complaint, "resolve", new JsonObject { ["rootCause"] = "carrier", ["summary"] = "Resent" }, logged.AddDays(8));
        await StepOnLatest(complaint, "close", null, logged.AddDays(9));
        await Evaluate(customer);

        Assert.Empty((await app.Get($"/api/customers/{customer}/churn/flags", Marketing)).Body!["flags"]!.AsArray());
        await using var session = app.Store.QuerySession();
        var events = await session.Events.FetchStreamAsync(customer, token: TestContext.Current.CancellationToken);
        Assert.Contains(events, e => e.Data is ChurnFlagCleared { Reason: FlagReasons.UnresolvedComplaint });
    }

    /// <summary>A step on the case's latest version: its promise timer appends breaches of its own, which move the version.</summary>
    private async Task StepOnLatest(string complaint, string action, JsonObject? body, DateTimeOffset at)
    {
        for (var attempt = 0; ; attempt++)
        {
            var version = (await app.Call(HttpMethod.Get, $"/api/complaints/{complaint}", null, app.Agent())).Version();
            var answer = await app.Step(complaint, action, version, body?.DeepClone().AsObject(), at);
            if (answer.Status == 409 && answer.Rule() == "stale-version" && attempt < 10)
            {
                continue;
            }

            Assert.Equal(200, answer.Status);
            return;
        }
    }

    [Theory]
    [InlineData("/api/churn/flags?reason=bored")]
    [InlineData("/api/churn/flags?minValue=-1")]
    [InlineData("/api/churn/flags?page=0")]
    [InlineData("/api/customers/bad%20id/churn/flags")]
    public async Task Malformed_flag_queries_answer_400(string url)
    {
        Assert.Equal(400, (await app.Get(url, Marketing)).Status);
    }
}
