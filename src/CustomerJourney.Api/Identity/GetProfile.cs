using System.Security.Claims;
using System.Text.Json;
using CustomerJourney.Access;
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

/// <summary>A profile as GET /api/profiles/{id} shows it; identifiers are blind indexes, and [redacted] for roles that see no personal data.</summary>
public sealed record ProfileView(string ProfileId, DateTimeOffset? AsOf, IReadOnlyList<ProfileMember> Members, IReadOnlyList<ProfileIdentifierView> Identifiers,
    IReadOnlyList<ProfileLinkView> Links, IReadOnlyList<ProfileConflictView> Conflicts)
{
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

public static class GetProfileEndpoints
{
    /// <summary>The profile a profile id or any member's customer id names; ?asOf= answers with the graph as it stood at that record time.</summary>
    [WolverineGet("/api/profiles/{id}")]
    [Authorize(Policy = Policies.ReadCustomers)]
    public static async Task<IResult> GetProfile(string id, HttpRequest request, ClaimsPrincipal reader, IQuerySession session, IPersonalDataProtector personal,
        CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var asOf = query.Instant("asOf");
        if (Validate(id, query) is { } problem)
        {
            return problem;
        }

        return await ProfileStreams.FindAsync(session, personal, id, asOf, cancellation) is { } profile
            ? Results.Ok(ProfileView.Of(profile, asOf, Roles.MayReadPersonalData(reader)))
            : Unknown(id, asOf);
    }

    /// <summary>The members' journeys as one, in business-time order (ties by record time), each entry naming its member.</summary>
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

        var ordered = entries.OrderBy(e => e.OccurredAt).ThenBy(e => e.RecordedAt).ThenBy(e => e.Member, StringComparer.Ordinal).ToList();
        var slice = ordered.Skip((int)Math.Min((long)(page - 1) * pageSize, int.MaxValue)).Take(pageSize).ToList();
        return Results.Ok(new ProfileJourneyPage(profile.Id, asOf, profile.Members.Select(m => m.CustomerId).ToList(), ordered.Count, page, pageSize, slice));
    }

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
