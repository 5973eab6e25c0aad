using CustomerJourney.Models;
using CustomerJourney.Models.Spend;

namespace CustomerJourney.Specs.Models;

/// <summary>
/// Gamma–Gamma against published CDNOW figures: Fader &amp; Hardie (2013) "The Gamma-Gamma Model of Monetary Value"
/// (p = 6.25, q = 3.74, γ = 15.44 on the 946 repeat buyers), CLVTools' test on the raw sample (LL −4055.9177), and
/// Hardie's spreadsheet for the conditional expected spend of the first ten customers (as quoted by lifetimes' tests).
/// </summary>
public sealed class GammaGammaSpecs
{
    private static readonly Lazy<ModelFit<GammaGammaModel>> PublishedFit =
        new(() => GammaGamma.Fit(CdnowData.PublishedSummary.Select(r => (r.X, r.MeanRepeatValue))));

    private static readonly Lazy<ModelFit<GammaGammaModel>> RawFit =
        new(() => GammaGamma.Fit(CdnowData.Sample.Values.Select(s => (s.X, (double)s.MeanRepeatValue))));

    [Fact]
    public void The_fit_on_the_published_summary_reproduces_the_note()
    {
        var fit = PublishedFit.Value;

        Assert.True(fit.Converged, fit.Report.Diagnosis);
        Assert.Equal(946, fit.Report.Customers);
        Assert.True(Math.Abs(6.25 - fit.Model.P) <= 0.01, $"p = {fit.Model.P}");
        Assert.True(Math.Abs(3.74 - fit.Model.Q) <= 0.01, $"q = {fit.Model.Q}");
        Assert.True(Math.Abs(15.44 - fit.Model.Gamma) <= 0.01, $"gamma = {fit.Model.Gamma}");
    }

    [Fact]
    public void The_fit_on_the_raw_sample_reproduces_the_note_and_the_CLVTools_log_likelihood()
    {
        var fit = RawFit.Value;

        Assert.True(fit.Converged, fit.Report.Diagnosis);
        Assert.Equal(946, fit.Report.Customers);
        Assert.Equal(6.25, Math.Round(fit.Model.P, 2), 9);
        Assert.Equal(3.74, Math.Round(fit.Model.Q, 2), 9);
        Assert.Equal(15.44, Math.Round(fit.Model.Gamma, 2), 9);
        Assert.Equal(-4055.9177, fit.LogLikelihood, 4);
    }

    [Fact]
    public void Conditional_expected_spend_matches_Hardies_spreadsheet()
    {
        double[] spreadsheet = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17];
        var model = PublishedFit.Value.Model;
        var firstTen = CdnowData.PublishedSummary.Take(10).ToList();
        for (var i = 0; i < 10; i++)
        {
            var spend = model.ConditionalExpectedSpend(firstTen[i].X, firstTen[i].MeanRepeatValue);
            Assert.True(Math.Abs(spreadsheet[i] - spend) <= 0.01, $"customer {i + 1}: {spend}");
        }
    }

    [Fact]
    public void Without_repeat_purchases_the_expected_spend_is_the_population_mean()
    {
        var model = new GammaGammaModel(6.25, 3.74, 15.44);

        Assert.Equal(6.25 * 15.44 / 2.74, model.ExpectedSpend(), 12);
        Assert.Equal(model.ExpectedSpend(), model.ConditionalExpectedSpend(0, 0), 12);
        Assert.Throws<InvalidOperationException>(() => new GammaGammaModel(1, 0.5, 10).ExpectedSpend());
    }

    [Theory]
    [InlineData(6.25, 3.74, 15.44)]
    [InlineData(0.5, 12, 300)]
    [InlineData(30, 1.5, 2)]
    public void The_analytic_gradient_matches_finite_differences(double p, double q, double gamma)
    {
        var customers = CdnowData.PublishedSummary.Where(r => r.X > 0).Select(r => (r.X, r.MeanRepeatValue)).ToList();
        var numerical = FiniteDifferences.Gradient(v => GammaGamma.LogLikelihood(customers, new GammaGammaModel(v[0], v[1], v[2])), [p, q, gamma]);

        FiniteDifferences.AssertClose(numerical, GammaGamma.Gradient(customers, new GammaGammaModel(p, q, gamma)), 1e-7);
    }

    [Fact]
    public void Customers_without_a_positive_repeat_spend_are_left_out_of_the_fit_and_refused_by_the_likelihood()
    {
        var fit = GammaGamma.Fit([(0, 0.0), (2, 0.0), (1, 10.0), (3, 12.0), (2, 30.0), (5, 8.0), (1, 55.0)]);

        Assert.Equal(5, fit.Report.Customers);
        Assert.Throws<ArgumentException>(() => fit.Model.LogLikelihood(0, 10));
        Assert.Throws<ArgumentException>(() => fit.Model.LogLikelihood(2, 0));
        Assert.Throws<ArgumentException>(() => GammaGamma.Fit([(0, 0.0), (3, 0.0)]));
    }

    [Fact]
    public void Identical_spend_everywhere_does_not_report_convergence()
    {
        // With no spread between customers the spend-rate distribution collapses (q, γ → ∞): no interior optimum.
        var fit = GammaGamma.Fit([(1, 20.0), (2, 20.0), (3, 20.0), (4, 20.0), (1, 20.0)]);

        Assert.False(fit.Converged, fit.Report.Diagnosis);
    }
}
