using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;
using Marten;
using Marten.Events;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerJourney.Tests.Churn;

/// <summary>
/// Every fit says why it stopped, and a request's cancellation stops its fit. Each test fits a cohort of its own currency,
/// which no other test buys in, so the shared host's other customers stay out of it.
/// </summary>
public sealed class ChurnFitLimitsHttpTests(AppFixture app)
{
    private Credentials Analyst => Credentials.Token(app.Token("churn-limits-analyst", "analyst"));

    private static readonly string[] ModelNames = ["bgNbd", "paretoNbd", "gammaGamma"];

    /// <summary>Twelve customers who first bought in early 1997 and came back a few times, in the given currency.</summary>
    internal static async Task BuyIn(AppFixture app, string currency)
    {
        var start = DateTimeOffset.Parse("1997-01-02T00:00:00Z", CultureInfo.InvariantCulture);
        var purchases = new List<JsonNode>();
        for (var c = 0; c < 12; c++)
        {
            var customer = Ids.Customer($"fit-{currency}");
            for (var p = 0; p <= c % 4; p++)
            {
                purchases.Add(TouchpointJson.Purchase(customer, start.AddDays(c + (p * (11 + c))), 10m + c + p, currency));
            }
        }

        Assert.Equal(200, (await app.PostBatch(purchases)).Status);
    }

    internal static string FitBody(string currency) =>
        new JsonObject { ["calibrationEnd"] = "1997-09-30T00:00:00Z", ["currency"] = currency }.ToJsonString();

    [Fact]
    public async Task Every_model_of_a_fit_says_why_it_stopped()
    {
        await BuyIn(app, "SEK");

        var fit = await app.Send(HttpMethod.Post, "/api/churn/models", FitBody("SEK"), "application/json", Analyst);

        Assert.Equal(201, fit.Status);
        Assert.Equal(12, fit.Body.Int("customers"));
        foreach (var name in ModelNames)
        {
            var model = fit.Body!["models"]![name]!;
            var converged = model["converged"]!.GetValue<bool>();
            var reason = model["reason"]!.GetValue<string>();
            var diagnosis = model["diagnosis"]!.GetValue<string>();
            Assert.False(string.IsNullOrWhiteSpace(diagnosis), name);
            // A converged model says so; one that is not names one of the reasons a fit stops short.
            if (converged)
            {
                Assert.Equal("converged", reason);
            }
            else
            {
                Assert.Contains(reason, new[] { "iteration limit", "time budget", "non-finite likelihood", "parameter bound", "no progress", "gradient above tolerance" });
            }
        }

        var stored = await app.Get($"/api/churn/models/{fit.Body!["id"]!.GetValue<string>()}", Analyst);
        Assert.True(JsonNode.DeepEquals(fit.Body!["models"], stored.Body!["models"]), "the stored model keeps each fit's reason");
    }

    [Fact]
    public async Task Cancelling_the_request_stops_its_fit_and_stores_nothing()
    {
        const string currency = "NOK";
        await BuyIn(app, currency);
        // The fit waits up to 20 s for the purchase histories and answers 503 past that: this test is about cancelling a
        // fit, so it starts once the projections have caught up with what the suite wrote before it.
        await app.Host.Services.GetRequiredService<IDocumentStore>().WaitForNonStaleProjectionDataAsync(TimeSpan.FromSeconds(120));
        var factory = app.Host.Services.GetRequiredService<IMeterFactory>();
        using var caller = new CancellationTokenSource();
        var ended = new ConcurrentQueue<(string Model, string Reason)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == factory && instrument.Name == "customerjourney.churn.fits")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        // The first model of this fit to end makes the caller give up, while the fit still has two models to go: the
        // callback runs on the fit's own thread, so the cancellation lands between two fits, not after the answer.
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            var named = tags.ToArray().ToDictionary(t => t.Key, t => t.Value as string);
            if (named["currency"] == currency)
            {
                ended.Enqueue((named["model"]!, named["reason"]!));
                caller.Cancel();
            }
        });
        listener.Start();

        using var client = app.Host.Server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/churn/models")
        {
            Content = new StringContent(FitBody(currency), Encoding.UTF8, "application/json"),
        };
        Analyst.Apply(request);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SendAsync(request, caller.Token));

        // The endpoint may still be finishing after the client gave up: wait for all three models to have ended.
        await Waiting.Until(() => ended.Count == 3, TimeSpan.FromSeconds(60), "the three models of the cancelled fit to end");
        var reasons = ended.ToDictionary(e => e.Model, e => e.Reason);
        Assert.Equal("cancelled", reasons["paretoNbd"]);
        Assert.Equal("cancelled", reasons["gammaGamma"]);
        var listed = await app.Get("/api/churn/models", Analyst);
        Assert.DoesNotContain(listed.Body!.AsArray(), m => m!["currency"]!.GetValue<string>() == currency);
    }
}
