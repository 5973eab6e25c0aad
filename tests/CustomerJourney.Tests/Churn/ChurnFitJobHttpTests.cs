using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json.Nodes;
using CustomerJourney.Churn;
using CustomerJourney.Tests.Support;
using CustomerJourney.Tests.WinBack;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerJourney.Tests.Churn;

/// <summary>
/// Fits as background jobs: POST /api/churn/models with Prefer: respond-async answers 202 and a status resource that ends
/// with the model, the problem, or cancelled. Each test fits a cohort of a currency of its own (as the fit-limits tests do).
/// </summary>
public sealed class ChurnFitJobHttpTests(AppFixture app)
{
    private Credentials Analyst => Credentials.Token(app.Token("fit-job-analyst", "analyst"));

    private Credentials Marketer => Credentials.Token(app.Token("fit-job-marketer", "marketing"));

    private async Task<HttpResponseMessage> StartJob(string body, Credentials credentials)
    {
        using var client = app.Host.Server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/churn/models") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("Prefer", "wait=5, respond-async");
        credentials.Apply(request);
        return await client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private async Task<JsonNode> Ended(string location) =>
        (await Waiting.For(() => app.Get(location, Analyst), answer => answer.Body?["state"]?.GetValue<string>() is "succeeded" or "failed" or "cancelled",
            TimeSpan.FromSeconds(120), $"the fit job {location} to end")).Body!;

    [Fact]
    public async Task An_async_fit_answers_202_and_its_job_ends_with_the_model_a_synchronous_fit_gives_on_the_same_data()
    {
        const string currency = "DKK";
        await ChurnFitLimitsHttpTests.BuyIn(app, currency);
        var synchronous = await app.Send(HttpMethod.Post, "/api/churn/models", ChurnFitLimitsHttpTests.FitBody(currency), "application/json", Analyst);
        Assert.Equal(201, synchronous.Status);

        using var accepted = await StartJob(ChurnFitLimitsHttpTests.FitBody(currency), Analyst);

        Assert.Equal(202, (int)accepted.StatusCode);
        Assert.Equal("respond-async", Assert.Single(accepted.Headers.GetValues("Preference-Applied")));
        var location = accepted.Headers.Location!.ToString();
        Assert.Matches("^/api/churn/fits/[0-9a-f-]{36}$", location);
        var queued = JsonNode.Parse(await accepted.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;
        Assert.Equal(("queued", currency, false), (queued["state"]!.GetValue<string>(), queued["currency"]!.GetValue<string>(), queued["cancelRequested"]!.GetValue<bool>()));
        Assert.Equal("user:fit-job-analyst", queued["requestedBy"]!.GetValue<string>());

        var job = await Ended(location);

        Assert.Equal("succeeded", job["state"]!.GetValue<string>());
        Assert.True(job["startedAt"]!.GetValue<DateTimeOffset>() <= job["finishedAt"]!.GetValue<DateTimeOffset>());
        var progress = job["progress"]!;
        Assert.Equal(progress["histories"]!.GetValue<int>(), progress["historiesRead"]!.GetValue<int>());
        Assert.Equal(12, progress["customers"]!.GetValue<int>());
        Assert.Equal(["bgNbd", "paretoNbd", "gammaGamma"], progress["fitted"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Null(progress["fitting"]);
        Assert.Null(job["problem"]);
        var model = await app.Get(job["model"]!.GetValue<string>(), Marketer);
        Assert.Equal(200, model.Status);
        Assert.Equal(job["modelId"]!.GetValue<string>(), model.Body!["id"]!.GetValue<string>());
        Assert.Equal("user:fit-job-analyst", model.Body!["fittedBy"]!.GetValue<string>());
        Assert.Equal(synchronous.Body.Int("customers"), model.Body.Int("customers"));
        Assert.True(JsonNode.DeepEquals(synchronous.Body!["models"], model.Body!["models"]),
            $"the job's models {model.Body!["models"]!.ToJsonString()} differ from the synchronous fit's {synchronous.Body!["models"]!.ToJsonString()}");
        // Marketing reads the status as it reads the models.
        Assert.Equal(200, (await app.Get(location, Marketer)).Status);
    }

    [Fact]
    public async Task Cancelling_a_running_job_stops_its_fit_and_the_job_ends_cancelled_without_a_model()
    {
        const string currency = "CHF";
        await ChurnFitLimitsHttpTests.BuyIn(app, currency);
        var factory = app.Host.Services.GetRequiredService<IMeterFactory>();
        var location = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reasons = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == factory && instrument.Name == "customerjourney.churn.fits")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        // When the job's first model ends, the analyst cancels, on the fit's own thread: the job still has two models to go.
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            var named = tags.ToArray().ToDictionary(t => t.Key, t => t.Value as string);
            if (named["currency"] == currency && reasons.TryAdd(named["model"]!, named["reason"]!) && reasons.Count == 1)
            {
                var deleted = app.Send(HttpMethod.Delete, location.Task.GetAwaiter().GetResult(), null, null, Analyst).GetAwaiter().GetResult();
                cancelled.SetResult(deleted.Status);
            }
        });
        listener.Start();

        using var accepted = await StartJob(ChurnFitLimitsHttpTests.FitBody(currency), Analyst);
        Assert.Equal(202, (int)accepted.StatusCode);
        location.SetResult(accepted.Headers.Location!.ToString());

        Assert.Equal(202, await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken));
        var url = await location.Task;
        var job = await Ended(url);

        Assert.Equal("cancelled", job["state"]!.GetValue<string>());
        Assert.True(job["cancelRequested"]!.GetValue<bool>());
        Assert.Null(job["modelId"]);
        Assert.Equal(["bgNbd"], job["progress"]!["fitted"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Equal("cancelled", reasons["paretoNbd"]);
        var listed = await app.Get("/api/churn/models", Analyst);
        Assert.DoesNotContain(listed.Body!.AsArray(), m => m!["currency"]!.GetValue<string>() == currency);
        var again = await app.Send(HttpMethod.Delete, url, null, null, Analyst);
        Assert.Equal((409, "application/problem+json"), (again.Status, again.ContentType));
    }

    [Fact]
    public async Task A_job_over_too_few_customers_fails_with_the_problem_the_synchronous_fit_answers()
    {
        var body = new JsonObject { ["calibrationEnd"] = "1997-09-30T00:00:00Z", ["currency"] = "ISK" }.ToJsonString();
        var synchronous = await app.Send(HttpMethod.Post, "/api/churn/models", body, "application/json", Analyst);

        using var accepted = await StartJob(body, Analyst);
        var job = await Ended(accepted.Headers.Location!.ToString());

        Assert.Equal(422, synchronous.Status);
        Assert.Equal("failed", job["state"]!.GetValue<string>());
        Assert.Equal(422, job["problem"]!.Int("status"));
        Assert.Equal(synchronous.Body!["title"]!.GetValue<string>(), job["problem"]!["title"]!.GetValue<string>());
        Assert.Equal(synchronous.Body!["detail"]!.GetValue<string>(), job["problem"]!["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("GET", "/api/churn/fits/0190a000-0000-7000-8000-000000000000")]
    [InlineData("GET", "/api/churn/fits/not-a-job")]
    [InlineData("DELETE", "/api/churn/fits/0190a000-0000-7000-8000-000000000000")]
    [InlineData("DELETE", "/api/churn/fits/not-a-job")]
    public async Task An_unknown_job_answers_404_problem(string method, string url)
    {
        var answer = await app.Send(new HttpMethod(method), url, null, null, Analyst);

        Assert.Equal((404, "application/problem+json"), (answer.Status, answer.ContentType));
        Assert.Equal("Unknown fit job", answer.Body!["title"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_role_without_the_fit_policy_can_neither_start_nor_cancel_a_job()
    {
        using var refused = await StartJob(ChurnFitLimitsHttpTests.FitBody("ISK"), Marketer);
        using var started = await StartJob(ChurnFitLimitsHttpTests.FitBody("ISK"), Analyst);
        var location = started.Headers.Location!.ToString();

        Assert.Equal(403, (int)refused.StatusCode);
        Assert.Equal(403, (await app.Send(HttpMethod.Delete, location, null, null, Marketer)).Status);
        Assert.Equal(403, (await app.Get(location, Credentials.Token(app.Token("fit-job-agent", "agent")))).Status);
        await Ended(location);
    }

    [Fact]
    public void The_preference_is_read_among_others_and_in_any_case()
    {
        static bool Prefers(params string[] values)
        {
            var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
            context.Request.Headers["Prefer"] = values;
            return ChurnFitJobs.RespondAsync(context.Request);
        }

        Assert.True(Prefers("respond-async"));
        Assert.True(Prefers("wait=10, Respond-Async"));
        Assert.True(Prefers("return=minimal", "respond-async"));
        Assert.False(Prefers("return=representation"));
        Assert.False(Prefers());
    }

    /// <summary>
    /// A service stopped while a job was loading or fitting leaves it so in the store: when a service starts again its sweep
    /// marks that job failed (never re-run, never left running), and leaves alone a job whose instance is still alive.
    /// </summary>
    [Fact]
    public async Task A_job_a_stopped_service_left_fitting_is_marked_failed_when_the_service_starts_again()
    {
        await using var host = await WinBackHost.StartAsync();
        var now = DateTimeOffset.UtcNow;
        ChurnFitJob Running(DateTimeOffset heartbeat) => new(Guid.CreateVersion7(), FitJobStates.Fitting, now.AddYears(-1), null, "USD", "user:someone",
            heartbeat.AddMinutes(-1), heartbeat.AddMinutes(-1), null, heartbeat, new FitJobProgress(2_357, 2_357, 2_357, "paretoNbd", ["bgNbd"]), null, null);
        var (stopped, alive) = (Running(now.AddHours(-1)), Running(now.AddMinutes(10)));
        await using (var session = host.Store.LightweightSession())
        {
            session.Store(stopped, alive);
            await session.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        await host.RestartAsync();

        var failed = await Waiting.For(async () => (await host.Send(HttpMethod.Get, ChurnFitJobs.Location(stopped.Id), null, "analyst")).Body,
            job => job?["state"]?.GetValue<string>() == "failed", TimeSpan.FromSeconds(60), "the restarted service to mark the interrupted job failed");
        Assert.Equal(503, failed!["problem"]!.Int("status"));
        Assert.Equal("Fit interrupted", failed["problem"]!["title"]!.GetValue<string>());
        Assert.Null(failed["progress"]!["fitting"]);
        Assert.NotNull(failed["finishedAt"]);
        var stillRunning = (await host.Send(HttpMethod.Get, ChurnFitJobs.Location(alive.Id), null, "analyst")).Body!;
        Assert.Equal("fitting", stillRunning["state"]!.GetValue<string>());
    }
}
