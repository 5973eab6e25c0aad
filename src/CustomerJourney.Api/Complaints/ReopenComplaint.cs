using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace CustomerJourney.Complaints;

/// <summary>The customer says the resolution did not settle it: the case goes back on the open path, and a new cycle of promises starts.</summary>
public sealed record ReopenComplaint : ComplaintStepRequest
{
    public string? Reason { get; init; }

    public override Touchpoint? Step(string complaintId, FieldChecks checks, Func<string, string> seal)
    {
        var reason = checks.FreeText("reason", Reason);
        return reason is null ? null : new ComplaintReopened { ComplaintId = complaintId, Reason = seal(reason) };
    }
}

public static class ReopenComplaintEndpoint
{
    public static ProblemDetails Validate(string complaintId, ReopenComplaint command, HttpRequest request, TimeProvider clock) =>
        ComplaintStepWriter.Validate(complaintId, command, request, clock);

    [WolverinePost("/api/complaints/{complaintId}/reopen")]
    [Authorize(Policy = Policies.WriteComplaints)]
    public static Task<IResult> Post(string complaintId, ReopenComplaint command, ComplaintStepWriter writer, HttpContext context, CancellationToken cancellation) =>
        writer.TakeAsync(context, complaintId, "reopen", command, cancellation);
}
