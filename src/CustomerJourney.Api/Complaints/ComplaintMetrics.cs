using System.Globalization;
using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace CustomerJourney.Complaints;

public sealed record DurationSummary(int Count, double? MedianHours, double? P90Hours);

public sealed record BreachRates(double? Acknowledge, double? Resolve, double? FollowUp);

public sealed record CsatAfterResolution(int Answers, double? Mean);

public sealed record ResolutionMetrics(
    string Category,
    string Month,
    int Cases,
    DurationSummary TimeToAcknowledge,
    DurationSummary TimeToResolve,
    BreachRates BreachRate,
    double? ReopenRate,
    double? ApologyShare,
    double? FollowUpShare,
    CsatAfterResolution Csat);

/// <summary>
/// The metrics of every case, of each category (all months, <c>Month</c> "*"), of each month of logging (all categories,
/// <c>Category</c> "*"), and of each category in each month: each figure measured from its own cases, never averaged
/// from the finer groups, so a median stays a median.
/// </summary>
public sealed record ResolutionMetricsReport(
    DateTimeOffset? From,
    DateTimeOffset? To,
    string? Category,
    ResolutionMetrics All,
    IReadOnlyList<ResolutionMetrics> ByCategoryAndMonth,
    IReadOnlyList<ResolutionMetrics> ByCategory,
    IReadOnlyList<ResolutionMetrics> ByMonth);

/// <summary>
/// How well complaints are handled, per category and per month of logging. The durations come from the case
/// projection (<see cref="ComplaintCase"/>); percentiles are computed here, at query time, from those durations.
/// </summary>
public static class ComplaintMetrics
{
    /// <summary>Surveys answered within this long after a case's first resolution count towards its CSAT.</summary>
    public static readonly TimeSpan CsatWindow = TimeSpan.FromDays(30);

    [WolverineGet("/api/complaints/metrics")]
    [Authorize(Policy = Policies.ComplaintMetrics)]
    public static async Task<IResult> Get(HttpRequest request, IQuerySession session, CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var from = query.Instant("from");
        var to = query.Instant("to");
        var category = query.Text("category");
        if (from is not null && to is not null && to <= from)
        {
            query.Errors.Add("to", "must be after from.");
        }

        if (query.Errors.Any)
        {
            return Results.ValidationProblem(query.Errors.ToDictionary(), title: "Invalid request", detail: "See errors for each parameter.");
        }

        IQueryable<ComplaintCase> cases = session.Query<ComplaintCase>();
        if (from is { } f)
        {
            cases = cases.Where(c => c.LoggedAt >= f);
        }

        if (to is { } t)
        {
            cases = cases.Where(c => c.LoggedAt < t);
        }

        if (category is not null)
        {
            cases = cases.Where(c => c.Category == category);
        }

        var loaded = await cases.ToListAsync(cancellation);
        var customers = loaded.Select(c => c.CustomerId).Distinct(StringComparer.Ordinal).ToArray();
        var surveys = customers.Length == 0
            ? []
            : await session.Events.QueryRawEventDataOnly<SurveyAnswered>().Where(s => s.CustomerId.IsOneOf(customers) && s.Csat != null).ToListAsync(cancellation);
        var report = Measure(loaded, surveys);
        return Results.Ok(new ResolutionMetricsReport(from, to, category, report.All, report.Groups, report.ByCategory, report.ByMonth));
    }

    /// <summary>Pure: the metrics of these cases, given the customers' survey answers.</summary>
    public static (ResolutionMetrics All, IReadOnlyList<ResolutionMetrics> Groups, IReadOnlyList<ResolutionMetrics> ByCategory, IReadOnlyList<ResolutionMetrics> ByMonth)
        Measure(IReadOnlyList<ComplaintCase> cases, IReadOnlyList<SurveyAnswered> surveys)
    {
        var byCustomer = surveys.ToLookup(s => s.CustomerId, StringComparer.Ordinal);
        IReadOnlyList<ResolutionMetrics> By(Func<ComplaintCase, (string Category, string Month)> key) => cases.GroupBy(key)
            .OrderBy(g => g.Key.Category, StringComparer.Ordinal).ThenBy(g => g.Key.Month, StringComparer.Ordinal)
            .Select(g => Of(g.Key.Category, g.Key.Month, g.ToList(), byCustomer))
            .ToList();
        return (Of("*", "*", cases, byCustomer), By(c => (c.Category, MonthOf(c))), By(c => (c.Category, "*")), By(c => ("*", MonthOf(c))));
    }

    /// <summary>The month a case counts in: the UTC month it was logged, "yyyy-MM".</summary>
    public static string MonthOf(ComplaintCase c) => c.LoggedAt.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    private static ResolutionMetrics Of(string category, string month, IReadOnlyList<ComplaintCase> cases, ILookup<string, SurveyAnswered> surveys)
    {
        var resolved = cases.Where(c => c.Cycles.Count > 0 && c.Cycles[0].ResolvedAt is not null).ToList();
        double? Share(IReadOnlyCollection<ComplaintCase> of, Func<ComplaintCase, bool> which) => of.Count == 0 ? null : Math.Round((double)of.Count(which) / of.Count, 4);
        bool Breached(ComplaintCase c, SlaPromise promise) => c.Breaches.Any(b => b.Promise == promise);

        var answers = resolved.Select(c => CsatCountedFor(c, surveys[c.CustomerId])).OfType<int>().Select(csat => (double)csat).ToList();
        return new ResolutionMetrics(
            category,
            month,
            cases.Count,
            Durations(cases.Where(c => c.AcknowledgedAt is not null).Select(c => c.AcknowledgedAt!.Value - c.LoggedAt)),
            Durations(resolved.Select(c => c.Cycles[0].ResolvedAt!.Value - c.LoggedAt)),
            new BreachRates(Share(cases, c => Breached(c, SlaPromise.Acknowledge)), Share(cases, c => Breached(c, SlaPromise.Resolve)),
                Share(resolved, c => Breached(c, SlaPromise.FollowUp))),
            Share(resolved, c => c.Reopened > 0),
            Share(cases, c => c.Apologies > 0),
            Share(resolved, c => c.FollowUpCalls > 0),
            new CsatAfterResolution(answers.Count, answers.Count == 0 ? null : Math.Round(answers.Average(), 2)));
    }

    /// <summary>
    /// The CSAT answer that counts for a case: of the customer's surveys with a CSAT answered within <see cref="CsatWindow"/>
    /// of the case's first resolution, the earliest by business time (at one instant, the lower source and source id).
    /// Surveys arrive in record order, and one backfilled later can be earlier in business time, so the order they are
    /// listed in decides nothing. Null when the case is not resolved or no survey answered in the window.
    /// </summary>
    public static int? CsatCountedFor(ComplaintCase complaint, IEnumerable<SurveyAnswered> customerSurveys)
    {
        if (complaint.Cycles is not [{ ResolvedAt: { } resolvedAt }, ..])
        {
            return null;
        }

        return customerSurveys
            .Where(s => s.Csat is not null && s.OccurredAt >= resolvedAt && s.OccurredAt <= resolvedAt + CsatWindow)
            .OrderBy(s => s.OccurredAt).ThenBy(s => s.Source, StringComparer.Ordinal).ThenBy(s => s.SourceId, StringComparer.Ordinal)
            .FirstOrDefault()?.Csat;
    }

    private static DurationSummary Durations(IEnumerable<TimeSpan> durations)
    {
        var hours = durations.Select(d => d.TotalHours).Order().ToList();
        return new DurationSummary(hours.Count, Percentile(hours, 0.5), Percentile(hours, 0.9));
    }

    /// <summary>Linear interpolation between closest ranks (Hyndman and Fan's type 7, as spreadsheets compute it).</summary>
    public static double? Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0)
        {
            return null;
        }

        var rank = p * (sorted.Count - 1);
        var low = (int)Math.Floor(rank);
        var high = Math.Min(low + 1, sorted.Count - 1);
        return Math.Round(sorted[low] + (rank - low) * (sorted[high] - sorted[low]), 2);
    }
}
