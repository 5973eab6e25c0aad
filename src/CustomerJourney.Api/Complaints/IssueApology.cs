using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace CustomerJourney.Complaints;

/// <summary>Says sorry to the customer, in the words used.</summary>
public sealed record IssueApology : ComplaintStepRequest
{
    public string? By { get; init; }

    public string? Wording { get; init; }

    public override Touchpoint? Step(string complaintId, FieldChecks checks, Func<string, string> seal)
    {
        var by = checks.Text("by", By);
        var wording = checks.FreeText("wording", Wording);
        return by is null || wording is null ? null : new ApologyIssued { ComplaintId = complaintId, By = by, Wording = seal(wording) };
    }
}

public static class IssueApologyEndpoint
{
    public static ProblemDetails Validate(string complaintId, IssueApology command, HttpRequest request, TimeProvider clock) =>
        ComplaintStepWriter.Validate(complaintId, command, request, clock);

    [WolverinePost("/api/complaints/{complaintId}/apologize")]
    [Authorize(Policy = Policies.WriteComplaints)]
    public static Task<IResult> Post(string complaintId, IssueApology command, ComplaintStepWriter writer, HttpContext context, CancellationToken cancellation) =>
        writer.TakeAsync(context, complaintId, "apologize", command, cancellation);
}
