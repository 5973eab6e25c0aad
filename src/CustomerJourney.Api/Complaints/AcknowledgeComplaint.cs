using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace CustomerJourney.Complaints;

/// <summary>Somebody on our side has read the complaint and told the customer so.</summary>
public sealed record AcknowledgeComplaint : ComplaintStepRequest
{
    public string? Reason { get; init; }

    public override Touchpoint? Step(string complaintId, FieldChecks checks, Func<string, string> seal) =>
        new ComplaintAcknowledged { ComplaintId = complaintId, Reason = Sealed(checks.FreeText("reason", Reason, required: false), seal) };
}

public static class AcknowledgeComplaintEndpoint
{
    public static ProblemDetails Validate(string complaintId, AcknowledgeComplaint command, HttpRequest request, TimeProvider clock) =>
        ComplaintStepWriter.Validate(complaintId, command, request, clock);

    [WolverinePost("/api/complaints/{complaintId}/acknowledge")]
    [Authorize(Policy = Policies.WriteComplaints)]
    public static Task<IResult> Post(string complaintId, AcknowledgeComplaint command, ComplaintStepWriter writer, HttpContext context, CancellationToken cancellation) =>
        writer.TakeAsync(context, complaintId, "acknowledge", command, cancellation);
}
