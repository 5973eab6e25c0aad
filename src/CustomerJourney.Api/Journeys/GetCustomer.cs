using System.Security.Claims;
using System.Text.Json;
using CustomerJourney.Access;
using CustomerJourney.Complaints;
using CustomerJourney.Identity;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Wolverine.Http;

namespace CustomerJourney.Journeys;

/// <summary>The customer summary; <see cref="ProfileId"/> is the profile the customer belonged to (by <see cref="AsOf"/>), "pf~" and their id when alone.</summary>
public sealed record CustomerSummaryResponse(
    string CustomerId,
    string ProfileId,
    DateTimeOffset? AsOf,
    DateTimeOffset? FirstPurchaseAt,
    DateTimeOffset? LastPurchaseAt,
    int PurchaseCount,
    IReadOnlyDictionary<string, decimal> TotalSpend,
    int ReturnCount,
    IReadOnlyDictionary<string, decimal> TotalReturned,
    int OpenComplaints,
    int? LastCsat,
    int? LastNps,
    bool? MarketingConsent,
    IReadOnlyDictionary<string, ConsentStatus> Consents,
    int LoyaltyPoints,
    int TouchpointCount,
    DateTimeOffset? LastTouchpointAt,
    DateTimeOffset? ErasedAt)
{
    public static CustomerSummaryResponse From(CustomerSummary s, string profileId, DateTimeOffset? asOf, int openComplaints) => new(
        s.Id, profileId, asOf, s.FirstPurchaseAt, s.LastPurchaseAt, s.PurchaseCount, s.TotalSpend, s.ReturnCount, s.TotalReturned,
        openComplaints, s.LastCsat, s.LastNps, s.MarketingConsent, s.Consents, s.LoyaltyPoints, s.TouchpointCount,
        s.LastTouchpointAt, s.ErasedAt);
}

public sealed record JourneyPage(string CustomerId, DateTimeOffset? AsOf, ErasureNote? Erasure, int Total, int Page, int PageSize, IReadOnlyList<JourneyEntry> Entries);

/// <summary>A customer's whole timeline as the reader may see it, and their erasure if any.</summary>
public sealed record JourneyRead(IReadOnlyList<JourneyEntry> Entries, ErasureNote? Erasure);

/// <summary>Shown on the journey once a customer was erased: when and by whom (no personal data).</summary>
public sealed record ErasureNote(DateTimeOffset ErasedAt, string ErasedBy);

public static class GetCustomerEndpoints
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    /// <summary>The customer summary; with ?asOf= it is rebuilt from the events recorded by that instant.</summary>
    [WolverineGet("/api/customers/{customerId}")]
    [Authorize(Policy = Policies.ReadCustomers)]
    public static async Task<IResult> GetSummary(string customerId, HttpRequest request, IDocumentSession session, CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var asOf = query.Instant("asOf");
        if (Validate(customerId, query) is { } problem)
        {
            return problem;
        }

        return await SummaryAsync(session, customerId, asOf, cancellation) is { } summary ? Results.Ok(summary) : UnknownCustomer(customerId, asOf);
    }

    /// <summary>The summary as the endpoint answers it (null for a customer with no stream of their own); also what the export reads.</summary>
    public static async Task<CustomerSummaryResponse?> SummaryAsync(IDocumentSession session, string customerId, DateTimeOffset? asOf, CancellationToken cancellation)
    {
        // The summary, where the profile read starts and which cases the customer has, in one round trip.
        var batch = session.CreateBatchQuery();
        var latest = asOf is null ? ConsentQuery.Summary(batch, customerId) : null;
        // The one reading of "which profile" (as the profile endpoints answer it), as of the same instant.
        var profile = ProfileStreams.FindMembers(batch, session, customerId, asOf);
        var caseEvents = CustomerComplaints.Events(batch, session, [customerId], asOf);
        await batch.Execute(cancellation);
        var summary = latest is not null ? await latest : await ConsentQuery.SummaryAsync(session, customerId, asOf, cancellation);
        if (summary is null)
        {
            return null;
        }

        var profileId = (await profile(cancellation))?.Id ?? ProfileIds.HomeOf(customerId);
        return WithComplaints(summary, profileId, asOf, await caseEvents(cancellation));
    }

    /// <summary>
    /// A person's summary: their profile's members' combined (<see cref="CustomerSummaryProjection.Combine"/>), each as
    /// known by <paramref name="asOf"/>; null when no member has a stream of their own.
    /// </summary>
    public static async Task<CustomerSummaryResponse?> ProfileSummaryAsync(IDocumentSession session, string profileId, IReadOnlyList<string> members,
        DateTimeOffset? asOf, CancellationToken cancellation)
    {
        var summaries = new List<CustomerSummary>();
        foreach (var member in members)
        {
            if (await ConsentQuery.SummaryAsync(session, member, asOf, cancellation) is { } summary)
            {
                summaries.Add(summary);
            }
        }

        return summaries.Count == 0
            ? null
            : WithComplaints(CustomerSummaryProjection.Combine(profileId, summaries), profileId, asOf,
                await CustomerComplaints.EventsAsync(session, members, asOf, cancellation));
    }

    /// <summary>The summary with what its cases add: complaint steps live on their cases' streams; they are the customer's touchpoints too.</summary>
    private static CustomerSummaryResponse WithComplaints(CustomerSummary summary, string profileId, DateTimeOffset? asOf, IReadOnlyList<JasperFx.Events.IEvent> caseEvents)
    {
        var steps = caseEvents.Select(e => e.Data).OfType<Touchpoint>().ToList();
        var open = caseEvents.GroupBy(e => e.StreamKey)
            .Select(g => g.OrderBy(e => e.Version).Aggregate((ComplaintCase?)null, (c, e) => ComplaintCase.Fold(c, e.Data)))
            .Count(c => c?.IsOpen == true);
        var lastStep = steps.Count == 0 ? (DateTimeOffset?)null : steps.Max(t => t.OccurredAt);
        return CustomerSummaryResponse.From(summary, profileId, asOf, open) with
        {
            TouchpointCount = summary.TouchpointCount + steps.Count,
            LastTouchpointAt = lastStep > summary.LastTouchpointAt || summary.LastTouchpointAt is null ? lastStep : summary.LastTouchpointAt,
        };
    }

    /// <summary>The customer's touchpoints in business-time order; ?asOf= replays the journey as it was known then.</summary>
    [WolverineGet("/api/customers/{customerId}/journey")]
    [Authorize(Policy = Policies.ReadCustomers)]
    public static async Task<IResult> GetJourney(string customerId, HttpRequest request, ClaimsPrincipal reader, IQuerySession session,
        IPersonalDataProtector personal, UnreadablePersonalData unreadable, IOptions<JsonOptions> json, CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var asOf = query.Instant("asOf");
        var page = query.Integer("page", 1, 1, int.MaxValue);
        var pageSize = query.Integer("pageSize", DefaultPageSize, 1, MaxPageSize);
        // Page and screen views outnumber moments of truth: ?kinds=purchase,return and ?momentsOfTruth=true narrow the timeline.
        var kinds = query.Text("kinds", maxLength: 1_000)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var momentsOnly = query.Bool("momentsOfTruth") == true;
        if (kinds?.FirstOrDefault(k => TouchpointCatalogue.Find(k) is null && !TouchpointCatalogue.RecordedByService.Any(r => r.Name == k)) is { } unknown)
        {
            query.Errors.Add("kinds", $"'{unknown}' is not a touchpoint kind.");
        }

        if (Validate(customerId, query) is { } problem)
        {
            return problem;
        }

        var journey = await JourneyAsync(session, personal, unreadable, customerId, asOf, Roles.MayReadPersonalData(reader), json.Value.SerializerOptions, cancellation);
        if (journey is null)
        {
            return UnknownCustomer(customerId, asOf);
        }

        // Filtered after the whole timeline is built, so "first purchase" and the as-of replay mean what they mean unfiltered.
        var entries = journey.Entries.Where(e => (kinds is null || kinds.Contains(e.Kind)) && (!momentsOnly || e.MomentOfTruth)).ToList();
        var slice = entries.Skip((int)Math.Min((long)(page - 1) * pageSize, int.MaxValue)).Take(pageSize).ToList();
        return Results.Ok(new JourneyPage(customerId, asOf, journey.Erasure, entries.Count, page, pageSize, slice));
    }

    /// <summary>
    /// Every touchpoint of the customer (their own stream and their complaint cases' steps) in journey order, personal
    /// fields as the reader may see them; null when none was recorded (by <paramref name="asOf"/>). Also what the export reads.
    /// </summary>
    public static async Task<JourneyRead?> JourneyAsync(IQuerySession session, IPersonalDataProtector personal, UnreadablePersonalData unreadable,
        string customerId, DateTimeOffset? asOf, bool mayReadPersonalData, JsonSerializerOptions json, CancellationToken cancellation)
    {
        // Read from the stream itself: always current, and the record-time cut-off is Marten's own. Its cases in the same round trip.
        var batch = session.CreateBatchQuery();
        var stream = batch.Events.FetchStream(customerId, timestamp: asOf);
        var cases = CustomerComplaints.Events(batch, session, [customerId], asOf);
        await batch.Execute(cancellation);
        var events = await stream;
        var caseSteps = await cases(cancellation);
        var touchpoints = events.Concat(caseSteps).Where(e => e.Data is Touchpoint)
            .Select(e => ((Touchpoint)e.Data, e.Timestamp, e.Sequence, e.UserName, e.Id)).ToList();
        if (touchpoints.Count == 0)
        {
            return null;
        }

        var erasure = events.Select(e => e.Data).OfType<CustomerErased>().Select(e => new ErasureNote(e.ErasedAt, e.ErasedBy)).FirstOrDefault();
        var cipher = await personal.ForCustomersAsync([customerId], forWriting: false, cancellation);
        var entries = JourneyEntries.Build(touchpoints,
            (t, sequence) => PersonalFields.ForReader(t, cipher, mayReadPersonalData, () => unreadable.Found(sequence, TouchpointCatalogue.KindOf(t))), json);
        return new JourneyRead(entries, erasure);
    }

    private static IResult? Validate(string customerId, ReadQuery query)
    {
        if (!TouchpointCatalogue.IdPattern().IsMatch(customerId))
        {
            query.Errors.Add("customerId", TouchpointCatalogue.IdHint);
        }

        return query.Errors.Any
            ? Results.ValidationProblem(query.Errors.ToDictionary(), title: "Invalid request", detail: "See errors for each parameter.")
            : null;
    }

    private static IResult UnknownCustomer(string customerId, DateTimeOffset? asOf) => Results.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Unknown customer",
        detail: asOf is null
            ? $"No touchpoint has been recorded for customer '{customerId}'."
            : $"No touchpoint for customer '{customerId}' had been recorded by {asOf:O}.");
}
