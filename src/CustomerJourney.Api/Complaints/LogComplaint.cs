using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace CustomerJourney.Complaints;

/// <summary>
/// What a complaint is about, whoever logs it: the body of <c>POST /api/complaints</c>, or the data of a source's batch
/// item of kind <c>complaint-logged</c>. Its fields and their rules live here only.
/// </summary>
public record ComplaintDetails
{
    public string? Category { get; init; }

    /// <summary>low, medium, high or critical: it sets the service promises.</summary>
    public string? Severity { get; init; }

    public string? Description { get; init; }

    /// <summary>The orders complained about; a refund is checked against what was paid on them.</summary>
    public IReadOnlyList<string?>? OrderIds { get; init; }

    /// <summary>The event, its fields checked and its personal text sealed; null when a field is refused (the reasons are in <paramref name="checks"/>).</summary>
    public ComplaintLogged? Logged(string complaintId, FieldChecks checks, Func<string, string> seal)
    {
        var category = checks.Text("category", Category);
        var severity = checks.Choice("severity", Severity, TouchpointCatalogue.Severities);
        var description = checks.FreeText("description", Description);
        if (OrderIds is { Count: > 100 })
        {
            checks.Refuse("orderIds", "must have at most 100 items.");
        }

        var orders = (OrderIds ?? []).Select((order, i) => checks.Text($"orderIds[{i}]", order)).ToList();
        return category is null || severity is null || description is null || checks.Errors.Any
            ? null
            : new ComplaintLogged
            {
                ComplaintId = complaintId,
                Category = category,
                Severity = severity.Value,
                Description = seal(description),
                OrderIds = orders.Select(o => o!).ToList(),
            };
    }
}

/// <summary>A customer's complaint, logged by staff or a source system: the first step of its case.</summary>
public sealed record LogComplaint : ComplaintDetails
{
    /// <summary>Global: a source system should prefix its own ("crm-123"). Made up when left out (from the Idempotency-Key, when one is sent).</summary>
    public string? ComplaintId { get; init; }

    public string? CustomerId { get; init; }

    /// <summary>Where the customer complained (store, web, app, phone, email, chat, social).</summary>
    public string? Channel { get; init; }

    /// <summary>When: ISO 8601 with an offset. Now, when left out.</summary>
    public string? OccurredAt { get; init; }

    public string? CorrelationId { get; init; }

    /// <summary>The event, with the ids this endpoint takes in its body checked too.</summary>
    public ComplaintLogged? Step(string complaintId, FieldChecks checks, Func<string, string> seal)
    {
        checks.Text("complaintId", ComplaintId, required: false, pattern: TouchpointCatalogue.IdPattern(), patternHint: TouchpointCatalogue.IdHint);
        checks.Text("customerId", CustomerId, pattern: TouchpointCatalogue.IdPattern(), patternHint: TouchpointCatalogue.IdHint);
        return Logged(complaintId, checks, seal);
    }
}

public static class LogComplaintEndpoint
{
    public static ProblemDetails Validate(LogComplaint command, HttpRequest request, TimeProvider clock)
    {
        var checks = new FieldChecks(new FieldErrors());
        ComplaintStepWriter.CheckEnvelope(checks, command.OccurredAt, command.Channel, command.CorrelationId, request, clock.GetUtcNow(), channelRequired: true);
        command.Step(command.ComplaintId ?? "", checks, text => text);
        return checks.Errors.Any ? Problems.Invalid(checks.Errors.ToDictionary(), "Invalid complaint") : WolverineContinue.NoProblems;
    }

    /// <summary>Logs a new complaint case: 201 with its Location and ETag; 200 when the Idempotency-Key repeats a logged one.</summary>
    [WolverinePost("/api/complaints")]
    [Authorize(Policy = Policies.WriteComplaints)]
    public static Task<IResult> Post(LogComplaint command, ComplaintStepWriter writer, HttpContext context, CancellationToken cancellation) =>
        writer.LogAsync(context, command, cancellation);
}
