using System.Globalization;
using CustomerJourney.Churn;
using CustomerJourney.Models.Charts;
using CustomerJourney.Models.Evaluation;

namespace CustomerJourney.WebConsole;

/// <summary>The evaluation's three figures (Fader, Hardie &amp; Lee 2005, figures 2–4) as charts, from the API's answer.</summary>
public static class ChurnCharts
{
    /// <summary>Expected against actual cumulative repeat transactions by week, the calibration end marked: the evaluation's own tracking plot.</summary>
    public static LineChart Tracking(ChurnModelEvaluation evaluation) =>
        TrackingPlot.Chart(evaluation.Tracking, $"Tracking: cumulative repeat transactions ({evaluation.Currency}), calibration to {Day(evaluation.CalibrationEnd)}, holdout to {Day(evaluation.HoldoutEnd)}",
            "tracking");

    /// <summary>Customers by their repeat transactions in calibration, actual against each model's expectation.</summary>
    public static BarChart CalibrationHistogram(ChurnModelEvaluation evaluation)
    {
        var bins = evaluation.CalibrationFrequencies.Bins;
        return new BarChart(
            "calibration-histogram",
            "Customers by repeat transactions in calibration: actual and expected",
            $"How many of the {evaluation.Customers} customers made 0, 1, … {Bin(bins[^1].X, bins[^1].OrMore)} repeat transactions before the calibration end, "
            + $"against the BG/NBD and Pareto/NBD expectations; most made none ({bins[0].Actual} actual, {Number(bins[0].BgNbd)} expected by the BG/NBD).",
            "Repeat transactions in calibration",
            "Customers",
            [.. bins.Select(b => Bin(b.X, b.OrMore))],
            [new BarSeries("Actual", [.. bins.Select(b => (double)b.Actual)]), new BarSeries("BG/NBD", [.. bins.Select(b => b.BgNbd)]),
                new BarSeries("Pareto/NBD", [.. bins.Select(b => b.ParetoNbd)])]);
    }

    /// <summary>Mean holdout transactions of the customers with each calibration frequency, actual against conditional expectation.</summary>
    public static LineChart ConditionalExpectations(ChurnModelEvaluation evaluation)
    {
        var bins = evaluation.HoldoutByFrequency.Where(b => b.Customers > 0).ToList();
        var censored = bins.FirstOrDefault(b => b.OrMore)?.X;
        ChartSeries Series(string name, string css, Func<ConditionalBin, double?> value, bool dashed = false) =>
            new(name, [.. bins.Where(b => value(b) is not null).Select(b => new ChartPoint(b.X, value(b)!.Value))], css, dashed);
        return new LineChart(
            "conditional-expectations",
            $"Conditional expectations: mean holdout transactions by calibration frequency ({Number(evaluation.HoldoutWeeks)}-week holdout)",
            "For the customers with each number of repeat transactions in calibration, the mean number of transactions they made in the holdout, "
            + "against each model's expectation given their history.",
            "Repeat transactions in calibration",
            "Mean holdout transactions per customer",
            [Series("Actual", "actual", b => b.Actual), Series("BG/NBD", "bg-nbd", b => b.BgNbd), Series("Pareto/NBD", "pareto-nbd", b => b.ParetoNbd, dashed: true)],
            XTick: x => x == censored ? Bin((int)x, orMore: true) : SvgChart.Number(x));
    }

    private static string Bin(int x, bool orMore) => orMore ? $"{x}+" : x.ToString(CultureInfo.InvariantCulture);

    private static string Day(DateTimeOffset instant) => instant.ToUniversalTime().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Number(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);
}
