using CustomerJourney.Complaints;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Tests.Complaints;

public sealed class ComplaintMetricsSpecs(AppFixture app)
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    private static ComplaintCase Case(string customer, double ackHours, double? resolveHours, bool apology = false, bool reopened = false, bool call = false,
        params SlaPromise[] breached)
    {
        var logged = new ComplaintLogged { ComplaintId = Guid.NewGuid().ToString("N"), CustomerId = customer, Category = "delivery", Severity = ComplaintSeverity.Low, Description = "d", OccurredAt = T0 };
        var c = ComplaintCase.Fold(null, logged)!;
        c = ComplaintCase.Fold(c, new ComplaintAcknowledged { ComplaintId = c.ComplaintId, CustomerId = customer, OccurredAt = T0.AddHours(ackHours) })!;
        if (apology)
        {
            c = ComplaintCase.Fold(c, new ApologyIssued { ComplaintId = c.ComplaintId, CustomerId = customer, By = "a", Wording = "w", OccurredAt = T0.AddHours(ackHours) })!;
        }

        if (resolveHours is { } r)
        {
            c = ComplaintCase.Fold(c, new ComplaintResolved { ComplaintId = c.ComplaintId, CustomerId = customer, RootCause = "x", Summary = "s", OccurredAt = T0.AddHours(r) })!;
            if (call)
            {
                c = ComplaintCase.Fold(c, new FollowUpCallCompleted { ComplaintId = c.ComplaintId, CustomerId = customer, Outcome = CallOutcome.Reached, OccurredAt = T0.AddHours(r + 1) })!;
            }

            if (reopened)
            {
                c = ComplaintCase.Fold(c, new ComplaintReopened { ComplaintId = c.ComplaintId, CustomerId = customer, Reason = "again", OccurredAt = T0.AddHours(r + 2) })!;
            }
        }

        return breached.Aggregate(c, (s, p) => ComplaintCase.Fold(s, new ComplaintSlaBreached(c.ComplaintId, customer, p, 0, "standard", T0, T0, TimeSpan.FromHours(1)))!);
    }

    [Fact]
    public void Durations_rates_and_csat_after_resolution_are_measured_per_category_and_month()
    {
        var cases = new[]
        {
            Case("a", 1, 10, apology: true, call: true),
            Case("b", 2, 20, reopened: true, breached: SlaPromise.Resolve),
            Case("c", 10, null, apology: true, breached: SlaPromise.Acknowledge),
        };
        var surveys = new[]
        {
            new SurveyAnswered { CustomerId = "a", Csat = 4, OccurredAt = T0.AddDays(3) },
            new SurveyAnswered { CustomerId = "b", Csat = 2, OccurredAt = T0.AddDays(2) },
            new SurveyAnswered { CustomerId = "b", Csat = 5, OccurredAt = T0.AddDays(90) },
            new SurveyAnswered { CustomerId = "a", Csat = 1, OccurredAt = T0.AddHours(-5) },
        };

        var (all, groups, _, _) = ComplaintMetrics.Measure(cases, surveys);

        Assert.Equal(("delivery", "2026-03", 3), (Assert.Single(groups).Category, groups[0].Month, groups[0].Cases));
        Assert.Equal(new DurationSummary(3, 2, 8.4), all.TimeToAcknowledge);
        Assert.Equal(new DurationSummary(2, 15, 19), all.TimeToResolve);
        Assert.Equal(new BreachRates(0.3333, 0.3333, 0), all.BreachRate);
        Assert.Equal((0.5, 0.6667, 0.5), (all.ReopenRate, all.ApologyShare, all.FollowUpShare));
        Assert.Equal(new CsatAfterResolution(2, 3), all.Csat);
    }

    [Fact]
    public void Each_category_and_each_month_is_measured_from_its_own_cases_not_from_the_finer_groups()
    {
        var april = Case("d", 3, 30) with { Category = "billing", LoggedAt = T0.AddMonths(1) };
        var cases = new[] { Case("a", 1, 10), Case("b", 2, 20), Case("c", 4, null) with { Category = "billing" }, april };

        var (_, groups, byCategory, byMonth) = ComplaintMetrics.Measure(cases, []);

        Assert.Equal(3, groups.Count);
        Assert.Equal([("billing", "*", 2), ("delivery", "*", 2)], byCategory.Select(m => (m.Category, m.Month, m.Cases)));
        Assert.Equal([("*", "2026-03", 3), ("*", "2026-04", 1)], byMonth.Select(m => (m.Category, m.Month, m.Cases)));
        // March's median time to acknowledge is that of its three cases (1, 2 and 4 hours), not an average of its groups' medians.
        Assert.Equal(2, byMonth[0].TimeToAcknowledge.MedianHours);
    }

    [Fact]
    public async Task The_metrics_endpoint_reports_the_cases_of_a_category()
    {
        var category = Ids.Unique("cat");
        var id = Ids.Unique("k");
        var v = (await app.Log(Ids.Customer(), id, category: category, occurredAt: ComplaintApi.Now.AddHours(-2))).Version();
        await app.Step(id, "acknowledge", v, at: ComplaintApi.Now.AddHours(-1));

        var report = await app.Get($"/api/complaints/metrics?category={category}", app.As("analyst"));
        var bad = await app.Get("/api/complaints/metrics?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", app.As("analyst"));

        Assert.Equal(200, report.Status);
        Assert.Equal(1, report.Body!["all"]!.Int("cases"));
        Assert.Equal(1.0, report.Body!["all"]!["timeToAcknowledge"]!["medianHours"]!.GetValue<double>(), 2);
        Assert.Equal(400, bad.Status);
    }
}
