using System.Security.Claims;
using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace CustomerJourney.Identity;

/// <summary>Merge two profiles by hand: each named by a profile id or a member's customer id.</summary>
public sealed record MergeProfiles(IReadOnlyList<string>? Profiles, string? Reason);

/// <summary>What a hand merge or split decided: the profile(s) it leaves, and the events it recorded.</summary>
public sealed record ProfileChange(string ProfileId, IReadOnlyList<string> Profiles, int Recorded);

public static class MergeProfilesEndpoint
{
    public static ProblemDetails Validate(MergeProfiles command)
    {
        var checks = new FieldChecks(new FieldErrors());
        if (command.Profiles is not { Count: 2 } profiles)
        {
            checks.Refuse("profiles", "must name exactly two profiles (profile ids or customer ids).");
        }
        else
        {
            for (var i = 0; i < 2; i++)
            {
                if (!GetProfileEndpoints.IsValidId(profiles[i]))
                {
                    checks.Refuse($"profiles[{i}]", GetProfileEndpoints.IdHint);
                }
            }
        }

        checks.FreeText("reason", command.Reason, required: false);
        return checks.Errors.Any ? Problems.Invalid(checks.Errors.ToDictionary(), "Invalid merge") : WolverineContinue.NoProblems;
    }

    /// <summary>200 with the merged profile's id; 404 naming an unknown profile; 409 when the merge would break a limit.</summary>
    [WolverinePost("/api/profiles/merges")]
    [Authorize(Policy = Policies.LinkProfiles)]
    public static async Task<IResult> Post(MergeProfiles command, ClaimsPrincipal caller, IQuerySession query, ProfileWriter writer, IdentityRules rules,
        TimeProvider clock, CancellationToken cancellation)
    {
        var members = new string[2];
        for (var i = 0; i < 2; i++)
        {
            // A profile id links through its founder (if it still belongs there); a customer id links that customer.
            var named = command.Profiles![i];
            if (await ProfileStreams.FindMembersAsync(query, named, null, cancellation) is not { } found)
            {
                return IdentityProblems.Unknown($"profiles[{i}]", named);
            }

            // An erased member has no lookups left to say where it is now; its profile, found through its stream, says it was erased.
            IdentityResolution.RefuseErased(found);

            members[i] = ProfileIds.IsProfileId(named) ? found.HasMember(ProfileIds.FounderOf(named)) ? ProfileIds.FounderOf(named) : found.Founder : named;
        }

        var decidedBy = AccessClaims.Actor(caller);
        var decided = await writer.DecideAsync(decidedBy, async (session, token) =>
        {
            var current = await CurrentProfilesAsync(session, members, token);
            return new ProfilePlan(current.Values.ToHashSet(StringComparer.Ordinal), profiles => IdentityResolution.Merge(
                profiles.GetValueOrDefault(current[members[0]]), members[0], profiles.GetValueOrDefault(current[members[1]]), members[1], decidedBy, rules,
                clock.GetUtcNow()));
        }, cancellation);

        var merged = await ProfileStreams.FindMembersAsync(query, members[0], null, cancellation);
        return Results.Ok(new ProfileChange(merged!.Id, [merged.Id], decided.Count));
    }

    /// <summary>Each customer's current profile id (its home profile when identity resolution has not seen it yet).</summary>
    public static async Task<Dictionary<string, string>> CurrentProfilesAsync(IQuerySession session, IReadOnlyCollection<string> customers, CancellationToken cancellation)
    {
        var memberships = (await session.LoadManyAsync<ProfileMembership>(cancellation, customers)).ToDictionary(m => m.Id, m => m.ProfileId, StringComparer.Ordinal);
        return customers.Distinct(StringComparer.Ordinal)
            .ToDictionary(c => c, c => memberships.GetValueOrDefault(c) ?? ProfileIds.HomeOf(c), StringComparer.Ordinal);
    }
}

/// <summary>The problem documents of the profile endpoints.</summary>
public static class IdentityProblems
{
    public static IResult Unknown(string field, string id) => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown profile",
        detail: $"No profile or customer '{id}' is known.", extensions: new Dictionary<string, object?> { ["field"] = field });
}

/// <summary>The one place a broken rule of the identity graph becomes an answer: its status (409 or 422) and the rule's name.</summary>
public sealed class IdentityRuleHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not IdentityRuleException broken)
        {
            return false;
        }

        httpContext.Response.StatusCode = broken.Status;
        var context = new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = { Status = broken.Status, Title = "Rule broken", Detail = broken.Message, Extensions = { ["rule"] = broken.Rule } },
        };
        foreach (var (name, value) in broken.Extensions)
        {
            context.ProblemDetails.Extensions[name] = value;
        }

        return await problems.TryWriteAsync(context);
    }
}
