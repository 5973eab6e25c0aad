using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace CustomerJourney.Complaints;

/// <summary>We wait for the customer (a photo, a receipt, a call back): the promise clocks pause.</summary>
public sealed record AwaitCustomer : ComplaintStepRequest
{
    public string? Reason { get; init; }

    public override Touchpoint? Step(string complaintId, FieldChecks checks, Func<string, string> seal)
    {
        var reason = checks.FreeText("reason", Reason);
        return reason is null ? null : new ComplaintAwaitingCustomer { ComplaintId = complaintId, Reason = seal(reason) };
    }
}

public static class AwaitCustomerEndpoint
{
    public static ProblemDetails Validate(string complaintId, AwaitCustomer command, HttpRequest request, TimeProvider clock) =>
        ComplaintStepWriter.Validate(complaintId, command, request, clock);

    [WolverinePost("/api/complaints/{complaintId}/await-customer")]
    [Authorize(Policy = Policies.WriteComplaints)]
    public static Task<IResult> Post(string complaintId, AwaitCustomer command, ComplaintStepWriter writer, HttpContext context, CancellationToken cancellation) =>
        writer.TakeAsync(context, complaintId, "await-customer", command, cancellation);
}
