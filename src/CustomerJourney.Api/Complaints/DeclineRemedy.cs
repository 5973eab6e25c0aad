using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace CustomerJourney.Complaints;

/// <summary>The customer declined the remedy that waits for their answer.</summary>
public sealed record DeclineRemedy : ComplaintStepRequest
{
    public string? Reason { get; init; }

    public override Touchpoint? Step(string complaintId, FieldChecks checks, Func<string, string> seal) =>
        new RemedyDeclined { ComplaintId = complaintId, Reason = Sealed(checks.FreeText("reason", Reason, required: false), seal) };
}

public static class DeclineRemedyEndpoint
{
    public static ProblemDetails Validate(string complaintId, DeclineRemedy command, HttpRequest request, TimeProvider clock) =>
        ComplaintStepWriter.Validate(complaintId, command, request, clock);

    [WolverinePost("/api/complaints/{complaintId}/decline-remedy")]
    [Authorize(Policy = Policies.WriteComplaints)]
    public static Task<IResult> Post(string complaintId, DeclineRemedy command, ComplaintStepWriter writer, HttpContext context, CancellationToken cancellation) =>
        writer.TakeAsync(context, complaintId, "decline-remedy", command, cancellation);
}
