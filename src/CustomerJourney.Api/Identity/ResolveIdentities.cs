using System.Collections.Concurrent;
using System.Diagnostics;
using CustomerJourney.Touchpoints;
using CustomerJourney.TrackingApi;
using Marten;
using Npgsql;

namespace CustomerJourney.Identity;

/// <summary>
/// Matching runs right after the ingest transaction, through Wolverine's outbox: the ledger publishes
/// <see cref="TouchpointsAppended"/> in the same commit as the touchpoints, so exactly what was committed is matched, even
/// if the process dies right after the commit (the durable inbox hands it over again; a repeat decides nothing). Not in
/// the ledger's own transaction: a merge locks profiles, and holding those locks inside an ingest batch that already
/// holds its customers' locks would widen every batch's critical section and order two kinds of lock against each other.
/// Wolverine hands the commits over in batches (up to <see cref="BatchSize"/>, or what arrived within
/// <see cref="TriggerTime"/>): most of a resolution is its three reads, so 500 single posts cost a few resolutions, not
/// 500 queued one after another (which once kept an e-mail out of the blind index for three minutes under load).
/// </summary>
public static class ResolveIdentitiesHandler
{
    public const int BatchSize = 100;
    public static readonly TimeSpan TriggerTime = TimeSpan.FromMilliseconds(100);

    public static Task Handle(TouchpointsAppended[] batch, IdentityResolver resolver, CancellationToken cancellation) =>
        resolver.ResolveAsync([.. batch.SelectMany(b => b.Touchpoints)], cancellation);
}

/// <summary>Reads the identifiers committed touchpoints carry and hands each touchpoint's to the rules.</summary>
public sealed class IdentityResolver(IDocumentStore store, IPersonalDataProtector personal, BlindIndex index, IdentityRules rules, TrackingKeys tracking,
    ProfileWriter writer, IdentityMetrics metrics, TimeProvider clock)
{
    /// <summary>
    /// How many customers of one committed batch are resolved at once: one per core. More only queue for CPU inside the
    /// lookups (on 2 cores the identity benchmark's lookup p99 went from 10.7 ms with 4 at once to 8.2 ms with 2).
    /// </summary>
    private static readonly int ConcurrentCustomers = Environment.ProcessorCount;

    /// <summary>
    /// How many touchpoints one pass reads and decides. Wolverine hands over up to <see cref="ResolveIdentitiesHandler.BatchSize"/>
    /// commits at once, and a commit of a batch holds up to thousands of touchpoints: under the tracking workload a backlog
    /// handed over whole held some 50,000 events in memory at once (a heap dump at the service's peak).
    /// </summary>
    public const int TouchpointsPerPass = 1_000;

    /// <summary>Passes in commit order, one after another, so each customer's touchpoints are still decided in the order recorded.</summary>
    public async Task ResolveAsync(IReadOnlyList<AppendedTouchpoint> appended, CancellationToken cancellation)
    {
        foreach (var pass in appended.Chunk(TouchpointsPerPass))
        {
            await ResolvePassAsync(pass, cancellation);
        }
    }

    private async Task ResolvePassAsync(IReadOnlyList<AppendedTouchpoint> appended, CancellationToken cancellation)
    {
        await using var query = store.QuerySession();
        var ids = appended.Select(a => a.EventId).ToArray();
        var customers = appended.Select(a => a.CustomerId).Distinct(StringComparer.Ordinal).ToList();
        // By stream too: mt_events has no index on the event id, only on (stream id, version); by id alone this read scanned
        // the whole event store for every committed batch (the identity benchmark found it).
        var streams = customers.ToArray();
        var events = await query.Events.QueryAllRawEvents().Where(e => e.StreamKey!.IsOneOf(streams) && e.Id.IsOneOf(ids)).OrderBy(e => e.Sequence)
            .ToListAsync(cancellation);
        var cipher = await personal.ForCustomersAsync(customers, forWriting: false, cancellation);
        Func<string, string>? customerIdFor = tracking.Configured ? tracking.Pseudonyms.CustomerIdFor : null;

        var observations = new List<Observation>();
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

            var aliased = carried.Where(c => c.Type == IdentifierType.CustomerId && c.Value != touchpoint.CustomerId).Select(c => c.Value).Distinct().ToList();
            observations.Add(new Observation(touchpoint.CustomerId, @event.Id, identifiers, aliased, [.. identifiers.Where(i => rules.Links(i.Type)).Select(IdentifierHolder.KeyOf)]));
        }

        var byCustomer = observations.GroupBy(o => o.CustomerId, StringComparer.Ordinal).ToList();
        if (byCustomer.Count == 0)
        {
            return;
        }

        // The pass's customers sorted by one lookup: those whose touchpoints are all reflected already need nothing; first
        // sightings of identifiers nobody else holds or shows start their profiles together; the rest are decided one by one.
        var (firstSightings, others, placed) = await SortAsync(query, byCustomer, cancellation);
        // Customers known to have a profile: an alias naming one needs no lookup of its own.
        var seen = new ConcurrentDictionary<string, bool>(placed.Select(k => KeyValuePair.Create(k, true)), StringComparer.Ordinal);
        if (firstSightings.Count > 0)
        {
            var started = await StartProfilesAsync(firstSightings, cancellation);
            others.AddRange(firstSightings.Where(c => !started.Contains(c.Key)));
            foreach (var customer in started)
            {
                seen[customer] = true;
            }
        }

        // Each customer's touchpoints in the order they were recorded; different customers side by side, since most of a
        // decision is waiting on PostgreSQL. Decisions that meet on a profile take turns on its lock (ProfileWriter).
        await Parallel.ForEachAsync(others, new ParallelOptions { MaxDegreeOfParallelism = ConcurrentCustomers, CancellationToken = cancellation }, async (customer, token) =>
        {
            foreach (var (customerId, touchpointId, identifiers, aliasedCustomers, _) in customer)
            {
                // An alias names another customer: it gets its profile first, so the alias has a profile to link to.
                foreach (var aliased in aliasedCustomers.Where(a => !seen.ContainsKey(a)))
                {
                    await using var lookup = store.QuerySession();
                    if (await lookup.LoadAsync<ProfileMembership>(aliased, token) is null)
                    {
                        IReadOnlyList<Identifier> own = [index.Of(IdentifierType.CustomerId, aliased)];
                        await ObserveAsync(aliased, touchpointId, own, token);
                    }

                    seen[aliased] = true;
                }

                await ObserveAsync(customerId, touchpointId, identifiers, token);
                seen[customerId] = true;
            }
        });
    }

    /// <summary>A touchpoint that showed more than its customer id, and the keys of the identifiers that link.</summary>
    private sealed record Observation(string CustomerId, Guid TouchpointId, IReadOnlyList<Identifier> Identifiers, IReadOnlyList<string> Aliased,
        IReadOnlyList<string> LinkingKeys);

    /// <summary>
    /// What one round trip shows about a pass: each customer's profile, the holders of the linking keys (key, customer,
    /// its profile), which of the keys each customer holds itself, and which home profiles have a stream.
    /// </summary>
    private sealed record PassLookup(Dictionary<string, string>? Own, IReadOnlyList<string?[]> Holders, IReadOnlyList<string> Held, IReadOnlyList<string> Streams);

    private async Task<PassLookup> LookUpPassAsync(IQuerySession session, IReadOnlyCollection<IGrouping<string, Observation>> customers, CancellationToken cancellation)
    {
        var started = Stopwatch.GetTimestamp();
        var options = session.DocumentStore.Options;
        var (memberships, holders) = (options.Schema.For<ProfileMembership>(), options.Schema.For<IdentifierHolder>());
        // The pass's answer runs to hundreds of KiB: it is streamed as UTF-8 (bytea, read sequentially) into the
        // deserializer, not read as one string and transcoded (a large string, and a buffer three times its length rented
        // from the shared array pool, which keeps it; heap snapshots under the tracking workload found dozens kept).
        var sql = $"""
            select convert_to(jsonb_build_object(
                'own', (select jsonb_object_agg(id, data ->> 'profileId') from {memberships} where id = any($1)),
                'holders', coalesce((select jsonb_agg(jsonb_build_array(h.data ->> 'key', h.data ->> 'customerId', m.data ->> 'profileId'))
                    from {holders} h left join {memberships} m on m.id = h.data ->> 'customerId'
                    where h.data ->> 'key' = any($2)), '[]'::jsonb),
                'held', coalesce((select jsonb_agg(id) from {holders} where id = any($3)), '[]'::jsonb),
                'streams', coalesce((select jsonb_agg(id) from {options.Events.DatabaseSchemaName}.mt_streams where id = any($4)), '[]'::jsonb))::text, 'UTF8')
            """;
        var ids = customers.Select(c => c.Key).ToArray();
        var keys = customers.SelectMany(c => c.SelectMany(o => o.LinkingKeys)).Distinct(StringComparer.Ordinal).ToArray();
        var held = customers.SelectMany(c => c.SelectMany(o => o.Identifiers).Select(IdentifierHolder.KeyOf).Distinct(StringComparer.Ordinal)
            .Select(k => IdentifierHolder.IdOf(k, c.Key))).ToArray();
        var homes = ids.Select(ProfileIds.HomeOf).ToArray();
        // A decision's session holds its transaction and locks: the lookup is read there. A query session lends no
        // connection (asking it for one opens one and begins a transaction that stays open as long as the session, a
        // whole pass): the lookup takes a connection of its own for this one command, as Marten's own reads do.
        await using var own = session is IDocumentSession ? null : session.Database.CreateConnection();
        if (own is not null)
        {
            await own.OpenAsync(cancellation);
        }

        var connection = own ?? session.Connection;
        await using var query = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = ids }, new() { Value = keys }, new() { Value = held }, new() { Value = homes } } };
        await using var reader = await query.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellation);
        await reader.ReadAsync(cancellation);
        await using var json = await reader.GetStreamAsync(0, cancellation);
        var found = await System.Text.Json.JsonSerializer.DeserializeAsync<PassLookup>(json, LookupJson, cancellation);
        metrics.PassLookedUp(started);
        return found!;
    }

    /// <summary>
    /// Customers whose every touchpoint is reflected already are left out (<see cref="IdentityResolution.AlreadyReflected"/>:
    /// deciding them now decides nothing, whatever the pass's other customers decide after). First sightings: customers
    /// identity resolution has not seen (no profile, no home profile stream: that would be an erased one), no alias,
    /// every linking identifier held by nobody and shown by no other customer of the pass. The rest, in pass order; and the customers the lookup found in a profile.
    /// </summary>
    private async Task<(List<IGrouping<string, Observation>> FirstSightings, List<IGrouping<string, Observation>> Others, IReadOnlyCollection<string> Placed)> SortAsync(IQuerySession session,
        List<IGrouping<string, Observation>> byCustomer, CancellationToken cancellation)
    {
        var found = await LookUpPassAsync(session, byCustomer, cancellation);
        var own = found.Own ?? [];
        var held = found.Held.ToHashSet(StringComparer.Ordinal);
        var holdersByKey = found.Holders.ToLookup(h => h[0]!, StringComparer.Ordinal);
        var streams = found.Streams.ToHashSet(StringComparer.Ordinal);
        var shownBy = byCustomer.SelectMany(c => c.SelectMany(o => o.LinkingKeys).Distinct(StringComparer.Ordinal).Select(k => (Key: k, Customer: c.Key)))
            .ToLookup(x => x.Key, x => x.Customer, StringComparer.Ordinal);
        var (firstSightings, others) = (new List<IGrouping<string, Observation>>(), new List<IGrouping<string, Observation>>());
        foreach (var customer in byCustomer)
        {
            var profileId = own.GetValueOrDefault(customer.Key);
            var keys = customer.SelectMany(o => o.Identifiers).Select(IdentifierHolder.KeyOf).ToHashSet(StringComparer.Ordinal);
            var heldByCustomer = keys.Where(k => held.Contains(IdentifierHolder.IdOf(k, customer.Key))).ToHashSet(StringComparer.Ordinal);
            if (customer.All(o => IdentityResolution.AlreadyReflected(profileId, [.. o.Identifiers.Select(IdentifierHolder.KeyOf).Distinct(StringComparer.Ordinal)],
                    heldByCustomer, o.LinkingKeys.SelectMany(k => holdersByKey[k]).Select(h => h[2]))))
            {
                continue;
            }

            var firstSighting = profileId is null && !streams.Contains(ProfileIds.HomeOf(customer.Key)) && customer.All(o => o.Aliased.Count == 0)
                && customer.SelectMany(o => o.LinkingKeys).All(k => !holdersByKey[k].Any() && shownBy[k].Count() == 1);
            (firstSighting ? firstSightings : others).Add(customer);
        }

        return (firstSightings, others, own.Keys);
    }

    /// <summary>
    /// Starts the first sightings' profiles in one decision: their home profiles and identifiers locked in one statement,
    /// the pass's lookup made again under the locks, and every one still a first sighting decided
    /// (<see cref="IdentityResolution.ObserveFirstSighting"/>) and appended in one transaction. Returns the customers
    /// started; one that another decision placed meanwhile is left to be decided one by one.
    /// </summary>
    private async Task<IReadOnlySet<string>> StartProfilesAsync(List<IGrouping<string, Observation>> customers, CancellationToken cancellation)
    {
        var started = new HashSet<string>(StringComparer.Ordinal);
        await writer.DecideAsync(IdentityResolution.Resolver, async (session, token) =>
        {
            var found = await LookUpPassAsync(session, customers, token);
            // Placed meanwhile: in a profile now, or with a home profile stream (an erased customer's stays).
            var placed = (found.Own ?? []).Keys.Concat(found.Streams.Select(ProfileIds.FounderOf)).ToHashSet(StringComparer.Ordinal);
            var heldKeys = found.Holders.Select(h => h[0]!).ToHashSet(StringComparer.Ordinal);
            var still = customers.Where(c => !placed.Contains(c.Key) && !c.SelectMany(o => o.LinkingKeys).Any(heldKeys.Contains)).ToList();
            var now = clock.GetUtcNow();
            started = [.. still.Select(c => c.Key)];
            return new ProfilePlan([], _ => [.. still.SelectMany(c => IdentityResolution.ObserveFirstSighting(c.Key,
                c.Select(o => (o.TouchpointId, o.Identifiers)), rules, now))])
            {
                // Locked whether or not they are still first sightings: the lock set must not depend on what was read under it.
                NewProfileIds = [.. customers.Select(c => ProfileIds.HomeOf(c.Key))],
                IdentifierKeys = [.. customers.SelectMany(c => c.SelectMany(o => o.LinkingKeys)).Distinct(StringComparer.Ordinal)],
            };
        }, cancellation);
        return started;
    }

    private Task<IReadOnlyList<ProfileEvent>> ObserveAsync(string customerId, Guid touchpointId, IReadOnlyList<Identifier> identifiers, CancellationToken cancellation) =>
        writer.DecideAsync(IdentityResolution.Resolver, (session, token) => PlanObservationAsync(session, customerId, touchpointId, identifiers, token), cancellation);

    /// <summary>The customer's profile, the holders of the linking keys (key, customer, its profile), and which keys the customer holds.</summary>
    private sealed record Lookup(string? Own, IReadOnlyList<string?[]> Holders, IReadOnlyList<string> Held);

    private static async Task<Lookup> LookUpAsync(IQuerySession session, string customerId, string[] linkingKeys, string[] allKeys, CancellationToken cancellation)
    {
        var schema = session.DocumentStore.Options.Schema;
        var (memberships, holders) = (schema.For<ProfileMembership>(), schema.For<IdentifierHolder>());
        var sql = $"""
            select jsonb_build_object(
                'own', (select data ->> 'profileId' from {memberships} where id = ?),
                'holders', coalesce((select jsonb_agg(jsonb_build_array(h.data ->> 'key', h.data ->> 'customerId', m.data ->> 'profileId'))
                    from {holders} h left join {memberships} m on m.id = h.data ->> 'customerId'
                    where h.data ->> 'key' = any(?)), '[]'::jsonb),
                'held', coalesce((select jsonb_agg(data ->> 'key') from {holders} where id = any(?)), '[]'::jsonb))::text
            """;
        var held = allKeys.Select(k => IdentifierHolder.IdOf(k, customerId)).ToArray();
        var json = (await session.AdvancedSql.QueryAsync<string>(sql, cancellation, customerId, linkingKeys, held)).Single();
        return System.Text.Json.JsonSerializer.Deserialize<Lookup>(json, LookupJson)!;
    }

    private static readonly System.Text.Json.JsonSerializerOptions LookupJson = new(System.Text.Json.JsonSerializerDefaults.Web);

    private async Task<ProfilePlan> PlanObservationAsync(IQuerySession session, string customerId, Guid touchpointId, IReadOnlyList<Identifier> identifiers,
        CancellationToken cancellation)
    {
        // One round trip: the customer's own membership, the holders of its linking identifiers (by the btree index on the
        // key) and their memberships, joined in the database. (Marten's Include would also make it one, but through a
        // temporary table per query, which cost more than the round trip it saved.)
        var started = Stopwatch.GetTimestamp();
        var keys = identifiers.Where(i => rules.Links(i.Type)).Select(IdentifierHolder.KeyOf).ToArray();
        var allKeys = identifiers.Select(IdentifierHolder.KeyOf).Distinct(StringComparer.Ordinal).ToArray();
        var found = await LookUpAsync(session, customerId, keys, allKeys, cancellation);
        if (IdentityResolution.AlreadyReflected(found.Own, allKeys, found.Held.ToHashSet(StringComparer.Ordinal), found.Holders.Select(h => h[2])))
        {
            metrics.Resolved(started, keys.Length);
            return ProfilePlan.Nothing;
        }

        var own = found.Own;
        var holders = found.Holders.Select(h => new IdentifierHolder { Key = h[0]!, CustomerId = h[1]! }).ToList();
        var memberships = found.Holders.Where(h => h[2] is not null).GroupBy(h => h[1]!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First()[2]!, StringComparer.Ordinal);
        metrics.Resolved(started, keys.Length);
        var ownId = own ?? ProfileIds.HomeOf(customerId);
        var involved = memberships.Values.Append(ownId).ToHashSet(StringComparer.Ordinal);
        var now = clock.GetUtcNow();

        return new ProfilePlan(involved, profiles =>
        {
            // A customer without lookups whose home profile exists was erased (a touchpoint committed just before it): nothing to link.
            if (own is null && profiles.ContainsKey(ownId))
            {
                return [];
            }

            var byIdentifier = identifiers.ToDictionary(i => i, i => (IReadOnlyList<Profile>)holders
                .Where(h => h.Key == IdentifierHolder.KeyOf(i) && memberships.ContainsKey(h.CustomerId))
                .Select(h => memberships[h.CustomerId]).Distinct(StringComparer.Ordinal)
                .Where(profiles.ContainsKey).Select(p => profiles[p]).ToList());
            return IdentityResolution.Observe(own is null ? null : profiles.GetValueOrDefault(own), customerId, touchpointId, identifiers, byIdentifier, rules, now);
        })
        {
            IdentifierKeys = keys,
        };
    }
}
