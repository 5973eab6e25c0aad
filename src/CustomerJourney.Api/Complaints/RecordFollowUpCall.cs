using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace CustomerJourney.Complaints;

/// <summary>The call after a resolution: whether the customer was reached and satisfied.</summary>
public sealed record RecordFollowUpCall : ComplaintStepRequest
{
    public string? Outcome { get; init; }

    public bool? Satisfied { get; init; }

    public string? Notes { get; init; }

    public override Touchpoint? Step(string complaintId, FieldChecks checks, Func<string, string> seal) => Call(complaintId, checks, seal);

    /// <summary>The call, also one that belongs to no case (a source's batch may send a routine call without a complaint id).</summary>
    public FollowUpCallCompleted? Call(string? complaintId, FieldChecks checks, Func<string, string> seal)
    {
        var outcome = checks.Choice("outcome", Outcome, TouchpointCatalogue.Outcomes);
        var notes = checks.FreeText("notes", Notes, required: false);
        if (outcome == CallOutcome.NotReached && Satisfied is not null)
        {
            checks.Refuse("satisfied", "cannot be given when the customer was not reached.");
            return null;
        }

        return outcome is null
            ? null
            : new FollowUpCallCompleted { ComplaintId = complaintId, Outcome = outcome.Value, Satisfied = Satisfied, Notes = Sealed(notes, seal) };
    }
}

public static class RecordFollowUpCallEndpoint
{
    public static ProblemDetails Validate(string complaintId, RecordFollowUpCall command, HttpRequest request, TimeProvider clock) =>
        ComplaintStepWriter.Validate(complaintId, command, request, clock);

    [WolverinePost("/api/complaints/{complaintId}/follow-up-call")]
    [Authorize(Policy = Policies.WriteComplaints)]
    public static Task<IResult> Post(string complaintId, RecordFollowUpCall command, ComplaintStepWriter writer, HttpContext context, CancellationToken cancellation) =>
        writer.TakeAsync(context, complaintId, "follow-up-call", command, cancellation);
}
