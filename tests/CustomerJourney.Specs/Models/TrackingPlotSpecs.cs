using System.Globalization;
using System.Xml.Linq;
using CustomerJourney.Models.Evaluation;

namespace CustomerJourney.Specs.Models;

/// <summary>The SVG tracking plot: well-formed, one polyline per series through every week, the calibration end dashed.</summary>
public sealed class TrackingPlotSpecs
{
    private static readonly XNamespace Svg = TrackingPlot.Namespace;

    private static readonly CustomerJourney.Models.Evaluation.Tracking Example = new(new DateOnly(2024, 1, 1), 2.0,
    [
        new TrackingWeek(1, new DateOnly(2024, 1, 7), 1, 3, 2.5, 2.8),
        new TrackingWeek(2, new DateOnly(2024, 1, 14), 2, 7, 5.9, 6.1),
        new TrackingWeek(3, new DateOnly(2024, 1, 21), 3, 9, 9.2, 9.0),
        new TrackingWeek(4, new DateOnly(2024, 1, 24), 24 / 7.0, 12, 10.4, 10.0),
    ]);

    [Fact]
    public void The_plot_is_an_svg_document_with_a_polyline_per_series_through_every_week()
    {
        var document = XDocument.Parse(TrackingPlot.Svg(Example, "Tracking <test> & co"));

        Assert.Equal(Svg + "svg", document.Root!.Name);
        var lines = document.Descendants(Svg + "polyline").ToList();
        Assert.Equal(["actual", "bg-nbd", "pareto-nbd"], lines.Select(l => (string?)l.Attribute("class")));
        foreach (var line in lines)
        {
            var points = Points(line);
            Assert.Equal(Example.Weeks.Count + 1, points.Count);
            Assert.All(points, p => Assert.True(p.X is >= 0 and <= 800 && p.Y is >= 0 and <= 480, $"{p} is outside the picture"));

            // Time runs to the right and cumulative counts rise, so y (downwards in SVG) never grows.
            Assert.Equal(points.OrderBy(p => p.X), points);
            Assert.Equal(points.OrderByDescending(p => p.Y), points);
        }

        Assert.Equal("Tracking <test> & co", document.Root.Element(Svg + "title")!.Value);
        Assert.Contains(document.Descendants(Svg + "text"), t => t.Value == "Tracking <test> & co");
        Assert.Equal(["Actual", "BG/NBD", "Pareto/NBD"], document.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "legend").Elements(Svg + "text").Select(t => t.Value));
    }

    [Fact]
    public void The_calibration_end_is_a_dashed_vertical_line_where_its_week_falls()
    {
        var document = XDocument.Parse(TrackingPlot.Svg(Example, "t"));
        var actual = Points(document.Descendants(Svg + "polyline").First());

        var line = document.Descendants(Svg + "line").Single(l => (string?)l.Attribute("class") == "calibration-end");

        Assert.NotNull(line.Attribute("stroke-dasharray"));
        Assert.Equal((double)line.Attribute("x1")!, (double)line.Attribute("x2")!);
        Assert.Equal(actual[2].X, (double)line.Attribute("x1")!, 0.01);
    }

    [Fact]
    public void The_axes_have_labelled_ticks_at_round_steps()
    {
        var document = XDocument.Parse(TrackingPlot.Svg(Example, "t"));

        var labels = document.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "ticks").Elements(Svg + "text").Select(t => t.Value).ToList();

        // 24/7 weeks by steps of 0.5; up to 12 transactions by steps of 5, the axis rounded up to 15.
        Assert.Equal(["0", "0.5", "1", "1.5", "2", "2.5", "3", "0", "5", "10", "15"], labels);
    }

    [Fact]
    public void An_empty_cohort_curve_still_draws()
    {
        var flat = new CustomerJourney.Models.Evaluation.Tracking(new DateOnly(2024, 1, 1), 1.0, [new TrackingWeek(1, new DateOnly(2024, 1, 7), 1, 0, 0, 0)]);

        var document = XDocument.Parse(TrackingPlot.Svg(flat, "nothing yet"));

        Assert.Equal(3, document.Descendants(Svg + "polyline").Count());
    }

    private static List<(double X, double Y)> Points(XElement polyline) =>
        [.. ((string)polyline.Attribute("points")!).Split(' ').Select(p => p.Split(','))
            .Select(p => (double.Parse(p[0], CultureInfo.InvariantCulture), double.Parse(p[1], CultureInfo.InvariantCulture)))];
}
