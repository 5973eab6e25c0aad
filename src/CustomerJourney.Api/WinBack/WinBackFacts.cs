using CustomerJourney.Access;
using CustomerJourney.Complaints;
using CustomerJourney.Identity;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Marten;

namespace CustomerJourney.WinBack;

/// <summary>Reads what selection needs of every customer in a few queries, rather than one stream at a time.</summary>
public static class WinBackFacts
{
    /// <summary>
    /// Every person's facts: each customer's touchpoints (their own and their complaint cases' steps), erasure and case
    /// spans, joined per profile as the graph stands now (<see cref="CustomerFacts.OfProfile"/>), so a person seen under
    /// several customer ids is assessed once, on everything they did. The whole
    /// history is read because selection evaluates the flag rules at the campaign's own instant; at the scale of the
    /// CDNOW cohort that is a few seconds, and the note in the README says what a larger store would need.
    /// </summary>
    /// <remarks>
    /// A stream with an event that cannot be read is left out whole, and its customer (for a complaint case, the case's
    /// customer) comes back marked unreadable: excluded, never judged on what could be read.
    /// </remarks>
    public static async Task<IReadOnlyList<CustomerFacts>> LoadAsync(IQuerySession session, UnreadableStreams unreadable, CancellationToken cancellation)
    {
        var (events, leftOut) = await ReadableEvents.QueryAsync(session, q => q
            .Where(e => !e.StreamKey!.StartsWith(WinBackCampaign.StreamPrefix) && !e.StreamKey!.StartsWith("churn-models/"))
            .OrderBy(e => e.Sequence), unreadable, cancellation);
        unreadable.ReadAllBut(leftOut);
        var allCases = await session.Query<ComplaintCase>().ToListAsync(cancellation);
        var cases = allCases.ToLookup(c => c.CustomerId, StringComparer.Ordinal);
        var unreadableCustomers = leftOut.Where(k => !k.Contains('/', StringComparison.Ordinal))
            .Concat(allCases.Where(c => leftOut.Contains(c.Id)).Select(c => c.CustomerId)).ToHashSet(StringComparer.Ordinal);

        var history = new Dictionary<string, List<(Guid, Touchpoint)>>(StringComparer.Ordinal);
        var breaches = new Dictionary<string, List<(Guid, ComplaintSlaBreached)>>(StringComparer.Ordinal);
        var erased = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            switch (e.Data)
            {
                case Touchpoint t:
                    if (!history.TryGetValue(t.CustomerId, out var list))
                    {
                        history[t.CustomerId] = list = [];
                    }

                    list.Add((e.Id, t));
                    break;
                case CustomerErased x:
                    erased.Add(x.CustomerId);
                    break;
                case ComplaintSlaBreached b:
                    if (!breaches.TryGetValue(b.CustomerId, out var recorded))
                    {
                        breaches[b.CustomerId] = recorded = [];
                    }

                    recorded.Add((e.Id, b));
                    break;
            }
        }

        foreach (var customer in unreadableCustomers)
        {
            history.TryAdd(customer, []);
        }

        var customers = history.Select(h => new CustomerFacts(h.Key, h.Value, erased.Contains(h.Key), [.. cases[h.Key]], breaches.GetValueOrDefault(h.Key) ?? [],
            unreadableCustomers.Contains(h.Key)));
        var graph = await ProfileGraph.MapAsync(session, asOf: null, cancellation);
        return graph.GroupByProfile(customers, f => f.CustomerId).Select(p => CustomerFacts.OfProfile(p.Key, p)).ToList();
    }

    /// <summary>The customers of the people in launched campaigns (other than <paramref name="except"/>) whose window holds <paramref name="at"/>.</summary>
    public static async Task<IReadOnlySet<string>> InRunningCampaignsAsync(IQuerySession session, DateTimeOffset at, string? except, CancellationToken cancellation)
    {
        var launched = await session.Query<WinBackCampaign>().Where(c => c.Status == CampaignStatus.Launched).ToListAsync(cancellation);
        return launched.Where(c => c.CampaignId != except && c.Window is { } w && w.From <= at && at <= w.To)
            .SelectMany(c => c.Members.SelectMany(m => m.People())).ToHashSet(StringComparer.Ordinal);
    }
}
