using CustomerJourney.Models.Churn;
using CustomerJourney.Models.Datasets;
using CustomerJourney.Models.Evaluation;
using MathNet.Numerics.Statistics;

namespace CustomerJourney.Specs.Models;

/// <summary>
/// The evaluation of the fits on the CDNOW sample (calibration to 1997-09-30, holdout to 1998-06-30) against the
/// figures BTYD's walkthrough prints for the same data and models (BTYD 2.4.3 vignette, sections 3.4 and 4.4: mean
/// holdout transactions by calibration frequency, weekly tracking), lifetimes' test of the histogram's actual counts,
/// and mpmath evaluations of the expected histogram. Same-day purchases are one transaction, as in the papers.
/// </summary>
public sealed class ModelEvaluationSpecs
{
    private static readonly Lazy<(BgNbdModel BgNbd, ParetoNbdModel ParetoNbd)> Fitted = new(() =>
        (BgNbd.Fit(CdnowData.SampleGroups()).Model, ParetoNbd.Fit(CdnowData.SampleGroups()).Model));

    private static readonly Lazy<ModelEvaluationResult> Evaluated = new(() =>
        ModelEvaluation.Evaluate(Customers(), Fitted.Value.BgNbd, Fitted.Value.ParetoNbd, Cdnow.CalibrationEnd, Cdnow.HoldoutEnd));

    private static List<EvaluatedCustomer> Customers() =>
        [.. CdnowData.SamplePurchases.GroupBy(p => p.CustomerId, StringComparer.Ordinal)
            .Select(g => new EvaluatedCustomer(CdnowData.Sample[g.Key], [.. g.Select(p => p.Day)]))];

    private static readonly int[] BinSizes = [1411, 439, 214, 100, 62, 38, 29, 64];

    [Fact]
    public void The_sample_made_1882_repeat_transactions_in_the_holdout()
    {
        var evaluation = Evaluated.Value;

        // BTYD's walkthrough prints the actual mean per calibration frequency for the same 39 weeks; times its bin sizes
        // they add up to 1,882 too. (Counting distinct Wednesday–Tuesday weeks instead of days would give 1,787.)
        Assert.Equal(1882, evaluation.Holdout.Actual);
        Assert.Equal(CdnowData.HoldoutTransactions(), evaluation.Holdout.Actual);
        Assert.Equal(2357, evaluation.Customers);
        Assert.Equal(39.0, evaluation.HoldoutWeeks);
    }

    [Fact]
    public void The_holdout_forecasts_add_up_to_what_BTYDs_conditional_expectations_give()
    {
        var evaluation = Evaluated.Value;

        // Σ bin size × BTYD's conditional expected mean: 1,653.39 for the BG/NBD (means to 7 digits) and 1,665.21 for the
        // Pareto/NBD (means to 3 digits). Both forecast about 12% fewer than the 1,882 that happened.
        Assert.Equal(1653.39, evaluation.Holdout.BgNbd, 0.1);
        Assert.Equal(1665.21, evaluation.Holdout.ParetoNbd, 0.5);
    }

    [Fact]
    public void Mean_holdout_transactions_by_calibration_frequency_match_the_BTYD_walkthrough()
    {
        double[] actual = [0.2367116, 0.6970387, 1.392523, 1.560000, 2.532258, 2.947368, 3.862069, 6.359375];
        double[] bgNbd = [0.2250893, 0.5231364, 1.044126, 1.520256, 2.163824, 2.653789, 3.503957, 6.157036];
        double[] paretoNbd = [0.138, 0.600, 1.196, 1.714, 2.399, 2.907, 3.819, 6.403];
        var bins = Evaluated.Value.HoldoutByFrequency;

        Assert.Equal(BinSizes, bins.Select(b => b.Customers));
        Assert.Equal([false, false, false, false, false, false, false, true], bins.Select(b => b.OrMore));
        for (var x = 0; x <= ModelEvaluation.Censor; x++)
        {
            Assert.Equal(actual[x], bins[x].Actual!.Value, 1e-6);
            // Our fit and BTYD's stop at slightly different points of a flat likelihood; the Pareto/NBD's printed
            // parameters and means are rounded to 3 digits, and its optimum lies on a ridge.
            Assert.Equal(bgNbd[x], bins[x].BgNbd!.Value, 3e-4);
            Assert.Equal(paretoNbd[x], bins[x].ParetoNbd!.Value, 2e-3);
        }
    }

    [Fact]
    public void The_calibration_histogram_matches_lifetimes_and_a_30_digit_evaluation()
    {
        // Expected counts: Σ_i P(X(T_i) = x) with eq. 8 and with the Pareto/NBD's quadrature over the lifetime, in mpmath
        // at the fitted parameters; the chi-squares follow from them (3 degrees of freedom: 8 bins, 4 parameters).
        double[] bgNbd = [1407.684343, 460.3234658, 192.4614133, 101.1641958, 59.84707864, 38.11970551, 25.54910815, 71.85068984];
        double[] paretoNbd = [1434.049303, 396.87792, 193.4923923, 111.811699, 69.98998767, 45.85557902, 30.93211804, 73.99100099];
        var fit = Evaluated.Value.CalibrationFrequencies;

        Assert.Equal(BinSizes, fit.Bins.Select(b => b.Actual));
        Assert.Equal(2457, fit.Bins.Take(7).Sum(b => b.X * b.Actual) + CdnowData.Sample.Values.Where(c => c.X >= 7).Sum(c => c.X));
        for (var x = 0; x <= ModelEvaluation.Censor; x++)
        {
            Assert.Equal(bgNbd[x], fit.Bins[x].BgNbd, 1e-4);
            Assert.Equal(paretoNbd[x], fit.Bins[x].ParetoNbd, 1e-4);
        }

        Assert.Equal(2357, fit.Bins.Sum(b => b.BgNbd), 6);
        Assert.Equal(new ChiSquareTest(4.8211, 3, 0.1854), Rounded(fit.BgNbd!));
        Assert.Equal(new ChiSquareTest(11.9900, 3, 0.0074), Rounded(fit.ParetoNbd!));
    }

    [Fact]
    public void The_tracking_plot_counts_what_BTYD_counts_and_meets_the_calibration_and_holdout_totals()
    {
        var evaluation = Evaluated.Value;
        var weeks = evaluation.Tracking.Weeks;
        var (bgNbd, paretoNbd) = Fitted.Value;
        var customers = CdnowData.Sample.Values.ToList();

        Assert.Equal(new DateOnly(1997, 1, 1), evaluation.Tracking.Start);
        Assert.Equal(39.0, evaluation.Tracking.CalibrationEndTime);
        Assert.Equal(Enumerable.Range(1, 78), weeks.Select(w => w.Week));
        Assert.Equal(Enumerable.Range(1, 78).Select(w => (double)w), weeks.Select(w => w.Time));
        Assert.Equal(Cdnow.CalibrationEnd, weeks[38].Through);
        Assert.Equal(Cdnow.HoldoutEnd, weeks[77].Through);

        // BTYD's walkthrough: cumulative repeat transactions in weeks 20 to 25.
        Assert.Equal([1359, 1414, 1484, 1517, 1573, 1672], weeks.Skip(19).Take(6).Select(w => w.Actual));
        Assert.Equal(2457, weeks[38].Actual);
        Assert.Equal(4339, weeks[77].Actual);

        // At the calibration end every customer's clock reads T, at the holdout end T + 39.
        Assert.Equal(customers.Sum(c => bgNbd.ExpectedTransactions(c.T)), weeks[38].BgNbd, 6);
        Assert.Equal(customers.Sum(c => paretoNbd.ExpectedTransactions(c.T)), weeks[38].ParetoNbd, 6);
        Assert.Equal(customers.Sum(c => bgNbd.ExpectedTransactions(c.T + 39)), weeks[77].BgNbd, 6);
        Assert.Equal(customers.Sum(c => paretoNbd.ExpectedTransactions(c.T + 39)), weeks[77].ParetoNbd, 6);
    }

    [Fact]
    public void BTYDs_tracking_expectations_run_one_day_ahead_of_these()
    {
        // BTYD puts week k at k weeks after each first purchase, one day past the week's last day (its T runs to
        // 1997-10-01); here it is the last day itself, so that week 39 is Σ E[X(T_i)]. With BTYD's BG/NBD parameters its
        // printed weeks 20–25 sit one day's growth above these.
        double[] btyd = [1312.458, 1387.346, 1460.392, 1531.713, 1601.418, 1669.6];
        var weeks = ModelEvaluation.Evaluate(Customers(), new BgNbdModel(0.2425967, 4.413659, 0.7929869, 2.426164), Fitted.Value.ParetoNbd,
            Cdnow.CalibrationEnd, Cdnow.HoldoutEnd).Tracking.Weeks;

        for (var k = 0; k < btyd.Length; k++)
        {
            var (week, next) = (weeks[19 + k].BgNbd, weeks[20 + k].BgNbd);
            Assert.InRange((btyd[k] - week) / ((next - week) / 7), 0.9, 1.1);
        }
    }

    [Fact]
    public void The_correlation_is_Pearsons_between_each_customers_forecast_and_holdout_transactions()
    {
        var (bgNbd, paretoNbd) = Fitted.Value;
        var customers = Customers();
        var actual = customers.Select(c => (double)RfmSummary.TransactionDays(c.TransactionDays.Select(d => (d, 0m)), Cdnow.CalibrationEnd, Cdnow.HoldoutEnd)).ToList();
        double Forecast(IRepeatPurchaseModel m, RfmSummary c) => m.ConditionalExpectedTransactions(c.X, c.Tx, c.T, 39);

        var correlation = Evaluated.Value.Correlation;

        Assert.Equal(Correlation.Pearson(customers.Select(c => Forecast(bgNbd, c.Calibration)), actual), correlation.BgNbd!.Value, 12);
        Assert.Equal(Correlation.Pearson(customers.Select(c => Forecast(paretoNbd, c.Calibration)), actual), correlation.ParetoNbd!.Value, 12);
        Assert.Equal(0.626, correlation.BgNbd!.Value, 0.001);
        Assert.Equal(0.630, correlation.ParetoNbd!.Value, 0.001);
    }

    [Fact]
    public void A_small_cohort_is_counted_in_calendar_days_and_weeks_from_its_first_purchase()
    {
        var model = new BgNbdModel(0.25, 4.4, 0.8, 2.4);
        var pareto = new ParetoNbdModel(0.55, 10.6, 0.6, 11.7);
        var calibrationEnd = new DateOnly(2024, 1, 14);
        var holdoutEnd = new DateOnly(2024, 1, 24);
        var early = Customer(calibrationEnd, "2024-01-01", "2024-01-05", "2024-01-05", "2024-01-20", "2024-01-30");
        var late = Customer(calibrationEnd, "2024-01-10", "2024-01-14", "2024-01-24");

        var evaluation = ModelEvaluation.Evaluate([early, late], model, pareto, calibrationEnd, holdoutEnd);

        Assert.Equal((1, 4 / 7.0, 13 / 7.0), (early.Calibration.X, early.Calibration.Tx, early.Calibration.T));
        Assert.Equal(new HoldoutTotals(2,
            model.ConditionalExpectedTransactions(1, 4 / 7.0, 13 / 7.0, 10 / 7.0) + model.ConditionalExpectedTransactions(1, 4 / 7.0, 4 / 7.0, 10 / 7.0),
            pareto.ConditionalExpectedTransactions(1, 4 / 7.0, 13 / 7.0, 10 / 7.0) + pareto.ConditionalExpectedTransactions(1, 4 / 7.0, 4 / 7.0, 10 / 7.0)),
            evaluation.Holdout);
        Assert.Equal(10 / 7.0, evaluation.HoldoutWeeks);
        Assert.Equal(2.0, evaluation.Tracking.CalibrationEndTime);

        // Weeks run Monday 1 January to Sunday; the last is cut at the holdout end. The late customer's clock starts on 10 January.
        var weeks = evaluation.Tracking.Weeks;
        Assert.Equal(["2024-01-07", "2024-01-14", "2024-01-21", "2024-01-24"], weeks.Select(w => w.Through.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal([1.0, 2.0, 3.0, 24 / 7.0], weeks.Select(w => w.Time));
        Assert.Equal([1, 2, 3, 4], weeks.Select(w => w.Actual));
        Assert.Equal(model.ExpectedTransactions(6 / 7.0), weeks[0].BgNbd, 12);
        Assert.Equal(model.ExpectedTransactions(13 / 7.0) + model.ExpectedTransactions(4 / 7.0), weeks[1].BgNbd, 12);
        Assert.Equal(pareto.ExpectedTransactions(23 / 7.0) + pareto.ExpectedTransactions(14 / 7.0), weeks[3].ParetoNbd, 12);

        var histogram = evaluation.CalibrationFrequencies.Bins;
        Assert.Equal([0, 2, 0, 0, 0, 0, 0, 0], histogram.Select(b => b.Actual));
        Assert.Equal(model.ProbabilityOfTransactions(0, 13 / 7.0) + model.ProbabilityOfTransactions(0, 4 / 7.0), histogram[0].BgNbd, 12);
        Assert.Equal(2.0, histogram.Sum(b => b.ParetoNbd), 12);

        // Nobody had 0 repeat transactions, so that bin has no mean; both holdout counts are 1, so nothing to correlate.
        Assert.Equal(new ConditionalBin(0, false, 0, null, null, null), evaluation.HoldoutByFrequency[0]);
        Assert.Equal((2, 1.0), (evaluation.HoldoutByFrequency[1].Customers, evaluation.HoldoutByFrequency[1].Actual!.Value));
        Assert.Equal(new ModelPair<double?>(null, null), evaluation.Correlation);
    }

    [Fact]
    public void A_holdout_that_does_not_end_after_the_calibration_end_is_refused()
    {
        var customer = Customer(Cdnow.CalibrationEnd, "1997-01-01");

        Assert.Throws<ArgumentException>(() => ModelEvaluation.Evaluate([customer], Fitted.Value.BgNbd, Fitted.Value.ParetoNbd, Cdnow.CalibrationEnd, Cdnow.CalibrationEnd));
        Assert.Throws<ArgumentException>(() => ModelEvaluation.Evaluate([], Fitted.Value.BgNbd, Fitted.Value.ParetoNbd, Cdnow.CalibrationEnd, Cdnow.HoldoutEnd));
    }

    [Fact]
    public void A_summary_made_for_another_calibration_end_is_refused()
    {
        var customer = Customer(new DateOnly(1997, 6, 30), "1997-01-01");

        Assert.Throws<ArgumentException>(() => ModelEvaluation.Evaluate([customer], Fitted.Value.BgNbd, Fitted.Value.ParetoNbd, Cdnow.CalibrationEnd, Cdnow.HoldoutEnd));
    }

    private static EvaluatedCustomer Customer(DateOnly calibrationEnd, params string[] days)
    {
        var dates = days.Select(d => DateOnly.Parse(d, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        return new EvaluatedCustomer(RfmSummary.FromPurchases(dates.Select(d => (d, 1m)), calibrationEnd), dates);
    }

    private static ChiSquareTest Rounded(ChiSquareTest test) => test with { Statistic = Math.Round(test.Statistic, 4), PValue = Math.Round(test.PValue, 4) };
}
