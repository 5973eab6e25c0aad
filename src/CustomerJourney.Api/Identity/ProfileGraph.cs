using Marten;
using Marten.Events;

namespace CustomerJourney.Identity;

/// <summary>
/// Which profile each customer is in: the one reading of the graph that summaries, fits, scores, flags, win-back and
/// complaints share, so none of them counts one person as several customers. Holds only the customers that live outside
/// their home profile (after a merge); everyone else is a profile of one.
/// </summary>
public sealed class ProfileMap(IReadOnlyDictionary<string, string> moved)
{
    public string ProfileOf(string customerId) => moved.GetValueOrDefault(customerId) ?? ProfileIds.HomeOf(customerId);

    private HashSet<string>? _joined;

    /// <summary>The customers merged into another profile than their own.</summary>
    public int MovedCount => moved.Count;

    /// <summary>
    /// Whether customers were merged into this profile: then it may hold several customers, and whatever is read per
    /// customer must be gathered before it stands for the person. Every other profile is its home customer alone.
    /// </summary>
    public bool HasJoinedMembers(string profileId) => (_joined ??= new HashSet<string>(moved.Values, StringComparer.Ordinal)).Contains(profileId);

    /// <summary>Items grouped per profile, in profile id order (so sums over profiles are taken in one order, whatever the store returns).</summary>
    public IEnumerable<IGrouping<string, T>> GroupByProfile<T>(IEnumerable<T> items, Func<T, string> customerOf) =>
        items.GroupBy(i => ProfileOf(customerOf(i)), StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal);
}

/// <summary>Reads the profile graph: now from the lookups (as current as the profile streams), or as of a record time from the events.</summary>
public static class ProfileGraph
{
    /// <summary>
    /// Where a read looking for <paramref name="customerId"/>'s person goes on from <paramref name="profile"/>, or null when
    /// it has arrived: a member goes on to the profile this one was merged into; a customer that is no longer a member
    /// (reached through an old merge) goes where it went when it left (<see cref="Profile.Departures"/>). So a read
    /// ends where the membership lookup (<see cref="Moves"/>) places the customer, now and as of any instant.
    /// </summary>
    /// <remarks>A profile absorbed into itself (a hand merge naming one unplaced customer twice did that once) has arrived.</remarks>
    public static string? NextHop(Profile profile, string customerId) =>
        profile.HasMember(customerId) ? profile.MergedInto is { } into && into != profile.Id ? into : null : profile.Departures.GetValueOrDefault(customerId);

    /// <summary>
    /// Where a profile event moves members: a merge takes the merged profile's members in, a split sends each split-off
    /// profile's members home with it, a restore (on the split-off profile's own stream) names them again. The lookups
    /// (<see cref="ProfileLookups"/>) and the graph as of a record time are both this fold.
    /// </summary>
    public static IEnumerable<(string CustomerId, string ProfileId)> Moves(object @event) => @event switch
    {
        ProfileStarted e => [(e.CustomerId, e.ProfileId)],
        ProfilesMerged e => e.Merged.Members.Select(m => (m.CustomerId, e.ProfileId)),
        ProfileSplit e => e.SplitOff.SelectMany(s => s.Contents.Members.Select(m => (m.CustomerId, s.ProfileId))),
        ProfileRestored e => e.Contents.Members.Select(m => (m.CustomerId, e.ProfileId)),
        _ => [],
    };

    /// <summary>The graph now (<paramref name="asOf"/> null) or as it stood at that record time.</summary>
    public static async Task<ProfileMap> MapAsync(IQuerySession session, DateTimeOffset? asOf, CancellationToken cancellation)
    {
        if (asOf is null)
        {
            var moved = await session.QueryAsync<ProfileMembership>($"where data ->> 'profileId' <> '{ProfileIds.Prefix}' || id", cancellation);
            return new ProfileMap(moved.ToDictionary(m => m.Id, m => m.ProfileId, StringComparer.Ordinal));
        }

        var events = await session.Events.QueryAllRawEvents()
            .Where(e => e.EventTypesAre(typeof(ProfilesMerged), typeof(ProfileSplit), typeof(ProfileRestored)) && e.Timestamp <= asOf.Value)
            .OrderBy(e => e.Sequence).ToListAsync(cancellation);
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (customerId, profileId) in events.SelectMany(e => Moves(e.Data)))
        {
            if (profileId == ProfileIds.HomeOf(customerId))
            {
                map.Remove(customerId);
            }
            else
            {
                map[customerId] = profileId;
            }
        }

        return new ProfileMap(map);
    }

    /// <summary>
    /// For each customer, the profile it is in now and that profile's members (itself alone when identity resolution has
    /// not placed it yet). Read in the caller's transaction: under the members' locks, as current as the profile streams.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, ProfileMembers>> MembersNowAsync(IQuerySession session, IEnumerable<string> customerIds,
        CancellationToken cancellation)
    {
        var ids = customerIds.Distinct(StringComparer.Ordinal).ToArray();
        var placed = (await session.LoadManyAsync<ProfileMembership>(cancellation, ids)).ToDictionary(m => m.Id, m => m.ProfileId, StringComparer.Ordinal);
        var profileIds = ids.Select(id => placed.GetValueOrDefault(id) ?? ProfileIds.HomeOf(id)).Distinct(StringComparer.Ordinal).ToArray();
        var members = (await session.Query<ProfileMembership>().Where(m => m.ProfileId.IsOneOf(profileIds)).ToListAsync(cancellation))
            .ToLookup(m => m.ProfileId, m => m.Id, StringComparer.Ordinal);
        var result = new Dictionary<string, ProfileMembers>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            var profileId = placed.GetValueOrDefault(id) ?? ProfileIds.HomeOf(id);
            var all = members[profileId].Append(id).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            result[id] = new ProfileMembers(profileId, all);
        }

        return result;
    }
}

/// <summary>A profile and its members (customer ids, in order); the founder is the customer the profile id names.</summary>
public sealed record ProfileMembers(string ProfileId, IReadOnlyList<string> Members)
{
    public string Founder => ProfileIds.FounderOf(ProfileId);
}
