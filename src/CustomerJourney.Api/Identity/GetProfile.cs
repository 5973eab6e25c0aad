using System.Security.Claims;
using System.Text.Json;
using CustomerJourney.Access;
using CustomerJourney.Complaints;
using CustomerJourney.Infrastructure;
using CustomerJourney.Journeys;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Wolverine.Http;

namespace CustomerJourney.Identity;

public sealed record ProfileIdentifierView(string CustomerId, string Type, string Value, Guid TouchpointId);

public sealed record ProfileLinkView(Guid LinkId, string From, string To, string Rule, string? IdentifierType, string? Identifier,
    IReadOnlyList<Evidence> Evidence, string DecidedBy, DateTimeOffset LinkedAt);

public sealed record ProfileConflictView(Guid ConflictId, string CustomerId, string? OtherProfileId, string Rule, string IdentifierType, string Identifier,
    int Limit, IReadOnlyList<Evidence> Evidence, DateTimeOffset DetectedAt);

/// <summary>What the business asks first about a person: their profile's members' summaries combined (<see cref="CustomerSummaryProjection.Combine"/>).</summary>
public sealed record ProfileSummary(DateTimeOffset? FirstPurchaseAt, DateTimeOffset? LastPurchaseAt, int PurchaseCount, IReadOnlyDictionary<string, decimal> TotalSpend,
    int ReturnCount, IReadOnlyDictionary<string, decimal> TotalReturned, int OpenComplaints, int? LastCsat, int? LastNps, int LoyaltyPoints, int TouchpointCount,
    DateTimeOffset? LastTouchpointAt, DateTimeOffset? ErasedAt)
{
    public static ProfileSummary From(CustomerSummaryResponse s) => new(s.FirstPurchaseAt, s.LastPurchaseAt, s.PurchaseCount, s.TotalSpend, s.ReturnCount,
        s.TotalReturned, s.OpenComplaints, s.LastCsat, s.LastNps, s.LoyaltyPoints, s.TouchpointCount, s.LastTouchpointAt, s.ErasedAt);
}

/// <summary>
/// A profile as GET /api/profiles/{id} shows it; identifiers are blind indexes, and [redacted] for roles that see no
/// personal data. With the person's summary and their consent per purpose (every member's statements under the one
/// consent rule); both null/empty when no member had a touchpoint by <see cref="AsOf"/>.
/// </summary>
public sealed record ProfileView(string ProfileId, DateTimeOffset? AsOf, IReadOnlyList<ProfileMember> Members, IReadOnlyList<ProfileIdentifierView> Identifiers,
    IReadOnlyList<ProfileLinkView> Links, IReadOnlyList<ProfileConflictView> Conflicts)
{
    public ProfileSummary? Summary { get; init; }

    public bool? MarketingConsent { get; init; }

    public IReadOnlyDictionary<string, ConsentStatus> Consents { get; init; } = new Dictionary<string, ConsentStatus>();

    public static ProfileView Of(Profile profile, DateTimeOffset? asOf, bool mayReadPersonalData)
    {
        // Erased wins over redacted, as on the journey.
        string Show(IdentifierType type, string blindIndex) => !Identity.Identifiers.IsPersonal(type) ? blindIndex
            : profile.ErasedAt is not null ? PersonalFields.Erased
            : mayReadPersonalData ? blindIndex : PersonalFields.Redacted;
        string Name(IdentifierType type) => JsonNamingPolicy.KebabCaseLower.ConvertName(type.ToString());
        return new ProfileView(profile.Id, asOf, profile.Members,
            profile.Identifiers.Select(i => new ProfileIdentifierView(i.CustomerId, Name(i.Type), Show(i.Type, i.BlindIndex), i.TouchpointId)).ToList(),
            profile.Links.Select(l => new ProfileLinkView(l.LinkId, l.From, l.To, l.Rule, l.IdentifierType is { } t ? Name(t) : null,
                l.IdentifierType is { } type ? Show(type, l.BlindIndex!) : null, l.Evidence, l.DecidedBy, l.LinkedAt)).ToList(),
            profile.Conflicts.Select(c => new ProfileConflictView(c.ConflictId, c.CustomerId, c.OtherProfileId, c.Rule, Name(c.IdentifierType),
                Show(c.IdentifierType, c.BlindIndex), c.Limit, c.Evidence, c.DetectedAt)).ToList());
    }
}

/// <summary>One moment of a profile's journey, and the member whose touchpoint it is.</summary>
public sealed record ProfileJourneyEntry(string Member, string Kind, DateTimeOffset OccurredAt, DateTimeOffset RecordedAt, string Channel, string Source,
    string SourceId, string? CorrelationId, string? RecordedBy, string Summary, bool MomentOfTruth, JsonElement Data);

public sealed record ProfileJourneyPage(string ProfileId, DateTimeOffset? AsOf, IReadOnlyList<string> Members, int Total, int Page, int PageSize,
    IReadOnlyList<ProfileJourneyEntry> Entries);

public sealed record ProfileComplaintPage(string ProfileId, int Total, int Page, int PageSize, IReadOnlyList<ComplaintCase> Cases);

public static class GetProfileEndpoints
{
    /// <summary>The profile a profile id or any member's customer id names; ?asOf= answers with the graph as it stood at that record time.</summary>
    [WolverineGet("/api/profiles/{id}")]
    [Authorize(Policy = Policies.ReadCustomers)]
    public static async Task<IResult> GetProfile(string id, HttpRequest request, ClaimsPrincipal reader, IDocumentSession session, IPersonalDataProtector personal,
        CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var asOf = query.Instant("asOf");
        if (Validate(id, query) is { } problem)
        {
            return problem;
        }

        return await ViewAsync(session, personal, id, asOf, Roles.MayReadPersonalData(reader), cancellation) is { } view ? Results.Ok(view) : Unknown(id, asOf);
    }

    /// <summary>The profile with its summary and consents, as the endpoint answers it (and the console shows it); null when unknown.</summary>
    public static async Task<ProfileView?> ViewAsync(IDocumentSession session, IPersonalDataProtector personal, string id, DateTimeOffset? asOf,
        bool mayReadPersonalData, CancellationToken cancellation)
    {
        if (await ProfileStreams.FindAsync(session, personal, id, asOf, cancellation) is not { } profile)
        {
            return null;
        }

        var summary = await GetCustomerEndpoints.ProfileSummaryAsync(session, profile.Id, [.. profile.Members.Select(m => m.CustomerId)], asOf, cancellation);
        return ProfileView.Of(profile, asOf, mayReadPersonalData) with
        {
            Summary = summary is null ? null : ProfileSummary.From(summary),
            MarketingConsent = summary?.MarketingConsent,
            Consents = summary?.Consents ?? new Dictionary<string, ConsentStatus>(),
        };
    }

    /// <summary>Every member's complaint cases, newest first: the person's cases in one list.</summary>
    [WolverineGet("/api/profiles/{id}/complaints")]
    [Authorize(Policy = Policies.ReadComplaints)]
    public static async Task<IResult> GetComplaints(string id, HttpRequest request, IQuerySession session, CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var page = query.Integer("page", 1, 1, 100_000);
        var pageSize = query.Integer("pageSize", ComplaintReadEndpoints.DefaultPageSize, 1, ComplaintReadEndpoints.MaxPageSize);
        if (Validate(id, query) is { } problem)
        {
            return problem;
        }

        if (await ProfileStreams.FindMembersAsync(session, id, null, cancellation) is not { } profile)
        {
            return Unknown(id, null);
        }

        var cases = await CustomerComplaints.CasesAsync(session, [.. profile.Members.Select(m => m.CustomerId)], cancellation);
        return Results.Ok(new ProfileComplaintPage(profile.Id, cases.Count, page, pageSize, [.. cases.Skip((page - 1) * pageSize).Take(pageSize)]));
    }

    /// <summary>
    /// The members' journeys as one, in business-time order (ties by record time), each entry naming its member; with the
    /// profile's merges and splits as entries of their own (kinds "profiles-merged" and "profile-split").
    /// </summary>
    [WolverineGet("/api/profiles/{id}/journey")]
    [Authorize(Policy = Policies.ReadCustomers)]
    public static async Task<IResult> GetJourney(string id, HttpRequest request, ClaimsPrincipal reader, IQuerySession session, IPersonalDataProtector personal,
        UnreadablePersonalData unreadable, IOptions<JsonOptions> json, CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var asOf = query.Instant("asOf");
        var page = query.Integer("page", 1, 1, int.MaxValue);
        var pageSize = query.Integer("pageSize", GetCustomerEndpoints.DefaultPageSize, 1, GetCustomerEndpoints.MaxPageSize);
        if (Validate(id, query) is { } problem)
        {
            return problem;
        }

        if (await ProfileStreams.FindMembersAsync(session, id, asOf, cancellation) is not { } profile)
        {
            return Unknown(id, asOf);
        }

        var entries = new List<ProfileJourneyEntry>();
        foreach (var member in profile.Members)
        {
            var journey = await GetCustomerEndpoints.JourneyAsync(session, personal, unreadable, member.CustomerId, asOf, Roles.MayReadPersonalData(reader),
                json.Value.SerializerOptions, cancellation);
            entries.AddRange((journey?.Entries ?? []).Select(e => new ProfileJourneyEntry(member.CustomerId, e.Kind, e.OccurredAt, e.RecordedAt, e.Channel, e.Source,
                e.SourceId, e.CorrelationId, e.RecordedBy, e.Summary, e.MomentOfTruth, e.Data)));
        }

        entries.AddRange(await GraphEntriesAsync(session, profile.Id, asOf, json.Value.SerializerOptions, cancellation));
        var ordered = entries.OrderBy(e => e.OccurredAt).ThenBy(e => e.RecordedAt).ThenBy(e => e.Member, StringComparer.Ordinal).ToList();
        var slice = ordered.Skip((int)Math.Min((long)(page - 1) * pageSize, int.MaxValue)).Take(pageSize).ToList();
        return Results.Ok(new ProfileJourneyPage(profile.Id, asOf, profile.Members.Select(m => m.CustomerId).ToList(), ordered.Count, page, pageSize, slice));
    }

    /// <summary>
    /// The merges and splits on the profile's own stream (by <paramref name="asOf"/>), as entries of its journey: who decided,
    /// by which rule, who joined or left. Never a blind index or a split's free-text reason (those are on the profile).
    /// </summary>
    private static async Task<IEnumerable<ProfileJourneyEntry>> GraphEntriesAsync(IQuerySession session, string profileId, DateTimeOffset? asOf,
        JsonSerializerOptions json, CancellationToken cancellation)
    {
        var stream = await session.Events.FetchStreamAsync(profileId, timestamp: asOf, token: cancellation);
        return stream.Select(e => e.Data switch
        {
            ProfilesMerged m => Entry(e, m.To, "profiles-merged", m.MergedAt, m.DecidedBy, m.LinkId,
                $"{m.MergedProfileId} ({string.Join(", ", m.Merged.Members.Select(x => x.CustomerId))}) joined by {m.Rule}, linking {m.From} and {m.To}.",
                new { m.MergedProfileId, m.LinkId, m.From, m.To, m.Rule, Members = m.Merged.Members.Select(x => x.CustomerId), m.Evidence }),
            ProfileSplit x => Entry(e, x.CustomerId, "profile-split", x.SplitAt, x.DecidedBy, e.Id,
                $"{x.CustomerId} split off; {x.ReversedLinks.Count} link(s) reversed; left: {string.Join(", ", x.SplitOff.SelectMany(o => o.Contents.Members).Select(o => o.CustomerId))}.",
                new { x.CustomerId, x.ReversedLinks, SplitOff = x.SplitOff.Select(o => new { o.ProfileId, Members = o.Contents.Members.Select(y => y.CustomerId) }) }),
            _ => null,
        }).OfType<ProfileJourneyEntry>().ToList();

        ProfileJourneyEntry Entry(JasperFx.Events.IEvent e, string member, string kind, DateTimeOffset at, string decidedBy, Guid sourceId, string summary, object data) =>
            new(member, kind, at, e.Timestamp, "system", IdentitySource, sourceId.ToString(), e.CorrelationId, decidedBy, summary, false,
                JsonSerializer.SerializeToElement(data, json));
    }

    /// <summary>The source the identity graph's own entries carry on a profile's journey.</summary>
    public const string IdentitySource = "identity";

    /// <summary>A customer id, or a profile id ("pf~" and a customer id).</summary>
    public static bool IsValidId(string id) =>
        TouchpointCatalogue.IdPattern().IsMatch(ProfileIds.IsProfileId(id) ? ProfileIds.FounderOf(id) : id);

    public const string IdHint = "must be a customer id or a profile id (\"pf~\" and a customer id).";

    private static IResult? Validate(string id, ReadQuery query)
    {
        if (!IsValidId(id))
        {
            query.Errors.Add("id", IdHint);
        }

        return query.Errors.Any
            ? Results.ValidationProblem(query.Errors.ToDictionary(), title: "Invalid request", detail: "See errors for each parameter.")
            : null;
    }

    private static IResult Unknown(string id, DateTimeOffset? asOf) => Results.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Unknown profile",
        detail: asOf is null ? $"No profile or customer '{id}' is known." : $"No profile or customer '{id}' was known by {asOf:O}.");
}
