using System.Security.Claims;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Access;

/// <summary>
/// Which touchpoints a caller may write. This depends on the touchpoint itself (its source and channel), so it
/// is decided per item after the role check of <see cref="Policies.WriteTouchpoints"/> has let the caller in.
/// </summary>
public static class SourceOwnership
{
    /// <summary>The source of touchpoints that staff enter by hand, so they never collide with a system's ids.</summary>
    public const string StaffSource = "staff";

    /// <summary>
    /// No API key is issued for the staff source: its touchpoints and complaint steps are people's, each recorded
    /// under the person's own name. Any spelling, so "Staff" cannot pass for it on a journey either.
    /// </summary>
    public static bool IsReservedForPeople(string source) => string.Equals(source, StaffSource, StringComparison.OrdinalIgnoreCase);

    /// <summary>Null when allowed, else why not.</summary>
    public static string? Refusal(ClaimsPrincipal caller, Touchpoint touchpoint)
    {
        if (AccessClaims.IsSourceSystem(caller))
        {
            var owned = AccessClaims.SourceOf(caller);
            return touchpoint.Source == owned
                ? null
                : $"This API key belongs to source '{owned}' and may not post touchpoints of source '{touchpoint.Source}'.";
        }

        if (caller.IsInRole(Roles.Agent) || caller.IsInRole(Roles.Supervisor))
        {
            if (touchpoint.Source != StaffSource)
            {
                return $"Staff post touchpoints with source '{StaffSource}'; '{touchpoint.Source}' belongs to a source system.";
            }

            var channel = caller.FindFirst(AccessClaims.Channel)?.Value;
            return channel is null || channel == TouchpointCatalogue.NameOf(touchpoint.Channel) || caller.IsInRole(Roles.Supervisor)
                ? null
                : $"This agent posts touchpoints for channel '{channel}' only.";
        }

        return "Only source systems and service staff write touchpoints.";
    }
}
