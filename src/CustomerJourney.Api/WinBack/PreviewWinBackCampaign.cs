using System.Security.Claims;
using CustomerJourney.Access;
using CustomerJourney.Churn;
using CustomerJourney.Complaints;
using CustomerJourney.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Wolverine.Http;

namespace CustomerJourney.WinBack;

/// <summary>
/// The audience a campaign would select, before it is planned: <see cref="CampaignId"/> and <see cref="Seed"/> are the
/// ones planning the same body (with the same Idempotency-Key) gives it, so a launch on the same data splits the same
/// people. <see cref="Exclusions"/> counts each reason once per excluded person (a person can have several).
/// </summary>
public sealed record CampaignPreview(string CampaignId, int Seed, DateTimeOffset At, DateTimeOffset LaunchAt, Guid? ModelId, bool? Converged, int Audience,
    int Treatment, int Control, int Excluded, IReadOnlyDictionary<string, int> Exclusions);

public static class PreviewWinBackCampaignEndpoint
{
    /// <summary>
    /// The audience size of a campaign as planned with this body and launched at its launch time on today's data: the
    /// plan's own validation and fit check, then the launch's own selection (<see cref="LaunchWinBackCampaignHandler.SelectAudienceAsync"/>).
    /// Records nothing. Marketing's, like planning: it is the first step of planning.
    /// </summary>
    [WolverinePost("/api/winback/campaigns/preview")]
    [Authorize(Policy = Policies.RunWinBack)]
    public static async Task<IResult> Preview(HttpRequest request, ClaimsPrincipal marketer, IQuerySession session, TimeProvider clock, IOptions<ChurnOptions> churn,
        IOptions<WinBackOptions> options, SlaPolicies sla, UnreadableStreams unreadable, CancellationToken cancellation)
    {
        var read = await WinBackCampaignEndpoints.ReadPlanAsync(request, marketer, clock.GetUtcNow(), options.Value, cancellation);
        if (read.Problem is { } invalid)
        {
            return invalid;
        }

        var (planned, model, refused) = await WinBackCampaignEndpoints.PinModelAsync(session, read.Planned!, cancellation);
        if (refused is not null)
        {
            return refused;
        }

        // Launched at its launch time, as the scheduled launch will be.
        var campaign = WinBackCampaign.Fold(null, planned)!;
        var (at, _, members, excluded) = await LaunchWinBackCampaignHandler.SelectAudienceAsync(session, campaign, planned.LaunchAt, churn.Value, options.Value, sla,
            unreadable, cancellation);
        var reasons = excluded.SelectMany(e => e.Reasons).GroupBy(r => r, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return Results.Ok(new CampaignPreview(planned.CampaignId, planned.Seed, at, planned.LaunchAt, model?.ModelId, model is null ? null : ChurnModels.Converged(model),
            members.Count, members.Count(m => m.Group == AudienceGroup.Treatment), members.Count(m => m.Group == AudienceGroup.Control), excluded.Count, reasons));
    }
}
