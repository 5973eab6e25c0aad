using System.Globalization;
using System.Text;

namespace CustomerJourney.Models.Charts;

/// <summary>A point of a line series, in the chart's own units (weeks, days since a start, counts, money).</summary>
public readonly record struct ChartPoint(double X, double Y);

/// <summary>One line of a <see cref="LineChart"/>; the class name lets a test or a stylesheet find it.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<ChartPoint> Points, string? CssClass = null, bool Dashed = false);

/// <summary>A dashed vertical line across the plot with a label on top: a calibration end, a launch, an offer's expiry.</summary>
public sealed record ChartMarker(double X, string Label, string? CssClass = null);

/// <summary>One group of bars of a <see cref="BarChart"/>: a value per category, in the categories' order.</summary>
public sealed record BarSeries(string Name, IReadOnlyList<double> Values);

/// <summary>
/// A chart drawn on the server as SVG. Every chart carries its title, a description that is its text alternative, and axis
/// labels; <see cref="DataTable"/> gives the same figures as a table for people who cannot see the picture.
/// </summary>
public abstract record Chart(string Id, string Title, string Description, string XAxisLabel, string YAxisLabel)
{
    /// <summary>The standalone SVG document (it also reads well inline in HTML).</summary>
    public abstract string Svg();

    /// <summary>The figures the chart draws: a header row and one row per x value or category.</summary>
    public abstract ChartTable DataTable();
}

/// <summary>The figures behind a chart, as text: the header names the columns.</summary>
public sealed record ChartTable(IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows);

/// <summary>Lines over a continuous x axis, with optional vertical markers; <paramref name="XTick"/> and <paramref name="YTick"/> format tick labels (a date, money).</summary>
public sealed record LineChart(
    string Id,
    string Title,
    string Description,
    string XAxisLabel,
    string YAxisLabel,
    IReadOnlyList<ChartSeries> Series,
    IReadOnlyList<ChartMarker>? Markers = null,
    Func<double, string>? XTick = null,
    Func<double, string>? YTick = null) : Chart(Id, Title, Description, XAxisLabel, YAxisLabel)
{
    public override string Svg() => SvgChart.Draw(this);

    public override ChartTable DataTable()
    {
        var xs = Series.SelectMany(s => s.Points).Select(p => p.X).Distinct().Order().ToList();
        var format = XTick ?? SvgChart.Number;
        var values = YTick ?? SvgChart.Number;
        var rows = xs.Select(x => (IReadOnlyList<string>)
            [format(x), .. Series.Select(s => s.Points.Where(p => p.X == x).Select(p => values(p.Y)).LastOrDefault() ?? "")]).ToList();
        return new ChartTable([XAxisLabel, .. Series.Select(s => s.Name)], rows);
    }
}

/// <summary>Grouped bars: one group per category, one bar per series.</summary>
public sealed record BarChart(
    string Id,
    string Title,
    string Description,
    string XAxisLabel,
    string YAxisLabel,
    IReadOnlyList<string> Categories,
    IReadOnlyList<BarSeries> Series,
    Func<double, string>? YTick = null) : Chart(Id, Title, Description, XAxisLabel, YAxisLabel)
{
    public override string Svg() => SvgChart.Draw(this);

    public override ChartTable DataTable()
    {
        var values = YTick ?? SvgChart.Number;
        var rows = Categories.Select((category, i) => (IReadOnlyList<string>)
            [category, .. Series.Select(s => i < s.Values.Count ? values(s.Values[i]) : "")]).ToList();
        return new ChartTable([XAxisLabel, .. Series.Select(s => s.Name)], rows);
    }
}

/// <summary>
/// The one place charts are drawn (the churn tracking plot, the console's charts): axes with round ticks, labels, a legend,
/// a title and a description for screen readers. Hand-written because a chart is a few dozen SVG elements and a charting
/// library would need script in the browser, which the console's Content-Security-Policy forbids.
/// </summary>
public static class SvgChart
{
    public const string Namespace = "http://www.w3.org/2000/svg";

    private const int Width = 800;
    private const int Height = 480;
    private const double Left = 80;
    private const double Right = Width - 24;
    private const double Top = 56;
    private const double Bottom = Height - 64;

    /// <summary>Okabe and Ito's palette: told apart by people with any common colour-vision deficiency.</summary>
    private static readonly string[] Palette = ["#111111", "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"];

    public static string Draw(LineChart chart)
    {
        ArgumentNullException.ThrowIfNull(chart);
        var points = chart.Series.SelectMany(s => s.Points).ToList();
        var markers = chart.Markers ?? [];
        var xs = points.Select(p => p.X).Concat(markers.Select(m => m.X)).ToList();
        var xMin = xs.Count == 0 ? 0 : xs.Min();
        var xMax = xs.Count == 0 ? 1 : xs.Max();
        if (xMax <= xMin)
        {
            xMax = xMin + 1;
        }

        var (yMin, yMax, yStep) = ValueAxis(points.Select(p => p.Y));
        var xStep = NiceStep((xMax - xMin) / 8);

        double X(double x) => Left + ((Right - Left) * (x - xMin) / (xMax - xMin));
        double Y(double y) => Bottom - ((Bottom - Top) * (y - yMin) / (yMax - yMin));

        var svg = Open(chart);
        svg.Append("  <g class=\"ticks\" fill=\"#333333\">\n");
        var xTick = chart.XTick ?? Number;
        for (var tick = Math.Ceiling((xMin / xStep) - 1e-9) * xStep; tick <= xMax + 1e-9; tick += xStep)
        {
            svg.Append(CultureInfo.InvariantCulture, $"    <line x1=\"{F(X(tick))}\" y1=\"{F(Bottom)}\" x2=\"{F(X(tick))}\" y2=\"{F(Bottom + 5)}\" stroke=\"#333333\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"    <text x=\"{F(X(tick))}\" y=\"{F(Bottom + 18)}\" text-anchor=\"middle\">{Escape(xTick(Clean(tick)))}</text>\n");
        }

        ValueTicks(svg, chart.YTick ?? Number, yMin, yMax, yStep, Y);
        svg.Append("  </g>\n");
        AxisLabels(svg, chart);

        foreach (var marker in markers)
        {
            var x = F(X(marker.X));
            svg.Append(CultureInfo.InvariantCulture,
                $"  <line class=\"{Escape(marker.CssClass ?? "marker")}\" x1=\"{x}\" y1=\"{F(Bottom)}\" x2=\"{x}\" y2=\"{F(Top)}\" stroke=\"#666666\" stroke-dasharray=\"6 4\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"  <text x=\"{x}\" y=\"{F(Top - 6)}\" text-anchor=\"middle\" fill=\"#444444\">{Escape(marker.Label)}</text>\n");
        }

        for (var s = 0; s < chart.Series.Count; s++)
        {
            var series = chart.Series[s];
            var line = string.Join(' ', series.Points.OrderBy(p => p.X).Select(p => $"{F(X(p.X))},{F(Y(p.Y))}"));
            svg.Append(CultureInfo.InvariantCulture,
                $"  <polyline{Class(series.CssClass)} fill=\"none\" stroke=\"{Colour(s)}\" stroke-width=\"2\"{Dash(series.Dashed)} points=\"{line}\"/>\n");
        }

        Legend(svg, chart.Series.Select(s => (s.Name, s.Dashed)).ToList(), bars: false);
        return Close(svg);
    }

    public static string Draw(BarChart chart)
    {
        ArgumentNullException.ThrowIfNull(chart);
        var (yMin, yMax, yStep) = ValueAxis(chart.Series.SelectMany(s => s.Values));
        double Y(double y) => Bottom - ((Bottom - Top) * (y - yMin) / (yMax - yMin));

        var groups = Math.Max(1, chart.Categories.Count);
        var groupWidth = (Right - Left) / groups;
        var barWidth = groupWidth * 0.8 / Math.Max(1, chart.Series.Count);

        var svg = Open(chart);
        svg.Append("  <g class=\"ticks\" fill=\"#333333\">\n");
        // Long category lists (months over years) would overlap: label every n-th so at most about 16 show.
        var every = (int)Math.Ceiling(chart.Categories.Count / 16.0);
        for (var c = 0; c < chart.Categories.Count; c++)
        {
            if (c % Math.Max(1, every) == 0)
            {
                svg.Append(CultureInfo.InvariantCulture,
                    $"    <text x=\"{F(Left + (groupWidth * (c + 0.5)))}\" y=\"{F(Bottom + 18)}\" text-anchor=\"middle\">{Escape(chart.Categories[c])}</text>\n");
            }
        }

        var yTick = chart.YTick ?? Number;
        ValueTicks(svg, yTick, yMin, yMax, yStep, Y);
        svg.Append("  </g>\n");
        AxisLabels(svg, chart);

        for (var s = 0; s < chart.Series.Count; s++)
        {
            var series = chart.Series[s];
            svg.Append(CultureInfo.InvariantCulture, $"  <g class=\"bars\" fill=\"{Colour(s)}\">\n");
            for (var c = 0; c < chart.Categories.Count && c < series.Values.Count; c++)
            {
                var value = series.Values[c];
                var x = Left + (groupWidth * c) + (groupWidth * 0.1) + (barWidth * s);
                var top = Y(Math.Max(value, 0));
                var height = Math.Abs(Y(value) - Y(0));
                svg.Append(CultureInfo.InvariantCulture,
                    $"    <rect x=\"{F(x)}\" y=\"{F(top)}\" width=\"{F(barWidth)}\" height=\"{F(height)}\"><title>{Escape($"{series.Name}, {chart.Categories[c]}: {yTick(value)}")}</title></rect>\n");
            }

            svg.Append("  </g>\n");
        }

        Legend(svg, chart.Series.Select(s => (s.Name, false)).ToList(), bars: true);
        return Close(svg);
    }

    /// <summary>1, 2 or 5 times a power of ten, the smallest not below <paramref name="rough"/>: tick steps a reader can add up.</summary>
    public static double NiceStep(double rough)
    {
        if (!(rough > 0) || double.IsInfinity(rough))
        {
            return 1;
        }

        var power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var fraction = rough / power;
        return power * (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10);
    }

    /// <summary>A number as a tick or a table shows it: at most two decimals, invariant culture.</summary>
    public static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>The value axis: from zero (or the lowest value when negative) to a round step above the largest, about five ticks.</summary>
    private static (double Min, double Max, double Step) ValueAxis(IEnumerable<double> values)
    {
        var list = values.Where(double.IsFinite).ToList();
        var largest = list.Count == 0 ? 0 : Math.Max(0, list.Max());
        var lowest = list.Count == 0 ? 0 : Math.Min(0, list.Min());
        var step = NiceStep(largest - lowest > 0 ? (largest - lowest) / 5 : 0.2);
        var max = Math.Max(1, Math.Ceiling(largest / step)) * step;
        var min = Math.Floor(lowest / step) * step;
        return (min, max, step);
    }

    private static void ValueTicks(StringBuilder svg, Func<double, string> format, double min, double max, double step, Func<double, double> y)
    {
        for (var tick = min; tick <= max + 1e-9; tick += step)
        {
            svg.Append(CultureInfo.InvariantCulture, $"    <line x1=\"{F(Left - 5)}\" y1=\"{F(y(tick))}\" x2=\"{F(Left)}\" y2=\"{F(y(tick))}\" stroke=\"#333333\"/>\n");
            svg.Append(CultureInfo.InvariantCulture, $"    <text x=\"{F(Left - 8)}\" y=\"{F(y(tick) + 4)}\" text-anchor=\"end\">{Escape(format(Clean(tick)))}</text>\n");
        }
    }

    private static StringBuilder Open(Chart chart)
    {
        var id = Escape(chart.Id);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"{Namespace}\" id=\"{id}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"  <title id=\"{id}-title\">{Escape(chart.Title)}</title>\n");
        svg.Append(CultureInfo.InvariantCulture, $"  <desc id=\"{id}-desc\">{Escape(chart.Description)}</desc>\n");
        svg.Append(CultureInfo.InvariantCulture, $"  <rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"  <text class=\"title\" x=\"{Width / 2}\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">{Escape(chart.Title)}</text>\n");
        svg.Append("  <g class=\"axes\" stroke=\"#333333\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"    <line x1=\"{F(Left)}\" y1=\"{F(Bottom)}\" x2=\"{F(Right)}\" y2=\"{F(Bottom)}\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"    <line x1=\"{F(Left)}\" y1=\"{F(Bottom)}\" x2=\"{F(Left)}\" y2=\"{F(Top)}\"/>\n");
        svg.Append("  </g>\n");
        return svg;
    }

    private static void AxisLabels(StringBuilder svg, Chart chart)
    {
        svg.Append(CultureInfo.InvariantCulture, $"  <text class=\"x-label\" x=\"{F((Left + Right) / 2)}\" y=\"{Height - 20}\" text-anchor=\"middle\">{Escape(chart.XAxisLabel)}</text>\n");
        svg.Append(CultureInfo.InvariantCulture,
            $"  <text class=\"y-label\" x=\"20\" y=\"{F((Top + Bottom) / 2)}\" text-anchor=\"middle\" transform=\"rotate(-90 20 {F((Top + Bottom) / 2)})\">{Escape(chart.YAxisLabel)}</text>\n");
    }

    private static void Legend(StringBuilder svg, IReadOnlyList<(string Name, bool Dashed)> series, bool bars)
    {
        svg.Append("  <g class=\"legend\">\n");
        for (var s = 0; s < series.Count; s++)
        {
            var y = Top + 12 + (s * 18);
            if (bars)
            {
                svg.Append(CultureInfo.InvariantCulture, $"    <rect x=\"{F(Left + 16)}\" y=\"{F(y - 6)}\" width=\"28\" height=\"12\" fill=\"{Colour(s)}\"/>\n");
            }
            else
            {
                svg.Append(CultureInfo.InvariantCulture, $"    <line x1=\"{F(Left + 16)}\" y1=\"{F(y)}\" x2=\"{F(Left + 44)}\" y2=\"{F(y)}\" stroke=\"{Colour(s)}\" stroke-width=\"2\"{Dash(series[s].Dashed)}/>\n");
            }

            svg.Append(CultureInfo.InvariantCulture, $"    <text x=\"{F(Left + 50)}\" y=\"{F(y + 4)}\">{Escape(series[s].Name)}</text>\n");
        }

        svg.Append("  </g>\n");
    }

    private static string Close(StringBuilder svg) => svg.Append("</svg>\n").ToString();

    private static string Colour(int series) => Palette[series % Palette.Length];

    private static string Class(string? name) => name is null ? "" : $" class=\"{Escape(name)}\"";

    private static string Dash(bool dashed) => dashed ? " stroke-dasharray=\"8 3\"" : "";

    /// <summary>Ticks are sums of steps: round away the float error so 0.30000000000000004 reads 0.3, and -0 reads 0.</summary>
    private static double Clean(double tick) => Math.Round(tick, 10) is var clean && clean == 0 ? 0 : clean;

    private static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
            .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal);
}
