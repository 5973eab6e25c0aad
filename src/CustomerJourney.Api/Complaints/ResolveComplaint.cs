using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace CustomerJourney.Complaints;

/// <summary>Resolves the case, naming its root cause.</summary>
public sealed record ResolveComplaint : ComplaintStepRequest
{
    public string? RootCause { get; init; }

    public string? Summary { get; init; }

    public override Touchpoint? Step(string complaintId, FieldChecks checks, Func<string, string> seal)
    {
        var rootCause = checks.Text("rootCause", RootCause);
        var summary = checks.FreeText("summary", Summary);
        return rootCause is null || summary is null ? null : new ComplaintResolved { ComplaintId = complaintId, RootCause = rootCause, Summary = seal(summary) };
    }
}

public static class ResolveComplaintEndpoint
{
    public static ProblemDetails Validate(string complaintId, ResolveComplaint command, HttpRequest request, TimeProvider clock) =>
        ComplaintStepWriter.Validate(complaintId, command, request, clock);

    [WolverinePost("/api/complaints/{complaintId}/resolve")]
    [Authorize(Policy = Policies.WriteComplaints)]
    public static Task<IResult> Post(string complaintId, ResolveComplaint command, ComplaintStepWriter writer, HttpContext context, CancellationToken cancellation) =>
        writer.TakeAsync(context, complaintId, "resolve", command, cancellation);
}
