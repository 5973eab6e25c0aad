using System.Globalization;
using System.Xml.Linq;
using CustomerJourney.Models.Charts;

namespace CustomerJourney.Specs.Models;

/// <summary>The one chart drawer: accessible (role, title, description), bars and lines where their values say, the same figures as a table.</summary>
public sealed class SvgChartSpecs
{
    private static readonly XNamespace Svg = SvgChart.Namespace;

    private static readonly BarChart Resolutions = new(
        "resolutions", "Cases resolved <per month>", "Resolved cases per month and category.", "Month", "Cases",
        ["2026-10", "2026-11", "2026-12"],
        [new BarSeries("Billing", [4, 0, 10]), new BarSeries("Delivery", [2, 5, 1])]);

    [Fact]
    public void A_chart_names_itself_for_screen_readers()
    {
        var document = XDocument.Parse(Resolutions.Svg());

        Assert.Equal("img", (string?)document.Root!.Attribute("role"));
        Assert.Equal("resolutions-title resolutions-desc", (string?)document.Root.Attribute("aria-labelledby"));
        Assert.Equal("Cases resolved <per month>", document.Root.Elements(Svg + "title").Single(t => (string?)t.Attribute("id") == "resolutions-title").Value);
        Assert.Equal("Resolved cases per month and category.", document.Root.Element(Svg + "desc")!.Value);
        Assert.Contains(document.Descendants(Svg + "text"), t => (string?)t.Attribute("class") == "x-label" && t.Value == "Month");
        Assert.Contains(document.Descendants(Svg + "text"), t => (string?)t.Attribute("class") == "y-label" && t.Value == "Cases");
    }

    [Fact]
    public void Bars_stand_on_the_axis_with_heights_in_proportion_to_their_values()
    {
        var document = XDocument.Parse(Resolutions.Svg());

        var bars = document.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "bars")
            .Select(g => g.Elements(Svg + "rect").Select(r => (Y: D(r, "y"), Height: D(r, "height"), X: D(r, "x"))).ToList()).ToList();

        Assert.Equal(2, bars.Count);
        Assert.All(bars, series => Assert.Equal(3, series.Count));
        var bottoms = bars.SelectMany(s => s).Select(b => Math.Round(b.Y + b.Height, 1)).Distinct();
        Assert.Single(bottoms);
        Assert.Equal(0, bars[0][1].Height);
        Assert.Equal(bars[0][0].Height * 2.5, bars[0][2].Height, 1);
        Assert.Equal(bars[1][1].Height / 5, bars[1][2].Height, 1);
        // Each group's bars sit side by side, left to right in the categories' order.
        Assert.True(bars[0][0].X < bars[1][0].X && bars[1][0].X < bars[0][1].X);
    }

    [Fact]
    public void The_data_table_holds_the_figures_the_chart_draws()
    {
        var table = Resolutions.DataTable();

        Assert.Equal(["Month", "Billing", "Delivery"], table.Header);
        Assert.Equal([["2026-10", "4", "2"], ["2026-11", "0", "5"], ["2026-12", "10", "1"]], table.Rows.Select(r => r.ToArray()).ToArray());
    }

    [Fact]
    public void Lines_run_left_to_right_through_their_points_and_markers_stand_where_their_x_falls()
    {
        var chart = new LineChart("sent", "Sent", "Offers sent by day.", "Day", "Offers",
            [new ChartSeries("Treated", [new ChartPoint(2, 5), new ChartPoint(0, 1), new ChartPoint(4, 9)], "treated"),
             new ChartSeries("Control", [new ChartPoint(0, 0), new ChartPoint(4, 2)], "control", Dashed: true)],
            [new ChartMarker(2, "launch", "launch")], XTick: day => $"day {day}");

        var document = XDocument.Parse(chart.Svg());

        var treated = Points(document.Descendants(Svg + "polyline").Single(p => (string?)p.Attribute("class") == "treated"));
        Assert.Equal(treated.OrderBy(p => p.X), treated);
        Assert.Equal(treated.OrderByDescending(p => p.Y), treated);
        Assert.NotNull(document.Descendants(Svg + "polyline").Single(p => (string?)p.Attribute("class") == "control").Attribute("stroke-dasharray"));
        var launch = document.Descendants(Svg + "line").Single(l => (string?)l.Attribute("class") == "launch");
        Assert.Equal(treated[1].X, D(launch, "x1"), 1);
        Assert.Contains(document.Descendants(Svg + "text"), t => t.Value == "day 4");

        var table = chart.DataTable();
        Assert.Equal(["Day", "Treated", "Control"], table.Header);
        Assert.Equal([["day 0", "1", "0"], ["day 2", "5", ""], ["day 4", "9", "2"]], table.Rows.Select(r => r.ToArray()).ToArray());
    }

    [Theory]
    [InlineData(0.97, 1)]
    [InlineData(1.5, 2)]
    [InlineData(3, 5)]
    [InlineData(9.75, 10)]
    [InlineData(867.8, 1000)]
    [InlineData(0.043, 0.05)]
    public void Tick_steps_are_one_two_or_five_times_a_power_of_ten(double rough, double step)
    {
        Assert.Equal(step, SvgChart.NiceStep(rough), 12);
    }

    [Fact]
    public void Nothing_to_draw_still_draws_axes()
    {
        var empty = new BarChart("none", "Nothing yet", "No cases yet.", "Month", "Cases", [], []);

        var document = XDocument.Parse(empty.Svg());

        Assert.DoesNotContain(document.Descendants(Svg + "rect"), r => r.Parent!.Attribute("class")?.Value == "bars");
        Assert.Equal(2, document.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "axes").Elements().Count());
    }

    private static double D(XElement element, string attribute) => double.Parse((string)element.Attribute(attribute)!, CultureInfo.InvariantCulture);

    private static List<(double X, double Y)> Points(XElement polyline) =>
        [.. ((string)polyline.Attribute("points")!).Split(' ').Select(p => p.Split(','))
            .Select(p => (double.Parse(p[0], CultureInfo.InvariantCulture), double.Parse(p[1], CultureInfo.InvariantCulture)))];
}
