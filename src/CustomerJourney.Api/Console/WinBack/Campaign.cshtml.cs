using System.Globalization;
using CustomerJourney.Access;
using CustomerJourney.Models.Charts;
using CustomerJourney.WinBack;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace CustomerJourney.WebConsole.WinBack;

/// <summary>
/// One campaign as GET /api/winback/campaigns/{id} answers it: the plan, and once launched treated against control
/// (sent, suppressed with reasons, redeemed, reactivated, revenue per currency), the uplift with its interval, and its
/// daily series drawn over the offer window.
/// </summary>
[Authorize(Policy = Policies.ReadWinBack)]
public sealed class CampaignPage(IQuerySession session, IOptions<WinBackOptions> options) : PageModel
{
    [FromRoute]
    public string Id { get; set; } = "";

    public CampaignView? View { get; private set; }

    public ProblemDetails? Problem { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellation)
    {
        var answer = await ApiCalls.Answer<CampaignView>(WinBackCampaignEndpoints.Get(Id, ApiCalls.Query(HttpContext), session, options, cancellation));
        (View, Problem) = (answer.Value, answer.Problem);
        if (Problem is not null)
        {
            Response.StatusCode = Problem.Status ?? StatusCodes.Status400BadRequest;
        }
    }

    /// <summary>Reactivations and redemptions so far, as a share of each group, day by day over the offer window.</summary>
    public static LineChart Rates(WinBackCampaign campaign, CampaignOutcome outcome)
    {
        double Rate(int hits, int assigned) => assigned == 0 ? 0 : Math.Round(100.0 * hits / assigned, 2);
        var days = outcome.Days;
        var from = days.Count > 0 ? days[0].From : campaign.AudienceAt ?? campaign.LaunchAt;
        return new LineChart("winback-rates", "Came back so far, per group",
            $"Share of each group that made a purchase (reactivated) and, for the treated, that used their code (redeemed), cumulative by day over the {days.Count}-day offer window from {Day(from)}. " +
            $"At the end: treated {Rate(outcome.Treatment.Reactivated, outcome.Treatment.Assigned)}% reactivated, control {Rate(outcome.Control.Reactivated, outcome.Control.Assigned)}%.",
            "Day of the offer window", "Share of the group (%)",
            [
                new ChartSeries("Treated, reactivated", [.. days.Select(d => new ChartPoint(d.Day, Rate(d.TreatmentToDate.Reactivated, outcome.Treatment.Assigned)))], "treatment"),
                new ChartSeries("Control, reactivated", [.. days.Select(d => new ChartPoint(d.Day, Rate(d.ControlToDate.Reactivated, outcome.Control.Assigned)))], "control"),
                new ChartSeries("Treated, redeemed", [.. days.Select(d => new ChartPoint(d.Day, Rate(d.TreatmentToDate.Redeemed, outcome.Treatment.Assigned)))], "redeemed", Dashed: true),
            ],
            XTick: x => Day(from.AddDays(x)));
    }

    /// <summary>Revenue so far of each group's reactivated people, per currency, day by day.</summary>
    public static LineChart Revenue(CampaignOutcome outcome)
    {
        var days = outcome.Days;
        var from = days.Count > 0 ? days[0].From : DateTimeOffset.MinValue;
        var currencies = outcome.Treatment.Revenue.Keys.Union(outcome.Control.Revenue.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var series = currencies.SelectMany(currency => new[]
        {
            new ChartSeries($"Treated, {currency}", [.. days.Select(d => new ChartPoint(d.Day, (double)d.TreatmentToDate.Revenue.GetValueOrDefault(currency)))], "treatment"),
            new ChartSeries($"Control, {currency}", [.. days.Select(d => new ChartPoint(d.Day, (double)d.ControlToDate.Revenue.GetValueOrDefault(currency))), ], "control", Dashed: true),
        }).ToList();
        return new LineChart("winback-revenue", "Revenue so far, per group and currency",
            "Cumulative revenue of the people who came back (their purchases in the offer window), per group and currency, by day. At the end: " +
            string.Join("; ", currencies.Select(c => $"{c} treated {outcome.Treatment.Revenue.GetValueOrDefault(c).ToString("0.00", CultureInfo.InvariantCulture)}, control {outcome.Control.Revenue.GetValueOrDefault(c).ToString("0.00", CultureInfo.InvariantCulture)}")) + ".",
            "Day of the offer window", "Revenue", series, XTick: x => Day(from.AddDays(x)));
    }

    /// <summary>An offer as marketing says it: "20% off, valid 30 days".</summary>
    public static string Describe(WinBackOffer offer) => offer.Kind switch
    {
        OfferKind.DiscountPercent => $"{offer.Value.ToString("0.##", CultureInfo.InvariantCulture)}% off",
        OfferKind.FreeShipping => "free shipping",
        OfferKind.GoodwillCredit => $"{offer.Value.ToString("0.00", CultureInfo.InvariantCulture)} {offer.Currency} credit",
        _ => $"{offer.Value.ToString("0.00", CultureInfo.InvariantCulture)} {offer.Currency} off",
    } + $", valid {offer.ValidDays} days";

    private static string Day(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
