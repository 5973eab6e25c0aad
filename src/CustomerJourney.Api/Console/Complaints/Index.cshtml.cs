using System.Globalization;
using CustomerJourney.Access;
using CustomerJourney.Complaints;
using CustomerJourney.Identity;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CustomerJourney.WebConsole.Complaints;

/// <summary>Cases shown as a list: whose they are, how many there are in all, and the page of them shown.</summary>
public sealed record CaseList(string Heading, int Total, int Page, int PageSize, IReadOnlyList<ComplaintCase> Cases);

/// <summary>
/// Complaints: find a case by id, a customer's or a person's (profile's) cases; for supervisors and auditors the filtered
/// case list (GET /api/complaints) and the resolution metrics as charts (GET /api/complaints/metrics, loaded in the background).
/// </summary>
[Authorize(Policy = Policies.ReadComplaints)]
public sealed class ComplaintsPage(IAuthorizationService authorization, IQuerySession session) : PageModel
{
    public const int ListPageSize = 25;

    [BindProperty(SupportsGet = true)]
    public string? ComplaintId { get; set; }

    /// <summary>A customer id or a profile id ("pf~…"): whose cases to list.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Owner { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Status { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Severity { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Category { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Breached { get; set; }

    /// <summary>Logged on or after this date (UTC), "yyyy-MM-dd".</summary>
    [BindProperty(SupportsGet = true)]
    public string? From { get; set; }

    /// <summary>Logged before this date (UTC), "yyyy-MM-dd".</summary>
    [BindProperty(SupportsGet = true)]
    public string? To { get; set; }

    /// <summary>The page of the list ("page" is Razor Pages' own route value).</summary>
    [BindProperty(SupportsGet = true, Name = "p")]
    public int? ListPage { get; set; }

    public bool MayList { get; private set; }

    public bool MayMeasure { get; private set; }

    public CaseList? OwnerCases { get; private set; }

    public CaseList? Listed { get; private set; }

    public ProblemDetails? Problem { get; private set; }

    public ProblemDetails? ListProblem { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellation)
    {
        if (ComplaintId is { Length: > 0 } id)
        {
            if (TouchpointCatalogue.IdPattern().IsMatch(id))
            {
                return Redirect($"/console/complaints/{Uri.EscapeDataString(id)}");
            }

            Problem = new HttpValidationProblemDetails(new Dictionary<string, string[]> { ["complaintId"] = [TouchpointCatalogue.IdHint] }) { Title = "Invalid request" };
        }
        else if (Owner is { Length: > 0 } owner)
        {
            await FindOwnerCasesAsync(owner, cancellation);
        }

        MayList = await MayAsync(Policies.ListComplaints);
        MayMeasure = await MayAsync(Policies.ComplaintMetrics);
        if (MayList)
        {
            var answer = await ApiCalls.Answer<ComplaintPage>(ComplaintReadEndpoints.List(ApiCalls.Query(HttpContext,
                ("status", Blank(Status)), ("severity", Blank(Severity)), ("category", Blank(Category)), ("breached", Blank(Breached)),
                ("from", Day(From)), ("to", Day(To)), ("page", ListPage?.ToString(CultureInfo.InvariantCulture)),
                ("pageSize", ListPageSize.ToString(CultureInfo.InvariantCulture))), session, cancellation));
            Listed = answer.Value is { } page ? new CaseList("Cases", page.Total, page.Page, page.PageSize, page.Cases) : null;
            ListProblem = answer.Problem;
        }

        if ((Problem ?? ListProblem)?.Status is { } status)
        {
            Response.StatusCode = status;
        }

        return Page();
    }

    /// <summary>The resolution metrics as charts: a fragment the page loads in the background (it reads every case and its customers' surveys).</summary>
    public async Task<IActionResult> OnGetMetricsAsync(CancellationToken cancellation)
    {
        if (!await MayAsync(Policies.ComplaintMetrics))
        {
            return Forbid();
        }

        var answer = await ApiCalls.Answer<ResolutionMetricsReport>(ComplaintMetrics.Get(
            ApiCalls.Query(HttpContext, ("category", Blank(Category)), ("from", Day(From)), ("to", Day(To))), session, cancellation));
        return Partial("_ComplaintMetrics", answer);
    }

    /// <summary>The query string of the list's filters, for the pager and the metrics' background request.</summary>
    public string Filters(params (string Name, string? Value)[] more) => string.Join("&",
        new (string Name, string? Value)[] { ("status", Status), ("severity", Severity), ("category", Category), ("breached", Breached), ("from", From), ("to", To) }
            .Concat(more).Where(f => !string.IsNullOrWhiteSpace(f.Value)).Select(f => $"{f.Name}={Uri.EscapeDataString(f.Value!)}"));

    private async Task FindOwnerCasesAsync(string owner, CancellationToken cancellation)
    {
        if (ProfileIds.IsProfileId(owner))
        {
            var answer = await ApiCalls.Answer<ProfileComplaintPage>(GetProfileEndpoints.GetComplaints(owner, ApiCalls.Query(HttpContext), session, cancellation));
            OwnerCases = answer.Value is { } page ? new CaseList($"The cases of profile {page.ProfileId}", page.Total, page.Page, page.PageSize, page.Cases) : null;
            Problem = answer.Problem;
        }
        else
        {
            var answer = await ApiCalls.Answer<ComplaintPage>(ComplaintReadEndpoints.ForCustomer(owner, ApiCalls.Query(HttpContext), session, cancellation));
            OwnerCases = answer.Value is { } page ? new CaseList($"The cases of customer {owner}", page.Total, page.Page, page.PageSize, page.Cases) : null;
            Problem = answer.Problem;
        }
    }

    private async Task<bool> MayAsync(string policy) => (await authorization.AuthorizeAsync(User, policy)).Succeeded;

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;

    /// <summary>A date from the form as the API's instant (midnight UTC); anything else goes as typed, for the API to refuse.</summary>
    private static string? Day(string? date) => Blank(date) is not { } text ? null
        : DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _) ? text + "T00:00:00Z" : text;
}
