using System.Globalization;
using CustomerJourney.Complaints;
using CustomerJourney.Models.Charts;

namespace CustomerJourney.WebConsole.Complaints;

/// <summary>
/// Draws the metrics endpoint's answer: its per-category figures as bars, its per-month figures as lines. Every figure is
/// the API's; nothing is recomputed or averaged here.
/// </summary>
public static class MetricsCharts
{
    public static IReadOnlyList<Chart> Of(ResolutionMetricsReport report)
    {
        var categories = report.ByCategory;
        var months = report.ByMonth;
        // Months are drawn at their index along the axis; a tick between two months has no label.
        string Month(double x) => Math.Abs(x - Math.Round(x)) < 1e-9 && (int)Math.Round(x) is var i && i >= 0 && i < months.Count ? months[i].Month : "";
        IReadOnlyList<ChartPoint> Points(Func<ResolutionMetrics, double?> figure) =>
            [.. months.Select((m, i) => (X: i, Y: figure(m))).Where(p => p.Y is not null).Select(p => new ChartPoint(p.X, p.Y!.Value))];
        static double Percent(double? share) => Math.Round((share ?? 0) * 100, 1);

        return
        [
            new BarChart("complaints-resolution-hours-by-category", "Median hours to acknowledge and to resolve, per category",
                $"For each of {categories.Count} categories, the median hours from logging to acknowledgement and to the first resolution. A category without an acknowledged or resolved case shows 0.",
                "Category", "Median hours", [.. categories.Select(c => c.Category)],
                [
                    new BarSeries("To acknowledge", [.. categories.Select(c => c.TimeToAcknowledge.MedianHours ?? 0)]),
                    new BarSeries("To resolve", [.. categories.Select(c => c.TimeToResolve.MedianHours ?? 0)]),
                ]),
            new BarChart("complaints-breaches-by-category", "Cases with a broken service promise, per category (%)",
                $"For each of {categories.Count} categories, the share of cases whose acknowledge or resolve promise was broken, and of resolved cases whose follow-up promise was.",
                "Category", "Share of cases (%)", [.. categories.Select(c => c.Category)],
                [
                    new BarSeries("Acknowledge", [.. categories.Select(c => Percent(c.BreachRate.Acknowledge))]),
                    new BarSeries("Resolve", [.. categories.Select(c => Percent(c.BreachRate.Resolve))]),
                    new BarSeries("Follow-up", [.. categories.Select(c => Percent(c.BreachRate.FollowUp))]),
                ]),
            new LineChart("complaints-cases-by-month", "Cases logged per month",
                $"Cases logged in each of {months.Count} months{Span(months)}, and how many of them were resolved.",
                "Month logged", "Cases",
                [
                    new ChartSeries("Logged", Points(m => m.Cases), "logged"),
                    new ChartSeries("Resolved", Points(m => m.TimeToResolve.Count), "resolved", Dashed: true),
                ], XTick: Month),
            new LineChart("complaints-resolution-hours-by-month", "Median hours to resolve, per month logged",
                $"For the cases logged in each of {months.Count} months{Span(months)}, the median and 90th percentile hours from logging to the first resolution; a month without a resolved case has no point.",
                "Month logged", "Hours",
                [
                    new ChartSeries("Median", Points(m => m.TimeToResolve.MedianHours), "median"),
                    new ChartSeries("90th percentile", Points(m => m.TimeToResolve.P90Hours), "p90", Dashed: true),
                ], XTick: Month),
        ];
    }

    private static string Span(IReadOnlyList<ResolutionMetrics> months) =>
        months.Count == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $" from {months[0].Month} to {months[^1].Month}");
}
