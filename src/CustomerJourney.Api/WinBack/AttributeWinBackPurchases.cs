using CustomerJourney.Identity;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Marten;

namespace CustomerJourney.WinBack;

/// <summary>Check these customers' purchases against the campaigns their people belong to (after purchases arrived, or at a launch).</summary>
public sealed record AttributeWinBackPurchases(IReadOnlyList<string> CustomerIds);

public static class AttributeWinBackPurchasesHandler
{
    /// <summary>
    /// A purchase by any member counts for the person: for each audience member in a buyer's current profile, the whole
    /// profile's touchpoints are attributed, and the reactivation and redemption are appended on the audience member's own
    /// stream, with its version as expected. One stream per person and campaign is what keeps each outcome once when two
    /// members buy at the same moment, and it is the stream the report counts the person by; the outcome names the order,
    /// so which member bought stays on record.
    /// </summary>
    public static async Task Handle(AttributeWinBackPurchases command, IDocumentSession session, CancellationToken cancellation)
    {
        var profiles = await ProfileGraph.MembersNowAsync(session, command.CustomerIds, cancellation);
        var people = profiles.Values.DistinctBy(p => p.ProfileId).ToDictionary(p => p.ProfileId, StringComparer.Ordinal);
        var campaigns = await session.Query<WinBackCampaign>().Where(c => c.Status == CampaignStatus.Launched).ToListAsync(cancellation);
        var personOf = people.Values.SelectMany(p => p.Members.Select(m => (Member: m, Person: p))).ToDictionary(x => x.Member, x => x.Person, StringComparer.Ordinal);
        var memberships = campaigns.SelectMany(c => c.Members.Where(m => personOf.ContainsKey(m.CustomerId)).Select(m => (Campaign: c, Member: m)))
            .GroupBy(x => x.Member.CustomerId, StringComparer.Ordinal).ToList();
        session.LastModifiedBy = LaunchWinBackCampaignHandler.Actor;
        await CustomerLocks.TakeAsync(session, [.. memberships.SelectMany(m => personOf[m.Key].Members).Distinct(StringComparer.Ordinal)], cancellation);
        var streams = new Dictionary<string, IReadOnlyList<JasperFx.Events.IEvent>>(StringComparer.Ordinal);
        foreach (var audienceMember in memberships)
        {
            foreach (var member in personOf[audienceMember.Key].Members.Where(m => !streams.ContainsKey(m)))
            {
                streams[member] = await session.Events.FetchStreamAsync(member, token: cancellation);
            }

            var own = streams[audienceMember.Key];
            var history = personOf[audienceMember.Key].Members.SelectMany(m => streams[m]).OrderBy(e => e.Sequence).Select(e => e.Data).OfType<Touchpoint>().ToList();
            var appended = new List<object>();
            foreach (var (campaign, member) in audienceMember)
            {
                var outcomes = WinBackRules.Attribute(history, campaign, member);
                history.AddRange(outcomes);
                appended.AddRange(outcomes);
            }

            if (appended.Count > 0)
            {
                session.Events.Append(audienceMember.Key, (own.Count == 0 ? 0 : own[^1].Version) + appended.Count, [.. appended]);
            }
        }
    }
}
