using System.Security.Claims;
using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace CustomerJourney.Identity;

/// <summary>Separate <see cref="Member"/> (a customer id) from the profile.</summary>
public sealed record SplitProfile(string? Member, string? Reason);

public static class SplitProfileEndpoint
{
    public static ProblemDetails Validate(string id, SplitProfile command)
    {
        var checks = new FieldChecks(new FieldErrors());
        if (!GetProfileEndpoints.IsValidId(id))
        {
            checks.Refuse("id", GetProfileEndpoints.IdHint);
        }

        checks.Text("member", command.Member, pattern: TouchpointCatalogue.IdPattern(), patternHint: TouchpointCatalogue.IdHint);
        checks.FreeText("reason", command.Reason, required: false);
        return checks.Errors.Any ? Problems.Invalid(checks.Errors.ToDictionary(), "Invalid split") : WolverineContinue.NoProblems;
    }

    /// <summary>
    /// 200 with the profile and the profiles that left it; 404 for an unknown profile; 422 when the member is not in the
    /// profile or founded it.
    /// </summary>
    [WolverinePost("/api/profiles/{id}/splits")]
    [Authorize(Policy = Policies.LinkProfiles)]
    public static async Task<IResult> Post(string id, SplitProfile command, ClaimsPrincipal caller, IQuerySession query, ProfileWriter writer, TimeProvider clock,
        CancellationToken cancellation)
    {
        if (await ProfileStreams.FindMembersAsync(query, id, null, cancellation) is not { } named)
        {
            return IdentityProblems.Unknown("id", id);
        }

        var member = command.Member!;
        var decidedBy = AccessClaims.Actor(caller);
        var decided = await writer.DecideAsync(decidedBy, async (session, token) =>
        {
            // The profile as it is now (a merge may have moved its founder since it was named).
            var current = (await MergeProfilesEndpoint.CurrentProfilesAsync(session, [named.Founder], token))[named.Founder];
            return new ProfilePlan([current], profiles => IdentityResolution.Split(
                profiles.GetValueOrDefault(current) ?? Profile.Alone(named.Founder, clock.GetUtcNow()), member, decidedBy, command.Reason, clock.GetUtcNow()));
        }, cancellation);
        return Results.Ok(new ProfileChange(decided[0].ProfileId, [.. decided.Select(d => d.ProfileId).Distinct(StringComparer.Ordinal)], decided.Count));
    }
}
