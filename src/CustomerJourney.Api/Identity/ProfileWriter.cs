using CustomerJourney.Infrastructure;
using Marten;

namespace CustomerJourney.Identity;

/// <summary>What a decision needs: the profiles to lock and load, and the pure decision to make on them.</summary>
public sealed record ProfilePlan(IReadOnlyCollection<string> ProfileIds, Func<IReadOnlyDictionary<string, Profile>, IReadOnlyList<ProfileEvent>> Decide)
{
    /// <summary>
    /// The identifiers (<see cref="IdentifierHolder.Key"/>) whose holders the plan read: locked as well, because a profile
    /// lock alone does not serialise two customers that first show one identifier at the same moment. Each would lock only
    /// its own new profile, read no holder of the other, and record its own: a link lost for good (the concurrency test
    /// <c>Customers_first_showing_the_same_new_identifier_at_the_same_moment_are_linked</c> found it). Whoever records a
    /// holder has read that identifier's holders, so holding the identifier's lock, the second one sees the first's holder.
    /// </summary>
    public IReadOnlyCollection<string> IdentifierKeys { get; init; } = [];

    /// <summary>Every lock the decision holds: its profiles and its identifiers (prefixed, so they never name a customer or a profile).</summary>
    public IEnumerable<string> Locks => ProfileIds.Concat(IdentifierKeys.Select(k => IdentifierLockPrefix + k));

    private const string IdentifierLockPrefix = "id~";
}

/// <summary>
/// The one writer of profile events (the resolver and the hand merge and split endpoints all come here). Merges and
/// splits that touch the same profiles are serialised: a decision holds a transaction-scoped advisory lock on every
/// profile it involves and every identifier whose holders it reads (<see cref="CustomerLocks"/>, taken in one global
/// order, so writers never deadlock), and reads
/// the lookups again under those locks; should they name a profile it did not lock (a merge that committed meanwhile),
/// it starts over holding that one too. Appends carry the versions read, so anything that slipped past the locks
/// fails and is retried (<see cref="TransientConflicts"/>) rather than overwritten.
/// </summary>
public sealed class ProfileWriter(IDocumentStore store, ILogger<ProfileWriter> logger)
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
            var versions = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var id in planned.ProfileIds)
            {
                var (profile, version) = await ProfileStreams.LoadAsync(session, id, asOf: null, cancellation);
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

            foreach (var stream in decided.GroupBy(d => d.ProfileId, StringComparer.Ordinal))
            {
                var version = versions.TryGetValue(stream.Key, out var read) ? read : (await ProfileStreams.LoadAsync(session, stream.Key, null, cancellation)).Version;
                var events = stream.Select(d => d.Event).ToList();
                session.Events.Append(stream.Key, version + events.Count, events);
            }

            ProfileLookups.Apply(session, decided.Select(d => d.Event));
            if (alsoInTransaction is not null)
            {
                await alsoInTransaction(session, decided, cancellation);
            }

            await session.SaveChangesAsync(cancellation);
            return decided;
        }

        // A concurrency conflict, so Wolverine's transient-conflict policy retries the message instead of failing it.
        throw new JasperFx.ConcurrencyException($"The profiles a decision involves kept changing for {MaxRounds} rounds; it will be retried.", null!);
    }
}

/// <summary>Reading profiles from their streams, now or as of a record time.</summary>
public static class ProfileStreams
{
    private const int MaxHops = 64;

    /// <summary>The fold of the profile's stream (by <paramref name="asOf"/>), and the stream's version.</summary>
    public static async Task<(Profile? Profile, long Version)> LoadAsync(IQuerySession session, string profileId, DateTimeOffset? asOf, CancellationToken cancellation)
    {
        var events = await session.Events.FetchStreamAsync(profileId, timestamp: asOf, token: cancellation);
        return (Profile.Replay(events.Select(e => e.Data)), events.Count == 0 ? 0 : events[^1].Version);
    }

    /// <summary>
    /// The profile <paramref name="id"/> names as it stood at <paramref name="asOf"/>: a profile id, followed to the profile
    /// it was merged into; or a customer id, through its home profile. A customer identity resolution had not seen by then
    /// (but whose touchpoints were recorded) is a profile of one. Null when neither is known.
    /// </summary>
    public static async Task<Profile?> FindAsync(IQuerySession session, string id, DateTimeOffset? asOf, CancellationToken cancellation)
    {
        var streamId = ProfileIds.IsProfileId(id) ? id : ProfileIds.HomeOf(id);
        for (var hop = 0; hop < MaxHops; hop++)
        {
            var (profile, _) = await LoadAsync(session, streamId, asOf, cancellation);
            if (profile?.MergedInto is { } into)
            {
                streamId = into;
                continue;
            }

            if (profile is not null || ProfileIds.IsProfileId(id))
            {
                return profile;
            }

            var customer = await session.Events.FetchStreamStateAsync(id, cancellation);
            return customer is not null && (asOf is null || customer.Created <= asOf) ? Profile.Alone(id, customer.Created) : null;
        }

        throw new InvalidOperationException($"Profile '{id}' is merged into more than {MaxHops} others in a row.");
    }
}
