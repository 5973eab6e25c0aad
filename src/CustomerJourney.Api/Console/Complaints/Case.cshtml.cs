using CustomerJourney.Access;
using CustomerJourney.Complaints;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CustomerJourney.WebConsole.Complaints;

/// <summary>
/// A case file: the lifecycle as steps with their promise clocks (GET /api/complaints/{id}); for auditors and supervisors
/// also every event as recorded (GET .../audit), the audit chain's state (GET .../audit/verify) and the API's exports.
/// </summary>
[Authorize(Policy = Policies.ReadComplaints)]
public sealed class CasePage(IAuthorizationService authorization, IQuerySession session, ComplaintAuditor auditor) : PageModel
{
    [FromRoute]
    public string ComplaintId { get; set; } = "";

    public ComplaintView? View { get; private set; }

    public IReadOnlyList<LifecycleStep> Steps { get; private set; } = [];

    public ProblemDetails? Problem { get; private set; }

    /// <summary>Whether the reader may see the events and the chain (the API's audit policy).</summary>
    public bool MayAudit { get; private set; }

    public AuditTrail? Trail { get; private set; }

    public AuditVerification? Verification { get; private set; }

    public async Task<IActionResult> OnGetAsync([FromServices] SlaPolicies policies, [FromServices] TimeProvider clock, CancellationToken cancellation)
    {
        var answer = await ApiCalls.Answer<ComplaintView>(ComplaintReadEndpoints.Get(ComplaintId, ApiCalls.Query(HttpContext), session, policies, clock, cancellation));
        (View, Problem) = (answer.Value, answer.Problem);
        if (Problem is not null)
        {
            Response.StatusCode = Problem.Status ?? StatusCodes.Status400BadRequest;
            return Page();
        }

        Steps = CaseLifecycle.Steps(View!);
        MayAudit = await MayAuditAsync();
        if (MayAudit)
        {
            var trail = await ApiCalls.Answer<AuditTrail>(ComplaintAuditEndpoints.Trail(ComplaintId, ApiCalls.Query(HttpContext), auditor, session, cancellation));
            var verified = await ApiCalls.Answer<AuditVerification>(ComplaintAuditEndpoints.Verify(ComplaintId, auditor, cancellation));
            (Trail, Verification) = (trail.Value, verified.Value);
            Problem = trail.Problem ?? verified.Problem;
        }

        return Page();
    }

    /// <summary>The API's audit export (JSON or CSV), as GET /api/complaints/{id}/audit?format= answers it.</summary>
    public async Task<IActionResult> OnGetExportAsync(string? format, CancellationToken cancellation)
    {
        if (!await MayAuditAsync())
        {
            return Forbid();
        }

        var csv = format == "csv";
        var answer = await ComplaintAuditEndpoints.Trail(ComplaintId, ApiCalls.Query(HttpContext, ("format", csv ? "csv" : "json")), auditor, session, cancellation);
        return new ApiDownload(answer, $"complaint-{ComplaintId}-audit.{(csv ? "csv" : "json")}");
    }

    /// <summary>The case's signed chain heads, as GET /api/complaints/audit/heads?complaintId= answers them, to keep elsewhere.</summary>
    public async Task<IActionResult> OnGetHeadsAsync(CancellationToken cancellation)
    {
        if (!await MayAuditAsync())
        {
            return Forbid();
        }

        var answer = await ComplaintAuditEndpoints.Heads(ApiCalls.Query(HttpContext, ("complaintId", ComplaintId)), session, cancellation);
        return new ApiDownload(answer, $"complaint-{ComplaintId}-signed-heads.json");
    }

    private async Task<bool> MayAuditAsync() => (await authorization.AuthorizeAsync(User, Policies.AuditComplaints)).Succeeded;
}
