using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace CustomerJourney.Complaints;

/// <summary>Offers a refund, replacement, discount or goodwill credit; a refund may not exceed what may still be refunded on the case's orders.</summary>
public sealed record OfferRemedy : ComplaintStepRequest
{
    public string? Remedy { get; init; }

    public decimal? Amount { get; init; }

    public string? Currency { get; init; }

    public override Touchpoint? Step(string complaintId, FieldChecks checks, Func<string, string> seal)
    {
        var remedy = checks.Choice("remedy", Remedy, TouchpointCatalogue.Remedies);
        var amount = checks.Amount("amount", Amount);
        var currency = checks.Currency("currency", Currency);
        return remedy is null || amount is null || currency is null
            ? null
            : new RemedyOffered { ComplaintId = complaintId, Remedy = remedy.Value, Amount = amount.Value, Currency = currency };
    }
}

public static class OfferRemedyEndpoint
{
    public static ProblemDetails Validate(string complaintId, OfferRemedy command, HttpRequest request, TimeProvider clock) =>
        ComplaintStepWriter.Validate(complaintId, command, request, clock);

    [WolverinePost("/api/complaints/{complaintId}/offer-remedy")]
    [Authorize(Policy = Policies.WriteComplaints)]
    public static Task<IResult> Post(string complaintId, OfferRemedy command, ComplaintStepWriter writer, HttpContext context, CancellationToken cancellation) =>
        writer.TakeAsync(context, complaintId, "offer-remedy", command, cancellation);
}
