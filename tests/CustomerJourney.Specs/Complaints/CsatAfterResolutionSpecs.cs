using CustomerJourney.Complaints;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Specs.Complaints;

/// <summary>
/// Given a resolved case and its customer's surveys, listed in the order the store happens to return them (record order,
/// so a survey backfilled later comes last), which CSAT answer counts for the case? The earliest by business time in the
/// 30 days after the first resolution, whatever the listing order.
/// </summary>
public sealed class CsatAfterResolutionSpecs
{
    private const string Customer = "c";
    private static readonly DateTimeOffset ResolvedAt = new(2026, 3, 5, 9, 0, 0, TimeSpan.Zero);

    private static readonly ComplaintCase Resolved = Spec.Complaint.Given(
        new ComplaintLogged { ComplaintId = "k-1", Category = "delivery", Severity = ComplaintSeverity.Medium, Description = "d" }.As(Customer, ResolvedAt.AddDays(-3)),
        new ComplaintResolved { ComplaintId = "k-1", RootCause = "carrier", Summary = "resent" }.As(Customer, ResolvedAt))!;

    /// <summary>"4@2.5#a": CSAT 4 (or "-" for a survey that answered only NPS), 2.5 days after the resolution, source id "a".</summary>
    private static SurveyAnswered Survey(string survey)
    {
        var (answer, rest) = (survey.Split('@')[0], survey.Split('@')[1].Split('#'));
        return new SurveyAnswered { Csat = answer == "-" ? null : int.Parse(answer, System.Globalization.CultureInfo.InvariantCulture), Nps = 7 }
            .As(Customer, ResolvedAt.AddDays(double.Parse(rest[0], System.Globalization.CultureInfo.InvariantCulture)), sourceId: rest.Length > 1 ? rest[1] : survey);
    }

    /// <summary>Surveys in listing order, then the CSAT that counts (null: none does).</summary>
    public static TheoryData<string[], int?> Listings => new()
    {
        { ["2@9", "5@1"], 5 },
        { ["1@20", "3@10", "4@2"], 4 },
        { ["4@2", "3@10", "1@20"], 4 },
        { ["1@-1", "4@3"], 4 },
        { ["1@31"], null },
        { ["-@1", "3@2"], 3 },
        { ["2@1#b", "5@1#a"], 5 },
        { ["5@1#a", "2@1#b"], 5 },
    };

    [Theory]
    [MemberData(nameof(Listings))]
    public void The_earliest_csat_answer_after_resolution_counts_whatever_the_listing_order(string[] listed, int? counted)
    {
        var csat = ComplaintMetrics.Measure([Resolved], [.. listed.Select(Survey)]).All.Csat;

        Assert.Equal(new CsatAfterResolution(counted is null ? 0 : 1, counted), csat);
    }
}
