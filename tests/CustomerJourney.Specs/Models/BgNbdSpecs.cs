using CustomerJourney.Models;
using CustomerJourney.Models.Churn;

namespace CustomerJourney.Specs.Models;

/// <summary>
/// BG/NBD against published CDNOW figures: Fader, Hardie &amp; Lee (2005) section 7 (r = 0.243, α = 4.414, a = 0.793,
/// b = 2.426, LL = −9582.4); lifetimes' documentation of the same fit on the published summary (0.242593, 4.413532,
/// 0.792886, 2.425752); CLVTools' test on the raw sample (0.2425945, 4.4136019, 0.7929199, 2.4258881, LL −9582.429); and
/// Hardie's BG/NBD spreadsheet for the expectations.
/// </summary>
public sealed class BgNbdSpecs
{
    private static readonly Lazy<ModelFit<BgNbdModel>> PublishedFit = new(() => BgNbd.Fit(CdnowData.PublishedGroups()));

    private static readonly Lazy<ModelFit<BgNbdModel>> RawFit = new(() => BgNbd.Fit(CdnowData.SampleGroups()));

    [Fact]
    public void The_fit_on_the_published_summary_reproduces_the_paper()
    {
        var fit = PublishedFit.Value;

        Assert.True(fit.Converged, fit.Report.Diagnosis);
        Assert.Equal(2357, fit.Report.Customers);
        AssertRounded(0.243, fit.Model.R);
        AssertRounded(4.414, fit.Model.Alpha);
        AssertRounded(0.793, fit.Model.A);
        AssertRounded(2.426, fit.Model.B);
        Assert.Equal(-9582.4, Math.Round(fit.LogLikelihood, 1), 6);
    }

    [Fact]
    public void The_fit_on_the_published_summary_matches_lifetimes_to_five_digits()
    {
        var model = PublishedFit.Value.Model;

        AssertRelative(0.242593, model.R, 1e-5);
        AssertRelative(4.413532, model.Alpha, 1e-5);
        AssertRelative(0.792886, model.A, 1e-5);
        AssertRelative(2.425752, model.B, 1e-5);
    }

    [Fact]
    public void The_fit_on_the_raw_sample_reproduces_the_paper_and_CLVTools()
    {
        var fit = RawFit.Value;

        Assert.True(fit.Converged, fit.Report.Diagnosis);
        AssertRounded(0.243, fit.Model.R);
        AssertRounded(4.414, fit.Model.Alpha);
        AssertRounded(0.793, fit.Model.A);
        AssertRounded(2.426, fit.Model.B);
        Assert.Equal(-9582.429, fit.LogLikelihood, 3);
        var clvTools = new BgNbdModel(0.2425945, 4.4136019, 0.7929199, 2.4258881);
        Assert.True(fit.LogLikelihood >= BgNbd.LogLikelihood(CdnowData.SampleGroups(), clvTools) - 1e-7);
        AssertRelative(clvTools.R, fit.Model.R, 2e-5);
        AssertRelative(clvTools.Alpha, fit.Model.Alpha, 2e-5);
        AssertRelative(clvTools.A, fit.Model.A, 2e-5);
        AssertRelative(clvTools.B, fit.Model.B, 2e-5);
    }

    [Theory]
    [InlineData(0.1429, 0.0078)]
    [InlineData(1.0, 0.0532)]
    [InlineData(3.0, 0.1506)]
    [InlineData(31.8571, 1.0405)]
    [InlineData(32.0, 1.0437)]
    [InlineData(78.0, 1.8576)]
    public void Unconditional_expectations_match_Hardies_spreadsheet(double weeks, double expected)
    {
        // The spreadsheet's own parameters and 2F1 differ in the fourth decimal at 78 weeks (as lifetimes' test allows).
        Assert.True(Math.Abs(expected - PublishedFit.Value.Model.ExpectedTransactions(weeks)) <= 5e-4);
    }

    [Theory]
    [InlineData(0.1429, 0.00781607206622152633)]
    [InlineData(3.0, 0.150631930219661326)]
    [InlineData(78.0, 1.85797178300885167765)]
    public void Unconditional_expectations_match_a_30_digit_evaluation(double weeks, double expected)
    {
        // Reference values: eq. 7 in mpmath 1.3 at 30 digits with this fit's parameters, and the same to 28 digits by
        // quadrature of E[(1 − (α/(α+pt))^r)/p] over p ~ Beta(a, b).
        var model = new BgNbdModel(0.24259290710884499, 4.4135315583283745, 0.7928861472918821, 2.425753434332413);
        Assert.Equal(expected, model.ExpectedTransactions(weeks), 12);
        Assert.Equal(1.22591045237842764503, model.ConditionalExpectedTransactions(2, 30.43, 38.86, 39), 12);
    }

    [Fact]
    public void The_conditional_expectation_matches_Hardies_spreadsheet()
    {
        // Customer 1 of the sample: x = 2, t_x = 30.43, T = 38.86, forecast over the 39-week holdout.
        Assert.Equal(1.226, PublishedFit.Value.Model.ConditionalExpectedTransactions(2, 30.43, 38.86, 39), 3);
    }

    [Fact]
    public void The_tracking_forecast_under_forecasts_week_78_by_about_four_percent_as_in_the_paper()
    {
        // Section 7: cumulative repeat transactions of the cohort, each customer from their own first purchase to
        // 1998-06-30 (T + 39 weeks); the paper reports the BG/NBD about 4% under the actual figure.
        var model = RawFit.Value.Model;
        var expected = CdnowData.Sample.Values.Sum(c => model.ExpectedTransactions(c.T + 39));
        var actual = CdnowData.Sample.Values.Sum(c => c.X) + CdnowData.HoldoutTransactions();

        Assert.Equal(4339, actual);
        Assert.InRange(expected / actual, 0.955, 0.965);
    }

    [Fact]
    public void The_probability_of_x_transactions_matches_BTYD_and_lifetimes()
    {
        // BTYD's bgnbd.pmf examples with the paper's rounded parameters, as lifetimes' test quotes them.
        var model = new BgNbdModel(0.243, 4.414, 0.793, 2.426);
        double[] inWeek30 = [0.0019995214, 0.0015170236, 0.0011633150, 0.0009003148, 0.0007023638, 0.0005517902, 0.0004361913, 0.0003467171, 0.0002769613, 0.0002222260];

        AssertRelative(1.07869e-07, model.ProbabilityOfTransactions(10, 2), 1e-5);
        Assert.Equal(0.5737864, model.ProbabilityOfTransactions(0, 39), 7);
        for (var n = 11; n <= 20; n++)
        {
            Assert.Equal(inWeek30[n - 11], model.ProbabilityOfTransactions(n, 30), 10);
        }
    }

    [Fact]
    public void The_probability_of_x_transactions_matches_a_30_digit_evaluation_and_sums_to_the_expectation()
    {
        // Reference values: eq. 8 in mpmath 1.3 at 30 digits; the small one needs the NBD tail as an incomplete beta.
        var model = new BgNbdModel(0.243, 4.414, 0.793, 2.426);
        AssertRelative(1.07868964036914786579961485482e-7, model.ProbabilityOfTransactions(10, 2), 1e-12);
        Assert.Equal(0.57378635209600940476073800895, model.ProbabilityOfTransactions(0, 39), 13);

        var fitted = RawFit.Value.Model;
        var probabilities = Enumerable.Range(0, 400).Select(x => fitted.ProbabilityOfTransactions(x, 39)).ToList();
        Assert.Equal(1.0, probabilities.Sum(), 12);
        Assert.Equal(fitted.ExpectedTransactions(39), probabilities.Select((p, x) => x * p).Sum(), 10);
        Assert.Equal(1.0, fitted.ProbabilityOfTransactions(0, 0));
        Assert.Equal(0.0, fitted.ProbabilityOfTransactions(3, 0));
    }

    [Fact]
    public void A_customer_without_repeat_purchases_is_alive_by_construction()
    {
        var model = PublishedFit.Value.Model;

        Assert.Equal(1.0, model.ProbabilityAlive(0, 0, 38.86));
        Assert.Equal(1.0, model.ProbabilityAlive(0, 0, 0));
        Assert.InRange(model.ProbabilityAlive(2, 30.43, 38.86), 0.0, 1.0);
    }

    [Fact]
    public void The_total_log_likelihood_is_the_sum_of_the_customers()
    {
        var model = new BgNbdModel(0.3, 5, 0.8, 2.5);
        var bySum = CdnowData.PublishedSummary.Sum(c => model.LogLikelihood(c.X, c.Tx, c.T));

        Assert.Equal(bySum, BgNbd.LogLikelihood(CdnowData.PublishedGroups(), model), 6);
    }

    [Theory]
    [InlineData(0.243, 4.414, 0.793, 2.426)]
    [InlineData(1.5, 0.7, 3.0, 0.4)]
    [InlineData(0.05, 40, 0.2, 9)]
    public void The_analytic_gradient_matches_finite_differences(double r, double alpha, double a, double b)
    {
        var groups = CdnowData.PublishedGroups();
        var numerical = FiniteDifferences.Gradient(p => BgNbd.LogLikelihood(groups, new BgNbdModel(p[0], p[1], p[2], p[3])), [r, alpha, a, b]);

        FiniteDifferences.AssertClose(numerical, BgNbd.Gradient(groups, new BgNbdModel(r, alpha, a, b)), 1e-7);
    }

    [Fact]
    public void Expectations_are_finite_and_continuous_across_a_equal_to_one()
    {
        var at = new BgNbdModel(0.25, 4.4, 1.0, 2.4);
        var below = new BgNbdModel(0.25, 4.4, 1.0 - 1e-4, 2.4);
        var above = new BgNbdModel(0.25, 4.4, 1.0 + 1e-4, 2.4);

        Assert.InRange(at.ExpectedTransactions(39), below.ExpectedTransactions(39) - 1e-4, above.ExpectedTransactions(39) + 1e-4);
        var conditional = at.ConditionalExpectedTransactions(3, 20, 38, 39);
        Assert.True(double.IsFinite(conditional));
        Assert.Equal(below.ConditionalExpectedTransactions(3, 20, 38, 39), conditional, 3);
    }

    [Fact]
    public void A_cohort_without_any_repeat_purchase_does_not_report_convergence()
    {
        // With x = 0 for everyone the likelihood keeps rising as the purchase rate goes to 0: no interior optimum.
        var fit = BgNbd.Fit(CustomerGroups.From([(0, 0.0, 30.0), (0, 0.0, 35.0), (0, 0.0, 38.0)]));

        Assert.False(fit.Converged);
        Assert.False(string.IsNullOrEmpty(fit.Report.Diagnosis));
    }

    private static void AssertRounded(double published, double actual) =>
        Assert.True(Math.Abs(published - actual) <= 0.0006, $"published {published}, fitted {actual}");

    private static void AssertRelative(double expected, double actual, double tolerance) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance * Math.Abs(expected), $"expected {expected}, got {actual}");
}
