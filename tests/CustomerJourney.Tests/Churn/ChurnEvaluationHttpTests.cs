using System.Xml.Linq;
using CustomerJourney.Models.Evaluation;
using CustomerJourney.Tests.Support;

namespace CustomerJourney.Tests.Churn;

/// <summary>
/// A fit on the CDNOW purchases ingested as events, evaluated over HTTP on the papers' holdout (1997-10-01 to
/// 1998-06-30) against the figures the pure specs check against BTYD (Models/ModelEvaluationSpecs).
/// </summary>
public sealed class ChurnEvaluationHttpTests(AppFixture app)
{
    private const string HoldoutEnd = "1998-06-30T00:00:00Z";
    private const string UnknownModel = "00000000-0000-0000-0000-000000000000";

    private static readonly SemaphoreSlim FitOnce = new(1, 1);
    private static string? _cdnowModel;

    private Credentials Analyst => Credentials.Token(app.Token("evaluation-analyst", "analyst"));

    private Credentials Marketer => Credentials.Token(app.Token("evaluation-marketer", "marketing"));

    /// <summary>One fit for the class: the tests only read it.</summary>
    private async Task<string> CdnowModel()
    {
        await FitOnce.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (_cdnowModel is null)
            {
                await DemoData.LoadAsync(app);
                var fit = await app.Send(HttpMethod.Post, "/api/churn/models", "{\"calibrationEnd\":\"1997-09-30T00:00:00Z\"}", "application/json", Analyst);
                Assert.Equal(201, fit.Status);
                _cdnowModel = fit.Body!["id"]!.GetValue<string>();
            }

            return _cdnowModel;
        }
        finally
        {
            FitOnce.Release();
        }
    }

    [Fact]
    public async Task Evaluating_the_CDNOW_fit_counts_1882_holdout_transactions_against_1653_expected_by_the_BG_NBD()
    {
        var id = await CdnowModel();

        var answer = await app.Get($"/api/churn/models/{id}/evaluation?holdoutEnd={HoldoutEnd}", Marketer);

        Assert.Equal((200, "application/json"), (answer.Status, answer.ContentType));
        var body = answer.Body!;
        Assert.Equal(id, body["modelId"]!.GetValue<string>());
        Assert.Equal(2357, body.Int("customers"));
        Assert.Equal(39.0, body["holdoutWeeks"]!.GetValue<double>());

        // Same-day purchases are one transaction: 1,882 holdout transactions, as BTYD's walkthrough counts them; its
        // conditional expectations add up to 1,653.39 for the BG/NBD and 1,665.21 for the Pareto/NBD.
        var holdout = body["holdout"]!;
        Assert.Equal(1882, holdout.Int("actual"));
        Assert.Equal(1653.39, holdout["bgNbd"]!.GetValue<double>(), 0.1);
        Assert.Equal(1665.21, holdout["paretoNbd"]!.GetValue<double>(), 0.5);

        var frequencies = body["calibrationFrequencies"]!;
        Assert.Equal([1411, 439, 214, 100, 62, 38, 29, 64], frequencies["bins"]!.AsArray().Select(b => b.Int("actual")));
        Assert.Equal(4.821, frequencies["bgNbd"]!["statistic"]!.GetValue<double>(), 0.001);
        Assert.Equal(3, frequencies["bgNbd"]!.Int("degreesOfFreedom"));
        Assert.Equal(11.990, frequencies["paretoNbd"]!["statistic"]!.GetValue<double>(), 0.001);

        var byFrequency = body["holdoutByFrequency"]!.AsArray();
        Assert.Equal(0.2367, byFrequency[0]!["actual"]!.GetValue<double>(), 1e-4);
        Assert.Equal(0.2251, byFrequency[0]!["bgNbd"]!.GetValue<double>(), 1e-4);
        Assert.True(byFrequency[7]!["orMore"]!.GetValue<bool>());

        Assert.Equal(0.626, body["correlation"]!["bgNbd"]!.GetValue<double>(), 0.001);
        Assert.Equal(0.630, body["correlation"]!["paretoNbd"]!.GetValue<double>(), 0.001);

        var tracking = body["tracking"]!;
        Assert.Equal("1997-01-01", tracking["start"]!.GetValue<string>());
        Assert.Equal(39.0, tracking["calibrationEndTime"]!.GetValue<double>());
        var weeks = tracking["weeks"]!.AsArray();
        Assert.Equal(78, weeks.Count);
        Assert.Equal(("1998-06-30", 4339), (weeks[77]!["through"]!.GetValue<string>(), weeks[77].Int("actual")));
    }

    [Fact]
    public async Task Without_a_holdout_end_the_evaluation_runs_to_the_latest_purchase()
    {
        var id = await CdnowModel();

        var answer = await app.Get($"/api/churn/models/{id}/evaluation", Analyst);

        Assert.Equal(200, answer.Status);
        Assert.Equal(DateTimeOffset.Parse(HoldoutEnd, System.Globalization.CultureInfo.InvariantCulture), answer.Body!["holdoutEnd"]!.GetValue<DateTimeOffset>());
        Assert.Equal(1882, answer.Body!["holdout"]!.Int("actual"));
    }

    [Fact]
    public async Task The_svg_answer_is_the_tracking_plot()
    {
        var id = await CdnowModel();

        var answer = await app.Get($"/api/churn/models/{id}/evaluation?holdoutEnd={HoldoutEnd}&format=svg", Analyst);

        Assert.Equal((200, "image/svg+xml"), (answer.Status, answer.ContentType));
        var svg = XDocument.Parse(await answer.Response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        XNamespace ns = TrackingPlot.Namespace;
        Assert.Equal(ns + "svg", svg.Root!.Name);
        var lines = svg.Descendants(ns + "polyline").ToList();
        Assert.Equal(["actual", "bg-nbd", "pareto-nbd"], lines.Select(l => (string?)l.Attribute("class")));
        Assert.All(lines, l => Assert.Equal(79, ((string)l.Attribute("points")!).Split(' ').Length));
        Assert.Single(svg.Descendants(ns + "line"), l => (string?)l.Attribute("class") == "calibration-end");
    }

    [Fact]
    public async Task A_holdout_end_not_after_the_calibration_end_answers_400()
    {
        var id = await CdnowModel();

        foreach (var end in new[] { "1997-09-30T00:00:00Z", "1997-09-30T18:00:00Z", "1997-06-01T00:00:00Z" })
        {
            var answer = await app.Get($"/api/churn/models/{id}/evaluation?holdoutEnd={end}", Analyst);

            Assert.Equal((400, "application/problem+json"), (answer.Status, answer.ContentType));
            Assert.NotNull(answer.Body!["errors"]!["holdoutEnd"]);
        }
    }

    [Theory]
    [InlineData("holdoutEnd=tomorrow", "holdoutEnd")]
    [InlineData("holdoutEnd=1998-06-30", "holdoutEnd")]
    [InlineData("format=png", "format")]
    [InlineData("format=json&format=svg", "format")]
    public async Task A_malformed_evaluation_request_answers_400_naming_the_parameter(string query, string field)
    {
        var answer = await app.Get($"/api/churn/models/{UnknownModel}/evaluation?{query}", Analyst);

        Assert.Equal((400, "application/problem+json"), (answer.Status, answer.ContentType));
        Assert.NotNull(answer.Body!["errors"]![field]);
    }

    [Theory]
    [InlineData(UnknownModel)]
    [InlineData("not-a-model")]
    public async Task Evaluating_an_unknown_model_answers_404(string id)
    {
        var answer = await app.Get($"/api/churn/models/{id}/evaluation?holdoutEnd={HoldoutEnd}", Analyst);

        Assert.Equal((404, "application/problem+json"), (answer.Status, answer.ContentType));
    }
}
