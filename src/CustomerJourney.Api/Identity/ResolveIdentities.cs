using System.Diagnostics;
using CustomerJourney.Touchpoints;
using CustomerJourney.TrackingApi;
using Marten;

namespace CustomerJourney.Identity;

/// <summary>
/// Matching runs right after the ingest transaction, through Wolverine's outbox: the ledger publishes
/// <see cref="TouchpointsAppended"/> in the same commit as the touchpoints, so exactly what was committed is matched, even
/// if the process dies right after the commit (the durable inbox hands it over again; a repeat decides nothing). Not in
/// the ledger's own transaction: a merge locks profiles, and holding those locks inside an ingest batch that already
/// holds its customers' locks would widen every batch's critical section and order two kinds of lock against each other.
/// </summary>
public static class ResolveIdentitiesHandler
{
    public static Task Handle(TouchpointsAppended appended, IdentityResolver resolver, CancellationToken cancellation) =>
        resolver.ResolveAsync(appended.Touchpoints, cancellation);
}

/// <summary>Reads the identifiers committed touchpoints carry and hands each touchpoint's to the rules.</summary>
public sealed class IdentityResolver(IDocumentStore store, IPersonalDataProtector personal, BlindIndex index, IdentityRules rules, TrackingKeys tracking,
    ProfileWriter writer, IdentityMetrics metrics, TimeProvider clock)
{
    public async Task ResolveAsync(IReadOnlyList<AppendedTouchpoint> appended, CancellationToken cancellation)
    {
        if (appended.Count == 0)
        {
            return;
        }

        await using var query = store.QuerySession();
        var ids = appended.Select(a => a.EventId).ToArray();
        var events = await query.Events.QueryAllRawEvents().Where(e => e.Id.IsOneOf(ids)).OrderBy(e => e.Sequence).ToListAsync(cancellation);
        var customers = appended.Select(a => a.CustomerId).Distinct(StringComparer.Ordinal).ToList();
        var known = (await query.LoadManyAsync<ProfileMembership>(cancellation, customers)).Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        var cipher = await personal.ForCustomersAsync(customers, forWriting: false, cancellation);
        Func<string, string>? customerIdFor = tracking.Configured ? tracking.Pseudonyms.CustomerIdFor : null;

        foreach (var @event in events)
        {
            if (@event.Data is not Touchpoint touchpoint)
            {
                continue;
            }

            // An erased or unreadable field shows nothing, which never links ("" is blocked).
            var opened = PersonalFields.Map(touchpoint, stored => cipher.Open(touchpoint.CustomerId, stored) is { State: OpenedState.Opened, Plaintext: { } p } ? p : "");
            var carried = Identifiers.Carried(opened, customerIdFor);
            var identifiers = Identifiers.Indexed(carried, rules, index);
            if (identifiers.Count <= 1)
            {
                // Only its own customer id (a purchase, a survey answer: most touchpoints): nothing to link. A customer that
                // never shows more needs no profile stream; it reads as a profile of one (ProfileStreams.FindAsync).
                continue;
            }

            // An alias names another customer: it gets its profile first, so the alias has a profile to link to.
            foreach (var aliased in carried.Where(c => c.Type == IdentifierType.CustomerId && c.Value != touchpoint.CustomerId).Select(c => c.Value).Distinct())
            {
                if (!known.Contains(aliased) && await query.LoadAsync<ProfileMembership>(aliased, cancellation) is null)
                {
                    IReadOnlyList<Identifier> own = [index.Of(IdentifierType.CustomerId, aliased)];
                    await ObserveAsync(aliased, @event.Id, own, cancellation);
                    known.Add(aliased);
                }
            }

            await ObserveAsync(touchpoint.CustomerId, @event.Id, identifiers, cancellation);
            known.Add(touchpoint.CustomerId);
        }
    }

    private Task<IReadOnlyList<ProfileEvent>> ObserveAsync(string customerId, Guid touchpointId, IReadOnlyList<Identifier> identifiers, CancellationToken cancellation) =>
        writer.DecideAsync(IdentityResolution.Resolver, (session, token) => PlanObservationAsync(session, customerId, touchpointId, identifiers, token), cancellation);

    private async Task<ProfilePlan> PlanObservationAsync(IQuerySession session, string customerId, Guid touchpointId, IReadOnlyList<Identifier> identifiers,
        CancellationToken cancellation)
    {
        var started = Stopwatch.GetTimestamp();
        var own = (await session.LoadAsync<ProfileMembership>(customerId, cancellation))?.ProfileId;
        var keys = identifiers.Where(i => rules.Links(i.Type)).Select(IdentifierHolder.KeyOf).ToArray();
        var holders = keys.Length == 0 ? [] : await session.Query<IdentifierHolder>().Where(h => h.Key.IsOneOf(keys)).ToListAsync(cancellation);
        var memberships = (await session.LoadManyAsync<ProfileMembership>(cancellation, holders.Select(h => h.CustomerId).Distinct(StringComparer.Ordinal)))
            .ToDictionary(m => m.Id, m => m.ProfileId, StringComparer.Ordinal);
        metrics.Resolved(started, keys.Length);
        var ownId = own ?? ProfileIds.HomeOf(customerId);
        var involved = memberships.Values.Append(ownId).ToHashSet(StringComparer.Ordinal);
        var now = clock.GetUtcNow();

        return new ProfilePlan(involved, profiles =>
        {
            var byIdentifier = identifiers.ToDictionary(i => i, i => (IReadOnlyList<Profile>)holders
                .Where(h => h.Key == IdentifierHolder.KeyOf(i) && memberships.ContainsKey(h.CustomerId))
                .Select(h => memberships[h.CustomerId]).Distinct(StringComparer.Ordinal)
                .Where(profiles.ContainsKey).Select(p => profiles[p]).ToList());
            return IdentityResolution.Observe(own is null ? null : profiles.GetValueOrDefault(own), customerId, touchpointId, identifiers, byIdentifier, rules, now);
        });
    }
}
