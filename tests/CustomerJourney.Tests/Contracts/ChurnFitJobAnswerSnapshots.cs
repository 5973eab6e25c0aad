using System.Text.Json.Nodes;
using CustomerJourney.Tests.Churn;
using CustomerJourney.Tests.Support;
using Snapshooter.Xunit3;
using static CustomerJourney.Tests.Contracts.Answers;

namespace CustomerJourney.Tests.Contracts;

/// <summary>
/// Snapshots of the fit job answers: the 202, a job that succeeded, one that failed as the synchronous fit would (too few
/// customers), a cancel of an ended job, and unknown jobs. Each fit is over a currency of its own on the run's shared host;
/// what the rest of the host holds (how many histories were read) and the run's ids and instants are masked.
/// </summary>
public sealed class ChurnFitJobAnswerSnapshots(AppFixture app)
{
    private static readonly Dictionary<string, string> RespondAsync = new() { ["Prefer"] = "respond-async" };

    [Fact]
    public async Task Churn_fit_job_answers_have_this_shape()
    {
        await ChurnFitLimitsHttpTests.BuyIn(app, "HUF");
        var analyst = Bearer(app.Host, "analyst-1", "analyst");
        Task<JsonObject> Get(string url) => Call(app.Host, HttpMethod.Get, url, analyst);
        Task<JsonObject> Start(string currency) => Call(app.Host, HttpMethod.Post, "/api/churn/models", analyst,
            new JsonObject { ["calibrationEnd"] = "1997-09-30T00:00:00Z", ["currency"] = currency }, RespondAsync);
        async Task<JsonObject> Ended(JsonObject accepted) => await Waiting.For(() => Get(accepted["location"]!.GetValue<string>()),
            answer => answer["body"]?["state"]?.GetValue<string>() is "succeeded" or "failed" or "cancelled", TimeSpan.FromSeconds(120), "the job to end");

        var accepted = await Start("HUF");
        var tooFew = await Start("ISK");
        var answers = new JsonObject
        {
            ["accepted"] = accepted,
            ["succeeded"] = await Ended(accepted),
            ["tooFew"] = await Ended(tooFew),
            ["cancelEnded"] = await Call(app.Host, HttpMethod.Delete, accepted["location"]!.GetValue<string>(), analyst),
            ["unknown"] = await Get("/api/churn/fits/0190a000-0000-7000-8000-000000000000"),
            ["invalid"] = await Get("/api/churn/fits/not-a-job"),
            ["invalidRequest"] = await Call(app.Host, HttpMethod.Post, "/api/churn/models", analyst, new JsonObject { ["currency"] = "usd" }, RespondAsync),
        };

        Snapshot.Match(Masked(Stable(answers),
            // The run's own ids and instants.
            "id", "location", "model", "modelId", "requestedAt", "startedAt", "finishedAt",
            // Every history on the shared host is read, whoever else's it is.
            "historiesRead", "histories"));
    }
}
