using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Marten;
using Marten.Services.BatchQuerying;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace CustomerJourney.Journeys;

public sealed record ConsentAnswer(string CustomerId, DateTimeOffset? AsOf, string? Purpose, bool? MayContact, IReadOnlyDictionary<string, ConsentStatus> Purposes);

/// <summary>
/// "May we contact this customer for this purpose?" Read with FetchLatest, so a withdrawal acknowledged a moment
/// ago counts even if the daemon has not projected it yet; ?asOf= replays it from the stream.
/// </summary>
public static class ConsentQuery
{
    public static async Task<CustomerSummary?> SummaryAsync(IDocumentSession session, string customerId, DateTimeOffset? asOf, CancellationToken cancellation) =>
        asOf is null
            ? await ProjectionReads.LatestAsync<CustomerSummary>(session, customerId, cancellation)
            : await session.Events.AggregateStreamAsync<CustomerSummary>(customerId, timestamp: asOf, token: cancellation);

    /// <summary>The latest summary (as <see cref="SummaryAsync"/> without an instant), queued on the caller's batch.</summary>
    public static Task<CustomerSummary?> Summary(IBatchedQuery batch, string customerId) => ProjectionReads.Latest<CustomerSummary>(batch, customerId);

    /// <summary>True only with a standing consent for the purpose; an erased customer is never contacted.</summary>
    public static bool MayContact(CustomerSummary summary, string purpose) =>
        summary.ErasedAt is null && summary.Consents.TryGetValue(purpose, out var status) && status.Given;

    [WolverineGet("/api/customers/{customerId}/consents")]
    [Authorize(Policy = Policies.ReadConsent)]
    public static async Task<IResult> Get(string customerId, HttpRequest request, IDocumentSession session, CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var asOf = query.Instant("asOf");
        var purpose = request.Query["purpose"].ToString() is { Length: > 0 } p ? p : null;
        if (!TouchpointCatalogue.IdPattern().IsMatch(customerId))
        {
            query.Errors.Add("customerId", TouchpointCatalogue.IdHint);
        }

        if (query.Errors.Any)
        {
            return Results.ValidationProblem(query.Errors.ToDictionary(), title: "Invalid request");
        }

        return await SummaryAsync(session, customerId, asOf, cancellation) is { } summary
            ? Results.Ok(new ConsentAnswer(customerId, asOf, purpose, purpose is null ? null : MayContact(summary, purpose), summary.Consents))
            : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown customer", detail: $"No touchpoint has been recorded for customer '{customerId}'.");
    }
}
