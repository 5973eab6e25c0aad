using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Marten;

namespace CustomerJourney.WinBack;

/// <summary>Check these customers' purchases against the campaigns they belong to (after purchases arrived, or at a launch).</summary>
public sealed record AttributeWinBackPurchases(IReadOnlyList<string> CustomerIds);

public static class AttributeWinBackPurchasesHandler
{
    /// <summary>Appends each member's reactivation and redemption once, with the stream's version as expected.</summary>
    public static async Task Handle(AttributeWinBackPurchases command, IDocumentSession session, CancellationToken cancellation)
    {
        var ids = command.CustomerIds.Distinct(StringComparer.Ordinal).ToHashSet(StringComparer.Ordinal);
        var campaigns = await session.Query<WinBackCampaign>().Where(c => c.Status == CampaignStatus.Launched).ToListAsync(cancellation);
        var memberships = campaigns.SelectMany(c => c.Members.Where(m => ids.Contains(m.CustomerId)).Select(m => (Campaign: c, Member: m)))
            .GroupBy(x => x.Member.CustomerId, StringComparer.Ordinal);
        session.LastModifiedBy = LaunchWinBackCampaignHandler.Actor;
        await CustomerLocks.TakeAsync(session, memberships.Select(m => m.Key).ToList(), cancellation);
        foreach (var customer in memberships)
        {
            var stream = await session.Events.FetchStreamAsync(customer.Key, token: cancellation);
            var history = stream.Select(e => e.Data).OfType<Touchpoint>().ToList();
            var appended = new List<object>();
            foreach (var (campaign, member) in customer)
            {
                var outcomes = WinBackRules.Attribute(history, campaign, member);
                history.AddRange(outcomes);
                appended.AddRange(outcomes);
            }

            if (appended.Count > 0)
            {
                session.Events.Append(customer.Key, (stream.Count == 0 ? 0 : stream[^1].Version) + appended.Count, [.. appended]);
            }
        }
    }
}
