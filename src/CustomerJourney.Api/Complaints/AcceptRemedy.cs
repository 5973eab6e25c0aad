using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace CustomerJourney.Complaints;

/// <summary>The customer accepted the remedy that waits for their answer.</summary>
public sealed record AcceptRemedy : ComplaintStepRequest
{
    public override Touchpoint? Step(string complaintId, FieldChecks checks, Func<string, string> seal) =>
        new RemedyAccepted { ComplaintId = complaintId };
}

public static class AcceptRemedyEndpoint
{
    public static ProblemDetails Validate(string complaintId, AcceptRemedy command, HttpRequest request, TimeProvider clock) =>
        ComplaintStepWriter.Validate(complaintId, command, request, clock);

    [WolverinePost("/api/complaints/{complaintId}/accept-remedy")]
    [Authorize(Policy = Policies.WriteComplaints)]
    public static Task<IResult> Post(string complaintId, AcceptRemedy command, ComplaintStepWriter writer, HttpContext context, CancellationToken cancellation) =>
        writer.TakeAsync(context, complaintId, "accept-remedy", command, cancellation);
}
