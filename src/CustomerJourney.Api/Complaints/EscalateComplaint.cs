using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace CustomerJourney.Complaints;

/// <summary>Hands the case to a supervisor, at any open step.</summary>
public sealed record EscalateComplaint : ComplaintStepRequest
{
    public string? To { get; init; }

    public string? Reason { get; init; }

    public override Touchpoint? Step(string complaintId, FieldChecks checks, Func<string, string> seal)
    {
        var to = checks.Text("to", To, required: false);
        var reason = checks.FreeText("reason", Reason);
        return reason is null ? null : new ComplaintEscalated { ComplaintId = complaintId, To = to, Reason = seal(reason) };
    }
}

public static class EscalateComplaintEndpoint
{
    public static ProblemDetails Validate(string complaintId, EscalateComplaint command, HttpRequest request, TimeProvider clock) =>
        ComplaintStepWriter.Validate(complaintId, command, request, clock);

    [WolverinePost("/api/complaints/{complaintId}/escalate")]
    [Authorize(Policy = Policies.WriteComplaints)]
    public static Task<IResult> Post(string complaintId, EscalateComplaint command, ComplaintStepWriter writer, HttpContext context, CancellationToken cancellation) =>
        writer.TakeAsync(context, complaintId, "escalate", command, cancellation);
}
