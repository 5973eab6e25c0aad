using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace CustomerJourney.Complaints;

/// <summary>The customer answered what we were waiting for: the clocks run again.</summary>
public sealed record RecordCustomerResponse : ComplaintStepRequest
{
    public override Touchpoint? Step(string complaintId, FieldChecks checks, Func<string, string> seal) =>
        new CustomerResponded { ComplaintId = complaintId };
}

public static class RecordCustomerResponseEndpoint
{
    public static ProblemDetails Validate(string complaintId, RecordCustomerResponse command, HttpRequest request, TimeProvider clock) =>
        ComplaintStepWriter.Validate(complaintId, command, request, clock);

    [WolverinePost("/api/complaints/{complaintId}/customer-responded")]
    [Authorize(Policy = Policies.WriteComplaints)]
    public static Task<IResult> Post(string complaintId, RecordCustomerResponse command, ComplaintStepWriter writer, HttpContext context, CancellationToken cancellation) =>
        writer.TakeAsync(context, complaintId, "customer-responded", command, cancellation);
}
