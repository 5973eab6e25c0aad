using System.Text.Json;
using CustomerJourney.Churn;
using CustomerJourney.Complaints;
using CustomerJourney.Journeys;
using CustomerJourney.Touchpoints;
using CustomerJourney.WinBack;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Wolverine.Http;

namespace CustomerJourney.Access;

/// <summary>A complaint case as staff see it, with its steps as they appear on the journey.</summary>
public sealed record ExportedComplaint(ComplaintView View, IReadOnlyList<JourneyEntry> Steps);

/// <summary>
/// Everything held about a person, in one document: their touchpoints (personal fields opened), the summary and
/// consents, complaint cases with their steps, churn flags and their history, and what win-back did with them.
/// </summary>
public sealed record CustomerExport(
    string CustomerId,
    DateTimeOffset ExportedAt,
    bool Erased,
    DateTimeOffset? ErasedAt,
    string? ErasedBy,
    IReadOnlyList<JourneyEntry> Events,
    CustomerSummaryResponse? Summary,
    IReadOnlyDictionary<string, ConsentStatus> Consents,
    IReadOnlyList<ExportedComplaint> Complaints,
    CustomerFlagHistory ChurnFlags,
    CustomerWinBack WinBack);

public static class ExportCustomerEndpoint
{
    /// <summary>
    /// The right of access: a data-subject request answered in one call. Each section comes from the read path that
    /// serves it elsewhere (journey, summary, complaint view, churn flags, win-back), so the export applies the same
    /// rules. After erasure it says so and shows every personal field as [erased].
    /// </summary>
    [WolverineGet("/api/customers/{customerId}/export")]
    [Authorize(Policy = Policies.Administer)]
    public static async Task<IResult> Get(string customerId, IDocumentSession session, IPersonalDataProtector personal, UnreadablePersonalData unreadable,
        SlaPolicies policies, TimeProvider clock, IOptions<JsonOptions> jsonOptions, CancellationToken cancellation)
    {
        if (!TouchpointCatalogue.IdPattern().IsMatch(customerId))
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["customerId"] = [TouchpointCatalogue.IdHint] }, title: "Invalid request");
        }

        var json = jsonOptions.Value.SerializerOptions;
        // The admin relays the answer to the person it is about, who may read all of it: personal fields are opened.
        var journey = await GetCustomerEndpoints.JourneyAsync(session, personal, unreadable, customerId, null, mayReadPersonalData: true, json, cancellation);
        var caseIds = await session.Query<ComplaintCase>().Where(c => c.CustomerId == customerId).Select(c => c.ComplaintId).ToListAsync(cancellation);
        if (journey is null && caseIds.Count == 0)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown customer",
                detail: $"No touchpoint has been recorded for customer '{customerId}'.");
        }

        var events = journey?.Entries ?? [];
        var summary = await GetCustomerEndpoints.SummaryAsync(session, customerId, null, cancellation);
        var complaints = new List<ExportedComplaint>();
        foreach (var caseId in caseIds.Order(StringComparer.Ordinal))
        {
            if (await ComplaintReadEndpoints.ViewAsync(session, policies, clock, caseId, cancellation) is { } view)
            {
                complaints.Add(new ExportedComplaint(view, events.Where(e => StepOf(e, caseId)).ToList()));
            }
        }

        var own = await session.Events.FetchStreamAsync(customerId, token: cancellation);
        var flags = CustomerFlagHistory.From(customerId, own.Select(e => e.Data));
        var winBack = await CustomerWinBackHistory.ReadAsync(session, customerId, own, json, cancellation);
        var erasure = journey?.Erasure;
        return Results.Ok(new CustomerExport(customerId, clock.GetUtcNow(), erasure is not null, erasure?.ErasedAt, erasure?.ErasedBy, events, summary,
            summary?.Consents ?? new Dictionary<string, ConsentStatus>(), complaints, flags, winBack));
    }

    /// <summary>Every step of a case (and a follow-up call on it) names the case in its data, as the catalogue defines it.</summary>
    private static bool StepOf(JourneyEntry entry, string complaintId) =>
        entry.Data.ValueKind == JsonValueKind.Object && entry.Data.TryGetProperty("complaintId", out var id) && id.ValueKind == JsonValueKind.String &&
        id.GetString() == complaintId;
}
