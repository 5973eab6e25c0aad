using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace CustomerJourney.Complaints;

/// <summary>Closes a resolved case; a closed case takes no more steps.</summary>
public sealed record CloseComplaint : ComplaintStepRequest
{
    public string? Reason { get; init; }

    public override Touchpoint? Step(string complaintId, FieldChecks checks, Func<string, string> seal) =>
        new ComplaintClosed { ComplaintId = complaintId, Reason = Sealed(checks.FreeText("reason", Reason, required: false), seal) };
}

public static class CloseComplaintEndpoint
{
    public static ProblemDetails Validate(string complaintId, CloseComplaint command, HttpRequest request, TimeProvider clock) =>
        ComplaintStepWriter.Validate(complaintId, command, request, clock);

    [WolverinePost("/api/complaints/{complaintId}/close")]
    [Authorize(Policy = Policies.WriteComplaints)]
    public static Task<IResult> Post(string complaintId, CloseComplaint command, ComplaintStepWriter writer, HttpContext context, CancellationToken cancellation) =>
        writer.TakeAsync(context, complaintId, "close", command, cancellation);
}
