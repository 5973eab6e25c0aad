using System.Globalization;
using System.Text;

namespace CustomerJourney.Models.Evaluation;

/// <summary>
/// The tracking plot of Fader, Hardie &amp; Lee (2005) as a standalone SVG document: cumulative repeat transactions
/// by week, actual against BG/NBD and Pareto/NBD, with the calibration end dashed. Written by hand from the same
/// <see cref="Tracking"/> the JSON answer carries, so a browser or a report shows it without a charting library.
/// </summary>
public static class TrackingPlot
{
    public const string Namespace = "http://www.w3.org/2000/svg";

    private const int Width = 800;
    private const int Height = 480;
    private const double Left = 80;
    private const double Right = Width - 24;
    private const double Top = 56;
    private const double Bottom = Height - 64;

    /// <summary>The series, in drawing order: class name, legend label, colour, dash pattern.</summary>
    private static readonly (string Class, string Label, string Colour, string? Dash)[] Series =
    [
        ("actual", "Actual", "#111111", null),
        ("bg-nbd", "BG/NBD", "#1f77b4", null),
        ("pareto-nbd", "Pareto/NBD", "#d62728", "8 3"),
    ];

    public static string Svg(Tracking tracking, string title)
    {
        ArgumentNullException.ThrowIfNull(tracking);
        ArgumentNullException.ThrowIfNull(title);
        var weeks = tracking.Weeks;
        var maxTime = Math.Max(weeks.Count == 0 ? 0 : weeks[^1].Time, tracking.CalibrationEndTime);
        maxTime = maxTime > 0 ? maxTime : 1;
        var largest = weeks.Count == 0 ? 0 : weeks.Max(w => Math.Max(w.Actual, Math.Max(w.BgNbd, w.ParetoNbd)));
        var yStep = NiceStep(largest > 0 ? largest / 5 : 0.2);
        var yMax = Math.Max(1, Math.Ceiling(largest / yStep)) * yStep;
        var xStep = NiceStep(maxTime / 8);

        double X(double time) => Left + ((Right - Left) * time / maxTime);
        double Y(double value) => Bottom - ((Bottom - Top) * value / yMax);

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"{Namespace}\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"  <title>{Escape(title)}</title>\n");
        svg.Append(CultureInfo.InvariantCulture, $"  <rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"  <text class=\"title\" x=\"{Width / 2}\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">{Escape(title)}</text>\n");

        svg.Append("  <g class=\"axes\" stroke=\"#333333\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"    <line x1=\"{F(Left)}\" y1=\"{F(Bottom)}\" x2=\"{F(Right)}\" y2=\"{F(Bottom)}\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"    <line x1=\"{F(Left)}\" y1=\"{F(Bottom)}\" x2=\"{F(Left)}\" y2=\"{F(Top)}\"/>\n");
        svg.Append("  </g>\n");

        svg.Append("  <g class=\"ticks\" fill=\"#333333\">\n");
        for (var k = 0; k * xStep <= maxTime + 1e-9; k++)
        {
            var tick = k * xStep;
            svg.Append(CultureInfo.InvariantCulture, $"    <line x1=\"{F(X(tick))}\" y1=\"{F(Bottom)}\" x2=\"{F(X(tick))}\" y2=\"{F(Bottom + 5)}\" stroke=\"#333333\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"    <text x=\"{F(X(tick))}\" y=\"{F(Bottom + 18)}\" text-anchor=\"middle\">{F(tick)}</text>\n");
        }

        for (var k = 0; k * yStep <= yMax + 1e-9; k++)
        {
            var tick = k * yStep;
            svg.Append(CultureInfo.InvariantCulture, $"    <line x1=\"{F(Left - 5)}\" y1=\"{F(Y(tick))}\" x2=\"{F(Left)}\" y2=\"{F(Y(tick))}\" stroke=\"#333333\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"    <text x=\"{F(Left - 8)}\" y=\"{F(Y(tick) + 4)}\" text-anchor=\"end\">{F(tick)}</text>\n");
        }

        svg.Append("  </g>\n");
        svg.Append(CultureInfo.InvariantCulture, $"  <text x=\"{F((Left + Right) / 2)}\" y=\"{Height - 20}\" text-anchor=\"middle\">Weeks since the cohort's first purchase day</text>\n");
        svg.Append(CultureInfo.InvariantCulture,
            $"  <text x=\"20\" y=\"{F((Top + Bottom) / 2)}\" text-anchor=\"middle\" transform=\"rotate(-90 20 {F((Top + Bottom) / 2)})\">Cumulative repeat transactions</text>\n");

        var calibrationX = F(X(tracking.CalibrationEndTime));
        svg.Append(CultureInfo.InvariantCulture,
            $"  <line class=\"calibration-end\" x1=\"{calibrationX}\" y1=\"{F(Bottom)}\" x2=\"{calibrationX}\" y2=\"{F(Top)}\" stroke=\"#888888\" stroke-dasharray=\"6 4\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"  <text x=\"{calibrationX}\" y=\"{F(Top - 6)}\" text-anchor=\"middle\" fill=\"#555555\">calibration end</text>\n");

        var values = new Func<TrackingWeek, double>[] { w => w.Actual, w => w.BgNbd, w => w.ParetoNbd };
        for (var s = 0; s < Series.Length; s++)
        {
            // Every curve starts at (0, 0): nobody has bought again before the cohort's first purchase day.
            var points = string.Join(' ', weeks.Select(w => $"{F(X(w.Time))},{F(Y(values[s](w)))}").Prepend($"{F(X(0))},{F(Y(0))}"));
            svg.Append(CultureInfo.InvariantCulture,
                $"  <polyline class=\"{Series[s].Class}\" fill=\"none\" stroke=\"{Series[s].Colour}\" stroke-width=\"2\"{Dash(Series[s].Dash)} points=\"{points}\"/>\n");
        }

        svg.Append("  <g class=\"legend\">\n");
        for (var s = 0; s < Series.Length; s++)
        {
            var y = Top + 12 + (s * 18);
            svg.Append(CultureInfo.InvariantCulture,
                $"    <line x1=\"{F(Left + 16)}\" y1=\"{F(y)}\" x2=\"{F(Left + 44)}\" y2=\"{F(y)}\" stroke=\"{Series[s].Colour}\" stroke-width=\"2\"{Dash(Series[s].Dash)}/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"    <text x=\"{F(Left + 50)}\" y=\"{F(y + 4)}\">{Series[s].Label}</text>\n");
        }

        svg.Append("  </g>\n</svg>\n");
        return svg.ToString();
    }

    /// <summary>1, 2 or 5 times a power of ten, the smallest not below <paramref name="rough"/>: tick steps a reader can add up.</summary>
    internal static double NiceStep(double rough)
    {
        var power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var fraction = rough / power;
        return power * (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10);
    }

    private static string Dash(string? pattern) => pattern is null ? "" : $" stroke-dasharray=\"{pattern}\"";

    private static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
            .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal);
}
