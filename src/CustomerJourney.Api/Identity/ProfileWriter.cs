using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using JasperFx.Events;
using Marten;
using Marten.Services.BatchQuerying;
using Wolverine.Marten;

namespace CustomerJourney.Identity;

/// <summary>What a decision needs: the profiles to lock and load, and the pure decision to make on them.</summary>
public sealed record ProfilePlan(IReadOnlyCollection<string> ProfileIds, Func<IReadOnlyDictionary<string, Profile>, IReadOnlyList<ProfileEvent>> Decide)
{
    /// <summary>Nothing to lock, load or decide: what the lookups already show is reflected.</summary>
    public static readonly ProfilePlan Nothing = new([], _ => []);

    /// <summary>
    /// The identifiers (<see cref="IdentifierHolder.Key"/>) whose holders the plan read: locked as well, because a profile
    /// lock alone does not serialise two customers that first show one identifier at the same moment. Each would lock only
    /// its own new profile, read no holder of the other, and record its own: a link lost for good (the concurrency test
    /// <c>Customers_first_showing_the_same_new_identifier_at_the_same_moment_are_linked</c> found it). Whoever records a
    /// holder has read that identifier's holders, so holding the identifier's lock, the second one sees the first's holder.
    /// </summary>
    public IReadOnlyCollection<string> IdentifierKeys { get; init; } = [];

    /// <summary>
    /// Profiles the plan found not to exist yet (under their locks): locked like <see cref="ProfileIds"/>, not loaded, and
    /// started at version 0 (should one exist by then after all, the append conflicts and the decision is made again).
    /// </summary>
    public IReadOnlyCollection<string> NewProfileIds { get; init; } = [];

    /// <summary>Every lock the decision holds: its profiles and its identifiers (prefixed, so they never name a customer or a profile).</summary>
    public IEnumerable<string> Locks => ProfileIds.Concat(NewProfileIds).Concat(IdentifierKeys.Select(k => IdentifierLockPrefix + k));

    private const string IdentifierLockPrefix = "id~";
}

/// <summary>
/// Told after a merge or split commits: the customers whose person changed, every member of the profiles before and after.
/// </summary>
public sealed record ProfileMembersMoved(IReadOnlyList<string> CustomerIds)
{
    public static ProfileMembersMoved? Of(IReadOnlyList<ProfileEvent> decided, IReadOnlyDictionary<string, Profile> before)
    {
        var moved = decided.Where(d => d.Event is ProfilesMerged or ProfileSplit).ToList();
        if (moved.Count == 0)
        {
            return null;
        }

        var customers = moved.SelectMany(d => ProfileGraph.Moves(d.Event).Select(m => m.CustomerId)
                .Concat(before.TryGetValue(d.ProfileId, out var profile) ? profile.Members.Select(m => m.CustomerId) : []))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return new ProfileMembersMoved(customers);
    }
}

/// <summary>
/// The one writer of profile events (the resolver and the hand merge and split endpoints all come here). Merges and
/// splits that touch the same profiles are serialised: a decision holds a transaction-scoped advisory lock on every
/// profile it involves and every identifier whose holders it reads (<see cref="CustomerLocks"/>, taken in one global
/// order, so writers never deadlock), and reads
/// the lookups again under those locks; should they name a profile it did not lock (a merge that committed meanwhile),
/// it starts over holding that one too. Appends carry the versions read, so anything that slipped past the locks
/// fails and is retried (<see cref="TransientConflicts"/>) rather than overwritten. Blind indexes are sealed with their
/// members' keys as they are appended, and opened as they are read (<see cref="SealedIdentifiers"/>).
/// </summary>
public sealed class ProfileWriter(IDocumentStore store, IPersonalDataProtector personal, IServiceScopeFactory scopes, ILogger<ProfileWriter> logger)
{
    private const int MaxRounds = 8;

    public Task<IReadOnlyList<ProfileEvent>> DecideAsync(string decidedBy, Func<IQuerySession, CancellationToken, Task<ProfilePlan>> plan, CancellationToken cancellation) =>
        DecideAsync(decidedBy, plan, null, cancellation);

    /// <param name="decidedBy">Who decides (Marten's user_name).</param>
    /// <param name="plan">What to lock and load, and the decision.</param>
    /// <param name="alsoInTransaction">
    /// Runs after the decision, holding its locks, in the transaction that appends its events (even when it decided none),
    /// e.g. an erasure's key destruction and register; it runs again if the transaction is retried.
    /// </param>
    /// <param name="cancellation">Cancels the decision.</param>
    public Task<IReadOnlyList<ProfileEvent>> DecideAsync(string decidedBy, Func<IQuerySession, CancellationToken, Task<ProfilePlan>> plan,
        Func<IDocumentSession, IReadOnlyList<ProfileEvent>, CancellationToken, Task>? alsoInTransaction, CancellationToken cancellation) =>
        TransientConflicts.RetryAsync(() => DecideOnceAsync(decidedBy, plan, alsoInTransaction, cancellation), logger, "Profile decision", cancellation);

    private async Task<IReadOnlyList<ProfileEvent>> DecideOnceAsync(string decidedBy, Func<IQuerySession, CancellationToken, Task<ProfilePlan>> plan,
        Func<IDocumentSession, IReadOnlyList<ProfileEvent>, CancellationToken, Task>? alsoInTransaction, CancellationToken cancellation)
    {
        var locked = new HashSet<string>(StringComparer.Ordinal);
        for (var round = 0; round < MaxRounds; round++)
        {
            await using var session = store.LightweightSession();
            session.LastModifiedBy = decidedBy;
            await CustomerLocks.TakeAsync(session, locked, cancellation);
            var planned = await plan(session, cancellation);
            if (!planned.Locks.All(locked.Contains))
            {
                // Lock what the plan named and read again: the lookups may have moved while we were not holding them.
                locked.UnionWith(planned.Locks);
                continue;
            }

            var profiles = new Dictionary<string, Profile>(StringComparer.Ordinal);
            var versions = planned.NewProfileIds.ToDictionary(id => id, _ => 0L, StringComparer.Ordinal);
            foreach (var id in planned.ProfileIds)
            {
                var (profile, version) = await ProfileStreams.LoadAsync(session, personal, id, asOf: null, cancellation);
                versions[id] = version;
                if (profile is not null)
                {
                    profiles[id] = profile;
                }
            }

            var decided = planned.Decide(profiles);
            if (decided.Count == 0 && alsoInTransaction is null)
            {
                return decided;
            }

            // Every member whose blind index is sealed gets a key if it has none yet (an aliased customer with no touchpoint of its own).
            var sealedFor = decided.SelectMany(d => SealedIdentifiers.CustomersOf(d.Event)).Distinct(StringComparer.Ordinal).ToList();
            var cipher = await personal.ForCustomersAsync(sealedFor, forWriting: true, cancellation);
            foreach (var stream in decided.GroupBy(d => d.ProfileId, StringComparer.Ordinal))
            {
                var version = versions.TryGetValue(stream.Key, out var read) ? read : (await ProfileStreams.LoadAsync(session, personal, stream.Key, null, cancellation)).Version;
                var events = stream.Select(d => SealedIdentifiers.Seal(d.Event, cipher)).ToList();
                session.Events.Append(stream.Key, version + events.Count, events);
            }

            ProfileLookups.Apply(session, decided.Select(d => d.Event));
            if (ProfileMembersMoved.Of(decided, profiles) is { } moved)
            {
                // With the commit (Wolverine's outbox): whatever counts people (churn flags) looks again at everyone whose profile changed.
                await using var scope = scopes.CreateAsyncScope();
                var outbox = scope.ServiceProvider.GetRequiredService<IMartenOutbox>();
                outbox.Enroll(session);
                await outbox.PublishAsync(moved);
            }

            if (alsoInTransaction is not null)
            {
                await alsoInTransaction(session, decided, cancellation);
            }

            if (!await cipher.KeepNewKeysAsync(sealedFor, cancellation))
            {
                // Another writer stored a key for one of them first: what was sealed here would not open, so decide again.
                throw new JasperFx.ConcurrencyException("A personal-data key was stored concurrently; the profile decision will be retried.", null!);
            }

            await session.SaveChangesAsync(cancellation);
            return decided;
        }

        // A concurrency conflict, so Wolverine's transient-conflict policy retries the message instead of failing it.
        throw new JasperFx.ConcurrencyException($"The profiles a decision involves kept changing for {MaxRounds} rounds; it will be retried.", null!);
    }
}

/// <summary>
/// Reading profiles from their streams, now or as of a record time. <see cref="LoadAsync"/> and <see cref="FindAsync"/> open the
/// sealed blind indexes (one key lookup for the members the events name); <see cref="FindMembersAsync"/> does not, for callers
/// that read only a profile's id, members and erasure.
/// </summary>
public static class ProfileStreams
{
    private const int MaxHops = 64;

    /// <summary>The fold of the profile's stream (by <paramref name="asOf"/>), its blind indexes opened, and the stream's version.</summary>
    public static Task<(Profile? Profile, long Version)> LoadAsync(IQuerySession session, IPersonalDataProtector personal, string profileId, DateTimeOffset? asOf,
        CancellationToken cancellation) => LoadOpenedOrSealedAsync(session, personal, profileId, asOf, cancellation);

    /// <summary>
    /// The profile <paramref name="id"/> names as it stood at <paramref name="asOf"/>: a profile id, followed to the profile
    /// it was merged into; or a customer id, through its home profile. A customer identity resolution had not seen by then
    /// (but whose touchpoints were recorded) is a profile of one. Null when neither is known.
    /// </summary>
    public static Task<Profile?> FindAsync(IQuerySession session, IPersonalDataProtector personal, string id, DateTimeOffset? asOf, CancellationToken cancellation) =>
        FindOpenedOrSealedAsync(session, personal, id, asOf, cancellation);

    /// <summary>
    /// As <see cref="FindAsync"/>, for its id, members and erasure only: its blind indexes stay sealed, so no key is looked
    /// up. Never hand it to a decision.
    /// </summary>
    public static Task<Profile?> FindMembersAsync(IQuerySession session, string id, DateTimeOffset? asOf, CancellationToken cancellation) =>
        FindOpenedOrSealedAsync(session, null, id, asOf, cancellation);

    /// <summary>
    /// As <see cref="FindMembersAsync(IQuerySession, string, DateTimeOffset?, CancellationToken)"/>, its first step (the
    /// profile stream <paramref name="id"/> names, and the customer's stream state for one with no profile) queued on the
    /// caller's batch: a read of a customer no merge has moved needs no round trip of its own.
    /// </summary>
    public static Func<CancellationToken, Task<Profile?>> FindMembers(IBatchedQuery batch, IQuerySession session, string id, DateTimeOffset? asOf)
    {
        var stream = batch.Events.FetchStream(FirstStreamOf(id), timestamp: asOf);
        var customer = batch.Events.FetchStreamState(FounderOrSelf(id));
        return async cancellation => await FindOpenedOrSealedAsync(session, null, id, asOf, cancellation, new FirstStep(await stream, await customer));
    }

    /// <summary>What a batch read for the first step of a find: the stream it starts from, and the customer's state.</summary>
    private sealed record FirstStep(IReadOnlyList<IEvent> Stream, StreamState? Customer);

    private static async Task<(Profile? Profile, long Version)> LoadOpenedOrSealedAsync(IQuerySession session, IPersonalDataProtector? personal, string profileId,
        DateTimeOffset? asOf, CancellationToken cancellation)
    {
        var (events, version) = await FetchAsync(session, profileId, asOf, cancellation);
        return (Profile.Replay(personal is null ? events : await OpenAsync(personal, events, cancellation)), version);
    }

    private static async Task<(IReadOnlyList<object> Events, long Version)> FetchAsync(IQuerySession session, string profileId, DateTimeOffset? asOf,
        CancellationToken cancellation) => Read(await session.Events.FetchStreamAsync(profileId, timestamp: asOf, token: cancellation));

    private static (IReadOnlyList<object> Events, long Version) Read(IReadOnlyList<IEvent> stream) =>
        ([.. stream.Select(e => e.Data)], stream.Count == 0 ? 0 : stream[^1].Version);

    /// <summary>The events with their blind indexes opened, with one key lookup for every member they name.</summary>
    private static async Task<IEnumerable<object>> OpenAsync(IPersonalDataProtector personal, IReadOnlyList<object> events, CancellationToken cancellation)
    {
        var customers = events.SelectMany(SealedIdentifiers.CustomersOf).Distinct(StringComparer.Ordinal).ToList();
        var cipher = await personal.ForCustomersAsync(customers, forWriting: false, cancellation);
        return events.Select(e => SealedIdentifiers.Open(e, cipher));
    }

    private static async Task<Profile?> FindOpenedOrSealedAsync(IQuerySession session, IPersonalDataProtector? personal, string id, DateTimeOffset? asOf,
        CancellationToken cancellation, FirstStep? first = null)
    {
        var streamId = FirstStreamOf(id);
        for (var hop = 0; hop < MaxHops; hop++)
        {
            // Where a profile was merged to needs no blind index: only the profile found at the end is opened.
            var (events, _) = hop == 0 && first is not null ? Read(first.Stream) : await FetchAsync(session, streamId, asOf, cancellation);
            var profile = Profile.Replay(events);
            if (profile is not null && ProfileGraph.NextHop(profile, FounderOrSelf(id)) is { } next)
            {
                streamId = next;
                continue;
            }

            if (profile is not null && personal is not null)
            {
                profile = Profile.Replay(await OpenAsync(personal, events, cancellation));
            }

            if (profile is not null || streamId != ProfileIds.HomeOf(FounderOrSelf(id)))
            {
                return profile;
            }

            // No profile stream: a known customer (by its id or by its home profile's, which pages link to) is alone.
            var customerId = FounderOrSelf(id);
            var customer = first is not null ? first.Customer : await session.Events.FetchStreamStateAsync(customerId, cancellation);
            return customer is not null && (asOf is null || customer.Created <= asOf) ? Profile.Alone(customerId, customer.Created) : null;
        }

        throw new InvalidOperationException($"Profile '{id}' is merged into more than {MaxHops} others in a row.");
    }

    private static string FirstStreamOf(string id) => ProfileIds.IsProfileId(id) ? id : ProfileIds.HomeOf(id);

    private static string FounderOrSelf(string id) => ProfileIds.IsProfileId(id) ? ProfileIds.FounderOf(id) : id;
}
