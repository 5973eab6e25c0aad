using System.Security.Claims;
using System.Text.Json;
using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace CustomerJourney.Identity;

/// <summary>
/// One event of a profile's own stream as its audit trail shows it: what changed who counts as one person, who decided
/// it, by which rule, on which evidence. Blind indexes never appear; a split's free-text reason only for roles that read
/// personal data.
/// </summary>
public sealed record ProfileAuditEntry(long Version, long Sequence, string Type, DateTimeOffset RecordedAt, string? RecordedBy, string? DecidedBy, string? Rule,
    IReadOnlyList<string> Joined, IReadOnlyList<string> Left, IReadOnlyList<Evidence> Evidence, string? Reason, string? CorrelationId);

public sealed record ProfileAuditTrail(string ProfileId, DateTimeOffset? AsOf, IReadOnlyList<ProfileAuditEntry> Entries);

public static class ProfileAuditEndpoint
{
    /// <summary>Every event on the profile's own stream, in order (?asOf= for those recorded by then): the trail of its merges, splits, conflicts and erasure.</summary>
    [WolverineGet("/api/profiles/{id}/audit")]
    [Authorize(Policy = Policies.ReadCustomers)]
    public static async Task<IResult> Get(string id, HttpRequest request, ClaimsPrincipal reader, IQuerySession session, CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var asOf = query.Instant("asOf");
        if (!GetProfileEndpoints.IsValidId(id))
        {
            query.Errors.Add("id", GetProfileEndpoints.IdHint);
        }

        if (query.Errors.Any)
        {
            return Results.ValidationProblem(query.Errors.ToDictionary(), title: "Invalid request", detail: "See errors for each parameter.");
        }

        if (await ProfileStreams.FindMembersAsync(session, id, asOf, cancellation) is not { } profile)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown profile", detail: $"No profile or customer '{id}' is known.");
        }

        var stream = await session.Events.FetchStreamAsync(profile.Id, timestamp: asOf, token: cancellation);
        var personal = Roles.MayReadPersonalData(reader);
        return Results.Ok(new ProfileAuditTrail(profile.Id, asOf, [.. stream.Select(e => Entry(e, personal))]));
    }

    public static ProfileAuditEntry Entry(JasperFx.Events.IEvent e, bool mayReadPersonalData)
    {
        var type = JsonNamingPolicy.KebabCaseLower.ConvertName(e.Data.GetType().Name);
        ProfileAuditEntry Make(string? decidedBy = null, string? rule = null, IReadOnlyList<string>? joined = null, IReadOnlyList<string>? left = null,
            IReadOnlyList<Evidence>? evidence = null, string? reason = null) =>
            new(e.Version, e.Sequence, type, e.Timestamp, e.UserName, decidedBy, rule, joined ?? [], left ?? [], evidence ?? [],
                reason is null ? null : mayReadPersonalData ? reason : PersonalFields.Redacted, e.CorrelationId);

        return e.Data switch
        {
            ProfileStarted s => Make(joined: [s.CustomerId]),
            ProfileIdentifierRecorded r => Make(rule: JsonNamingPolicy.KebabCaseLower.ConvertName(r.IdentifierType.ToString()), evidence: [new Evidence(r.TouchpointId, r.CustomerId)]),
            ProfilesMerged m => Make(m.DecidedBy, m.Rule, [.. m.Merged.Members.Select(x => x.CustomerId)], evidence: m.Evidence),
            ProfileAbsorbed a => Make(rule: "absorbed", left: [ProfileIds.FounderOf(a.ProfileId)]),
            ProfileSplit s => Make(s.DecidedBy, "split", left: [.. s.SplitOff.SelectMany(o => o.Contents.Members).Select(x => x.CustomerId)], reason: s.Reason),
            ProfileRestored r => Make(rule: "restored", joined: [.. r.Contents.Members.Select(x => x.CustomerId)]),
            ProfileLinkConflict c => Make("identity-resolution", c.Rule, evidence: c.Evidence),
            ProfileErased x => Make(x.ErasedBy, "erased", left: x.Members),
            _ => Make(),
        };
    }
}
