using System.Text.Json;
using CustomerJourney.Journeys;
using CustomerJourney.Touchpoints;
using JasperFx.Events;
using Marten;

namespace CustomerJourney.WinBack;

public sealed record CampaignMembership(string CampaignId, string Name, DateTimeOffset? At, AudienceGroup Group, string OfferCode, IReadOnlyList<string> Reasons);

public sealed record CampaignExclusion(string CampaignId, string Name, DateTimeOffset? At, IReadOnlyList<string> Reasons);

/// <summary>What win-back did with one customer: the campaigns that selected or excluded them, and what they met.</summary>
public sealed record CustomerWinBack(IReadOnlyList<CampaignMembership> Campaigns, IReadOnlyList<CampaignExclusion> ExcludedFrom, IReadOnlyList<JourneyEntry> Offers);

public static class CustomerWinBackHistory
{
    /// <summary>
    /// The customer's place in every launched campaign (as recorded in its audience) and their win-back touchpoints
    /// (offers sent, suppressed, redeemed; reactivations) from <paramref name="customerEvents"/>, their own stream.
    /// </summary>
    public static async Task<CustomerWinBack> ReadAsync(IQuerySession session, string customerId, IReadOnlyList<IEvent> customerEvents, JsonSerializerOptions json,
        CancellationToken cancellation)
    {
        // Campaigns are few and keep their audience inline; reading them all is simpler than a query into the member lists.
        var campaigns = await session.Query<WinBackCampaign>().Where(c => c.Status == CampaignStatus.Launched).ToListAsync(cancellation);
        var ordered = campaigns.OrderBy(c => c.AudienceAt).ThenBy(c => c.CampaignId, StringComparer.Ordinal).ToList();
        // A campaign selects people: the customer is in it as their profile's founder or as one of its members at selection.
        var memberships = ordered.SelectMany(c => c.Members.Where(m => m.People().Contains(customerId))
            .Select(m => new CampaignMembership(c.CampaignId, c.Name, c.AudienceAt, m.Group, m.OfferCode, m.Reasons))).ToList();
        var exclusions = ordered.SelectMany(c => c.Excluded.Where(x => x.CustomerId == customerId)
            .Select(x => new CampaignExclusion(c.CampaignId, c.Name, c.AudienceAt, x.Reasons))).ToList();
        var offers = customerEvents.Where(e => e.Data is Touchpoint t && WinBackRules.CampaignOf(t) is not null)
            .Select(e => ((Touchpoint)e.Data, e.Timestamp, e.Sequence, e.UserName, e.Id));
        // Win-back touchpoints carry no personal field: they are shown as stored.
        return new CustomerWinBack(memberships, exclusions, JourneyEntries.Build(offers, (t, _) => t, json));
    }
}
