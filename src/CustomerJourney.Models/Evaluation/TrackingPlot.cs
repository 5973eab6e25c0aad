using CustomerJourney.Models.Charts;

namespace CustomerJourney.Models.Evaluation;

/// <summary>
/// The tracking plot of Fader, Hardie &amp; Lee (2005): cumulative repeat transactions by week, actual against BG/NBD and
/// Pareto/NBD, with the calibration end marked. Drawn by <see cref="SvgChart"/> from the same <see cref="Tracking"/> the
/// JSON answer carries, so a browser or a report shows it without a charting library.
/// </summary>
public static class TrackingPlot
{
    public const string Namespace = SvgChart.Namespace;

    public static string Svg(Tracking tracking, string title) => Chart(tracking, title, "tracking").Svg();

    /// <summary>The plot as a chart, for a page that shows it inline beside its data table.</summary>
    public static LineChart Chart(Tracking tracking, string title, string id)
    {
        ArgumentNullException.ThrowIfNull(tracking);
        ArgumentNullException.ThrowIfNull(title);
        // Every curve starts at (0, 0): nobody has bought again before the cohort's first purchase day.
        ChartSeries Curve(string name, string cssClass, Func<TrackingWeek, double> value, bool dashed = false) =>
            new(name, [new ChartPoint(0, 0), .. tracking.Weeks.Select(w => new ChartPoint(w.Time, value(w)))], cssClass, dashed);

        var last = tracking.Weeks.Count == 0 ? null : tracking.Weeks[^1];
        return new LineChart(
            id,
            title,
            $"Cumulative repeat transactions by week since the cohort's first purchase day, actual against the BG/NBD and Pareto/NBD expectations; "
            + $"calibration ends at week {SvgChart.Number(tracking.CalibrationEndTime)}"
            + (last is null ? "." : $"; by week {SvgChart.Number(last.Time)}: actual {SvgChart.Number(last.Actual)}, BG/NBD {SvgChart.Number(last.BgNbd)}, Pareto/NBD {SvgChart.Number(last.ParetoNbd)}."),
            "Weeks since the cohort's first purchase day",
            "Cumulative repeat transactions",
            [Curve("Actual", "actual", w => w.Actual), Curve("BG/NBD", "bg-nbd", w => w.BgNbd), Curve("Pareto/NBD", "pareto-nbd", w => w.ParetoNbd, dashed: true)],
            [new ChartMarker(tracking.CalibrationEndTime, "calibration end", "calibration-end")]);
    }
}
