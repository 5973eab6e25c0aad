using System.Text.Json.Serialization;

namespace CustomerJourney.Identity;

// The identity graph. A profile is one person as far as we can tell: its members are customer ids, linked by
// identifiers they share or by hand. Each profile is an event stream of its own whose events carry everything the
// profile is made of (a merge carries the absorbed profile's contents, a split the contents of what leaves), so a
// profile as of any record time is the fold of its own stream up to then.

/// <summary>Profile ids: "pf~" and the customer id the profile started with. '~' is not allowed in a customer id, so the two never collide.</summary>
public static class ProfileIds
{
    public const string Prefix = "pf~";

    /// <summary>The profile a customer starts in, and returns to when split off.</summary>
    public static string HomeOf(string customerId) => Prefix + customerId;

    public static bool IsProfileId(string id) => id.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The customer the profile started with; a split never separates it from its profile.</summary>
    public static string FounderOf(string profileId) => profileId[Prefix.Length..];
}

/// <summary>A touchpoint that showed an identifier: the evidence of a link.</summary>
public sealed record Evidence(Guid TouchpointId, string CustomerId);

public sealed record ProfileMember(string CustomerId, DateTimeOffset Since);

/// <summary>An identifier a member carries (its blind index), and the touchpoint it was first seen on.</summary>
public sealed record MemberIdentifier(string CustomerId, IdentifierType Type, string BlindIndex, Guid TouchpointId)
{
    [JsonIgnore]
    public Identifier Identifier => new(Type, BlindIndex);
}

/// <summary>A link between two members: by a shared identifier (rule "shared-email", ...) or by hand (rule "manual").</summary>
public sealed record ProfileLink(Guid LinkId, string From, string To, string Rule, IdentifierType? IdentifierType, string? BlindIndex,
    IReadOnlyList<Evidence> Evidence, string DecidedBy, DateTimeOffset LinkedAt);

/// <summary>A link that was not made because the profile would have broken a limit; kept for review.</summary>
public sealed record ProfileConflict(Guid ConflictId, string CustomerId, string? OtherProfileId, string Rule, IdentifierType IdentifierType,
    string BlindIndex, int Limit, IReadOnlyList<Evidence> Evidence, DateTimeOffset DetectedAt);

/// <summary>After a split: this identifier no longer links this member to anyone (only new evidence, or a hand, links it again).</summary>
public sealed record Suppression(string CustomerId, IdentifierType IdentifierType, string BlindIndex);

/// <summary>What a profile is made of; carried by the events that move members between profiles.</summary>
public sealed record ProfileContents(IReadOnlyList<ProfileMember> Members, IReadOnlyList<MemberIdentifier> Identifiers, IReadOnlyList<ProfileLink> Links,
    IReadOnlyList<ProfileConflict> Conflicts, IReadOnlyList<Suppression> Suppressions);

/// <summary>Identity resolution first saw the customer.</summary>
public sealed record ProfileStarted(string ProfileId, string CustomerId, DateTimeOffset StartedAt);

/// <summary>A member showed an identifier on a touchpoint.</summary>
public sealed record ProfileIdentifierRecorded(string ProfileId, string CustomerId, IdentifierType IdentifierType, string BlindIndex, Guid TouchpointId,
    DateTimeOffset RecordedAt);

/// <summary>
/// Two profiles became one: <see cref="MergedProfileId"/> (with <see cref="Merged"/>, its contents) joined <see cref="ProfileId"/>,
/// whose id stays. The link is between members <see cref="From"/> and <see cref="To"/>, by <see cref="Rule"/> on the identifier
/// (type and blind index) that matched, with the touchpoints that showed it; <see cref="DecidedBy"/> is the resolver or a person.
/// </summary>
public sealed record ProfilesMerged(string ProfileId, string MergedProfileId, Guid LinkId, string From, string To, string Rule, IdentifierType? IdentifierType,
    string? BlindIndex, IReadOnlyList<Evidence> Evidence, string DecidedBy, ProfileContents Merged, DateTimeOffset MergedAt);

/// <summary>On the merged profile's own stream: it now lives in <see cref="IntoProfileId"/>.</summary>
public sealed record ProfileAbsorbed(string ProfileId, string IntoProfileId, Guid LinkId, DateTimeOffset AbsorbedAt);

/// <summary>A profile that leaves in a split, with what it takes.</summary>
public sealed record SplitOff(string ProfileId, ProfileContents Contents);

/// <summary>
/// A member was separated from the profile: every link it was part of is reversed (<see cref="ReversedLinks"/>), the
/// identifiers of those links no longer link it (<see cref="Suppressions"/>), and members no longer connected to the
/// profile's founder leave with it (<see cref="SplitOff"/>, each into its own profile).
/// </summary>
public sealed record ProfileSplit(string ProfileId, string CustomerId, IReadOnlyList<Guid> ReversedLinks, IReadOnlyList<Suppression> Suppressions,
    IReadOnlyList<SplitOff> SplitOff, string DecidedBy, string? Reason, DateTimeOffset SplitAt);

/// <summary>On a split-off profile's own stream: it stands alone again, with these contents.</summary>
public sealed record ProfileRestored(string ProfileId, string FromProfileId, ProfileContents Contents, DateTimeOffset RestoredAt);

/// <summary>A link identity resolution did not make because the profile would have held more values of a type than allowed.</summary>
public sealed record ProfileLinkConflict(string ProfileId, Guid ConflictId, string CustomerId, string? OtherProfileId, string Rule, IdentifierType IdentifierType,
    string BlindIndex, int Limit, IReadOnlyList<Evidence> Evidence, DateTimeOffset DetectedAt);

/// <summary>
/// The profile was erased at a person's request: <see cref="Members"/>, every member it had then (named by the request),
/// were erased with it (their keys destroyed), and its identifiers left the lookups, so no later touchpoint links to it.
/// Customer ids only: no identifier, no personal data.
/// </summary>
public sealed record ProfileErased(string ProfileId, string RequestedFor, IReadOnlyList<string> Members, string ErasedBy, DateTimeOffset ErasedAt);

/// <summary>
/// A profile as the decisions and reads see it: the fold of its own stream. <see cref="MergedInto"/> is set while the
/// profile lives inside another one.
/// </summary>
public sealed record Profile(string Id, string? MergedInto, DateTimeOffset StartedAt, IReadOnlyList<ProfileMember> Members,
    IReadOnlyList<MemberIdentifier> Identifiers, IReadOnlyList<ProfileLink> Links, IReadOnlyList<ProfileConflict> Conflicts,
    IReadOnlyList<Suppression> Suppressions)
{
    public static readonly Type[] EventTypes =
    [
        typeof(ProfileStarted), typeof(ProfileIdentifierRecorded), typeof(ProfilesMerged), typeof(ProfileAbsorbed), typeof(ProfileSplit),
        typeof(ProfileRestored), typeof(ProfileLinkConflict), typeof(ProfileErased),
    ];

    /// <summary>Set once the profile was erased (<see cref="ProfileErased"/>): its identifiers read as erased, and it changes no more.</summary>
    public DateTimeOffset? ErasedAt { get; init; }

    /// <summary>
    /// Where each customer that was a member and is no longer went when it last left: split off into another profile, or
    /// kept by the profile this one was absorbed into and later restored from without it. A read that reached this profile
    /// through an old merge goes on from here (<see cref="ProfileGraph.NextHop"/>), as the membership lookup moved it.
    /// A member that comes back is taken off.
    /// </summary>
    public IReadOnlyDictionary<string, string> Departures { get; init; } = NoDepartures;

    private static readonly IReadOnlyDictionary<string, string> NoDepartures = new Dictionary<string, string>(StringComparer.Ordinal);

    public string Founder => ProfileIds.FounderOf(Id);

    public ProfileContents Contents => new(Members, Identifiers, Links, Conflicts, Suppressions);

    public bool HasMember(string customerId) => Members.Any(m => m.CustomerId == customerId);

    public bool Holds(string customerId, Identifier identifier) =>
        Identifiers.Any(i => i.CustomerId == customerId && i.Type == identifier.Type && i.BlindIndex == identifier.BlindIndex);

    /// <summary>A customer not yet seen by identity resolution: alone in its home profile.</summary>
    public static Profile Alone(string customerId, DateTimeOffset since) =>
        new(ProfileIds.HomeOf(customerId), null, since, [new ProfileMember(customerId, since)], [], [], [], []);

    public static Profile? Replay(IEnumerable<object> events) => events.Aggregate((Profile?)null, Fold);

    /// <summary>The one fold of a profile's events, used by the decisions, the reads and the specs.</summary>
    public static Profile? Fold(Profile? state, object @event) => (state, @event) switch
    {
        (_, ProfileStarted e) => Alone(e.CustomerId, e.StartedAt) with { Id = e.ProfileId },
        (null, ProfileRestored e) => new Profile(e.ProfileId, null, e.RestoredAt, [], [], [], [], []).With(e.Contents),
        (null, _) => null,
        (_, ProfileIdentifierRecorded e) => state with
        {
            Identifiers = [.. state.Identifiers, new MemberIdentifier(e.CustomerId, e.IdentifierType, e.BlindIndex, e.TouchpointId)],
        },
        (_, ProfilesMerged e) => state.Add(e.Merged).Returned(e.Merged.Members) with
        {
            Links = [.. state.Links, .. e.Merged.Links,
                new ProfileLink(e.LinkId, e.From, e.To, e.Rule, e.IdentifierType, e.BlindIndex, e.Evidence, e.DecidedBy, e.MergedAt)],
        },
        (_, ProfileAbsorbed e) => state with { MergedInto = e.IntoProfileId },
        (_, ProfileSplit e) => state.Departed(e.SplitOff.SelectMany(s => s.Contents.Members.Select(m => (m.CustomerId, s.ProfileId)))).Without(e),
        // Absorbed, its members went with it into the other profile; those the restore does not bring back stayed there.
        (_, ProfileRestored e) => (state with { MergedInto = null })
            .Departed(state.Members.Where(m => !e.Contents.Members.Any(c => c.CustomerId == m.CustomerId)).Select(m => (m.CustomerId, e.FromProfileId)))
            .With(e.Contents).Returned(e.Contents.Members),
        (_, ProfileLinkConflict e) => state with
        {
            Conflicts = [.. state.Conflicts,
                new ProfileConflict(e.ConflictId, e.CustomerId, e.OtherProfileId, e.Rule, e.IdentifierType, e.BlindIndex, e.Limit, e.Evidence, e.DetectedAt)],
        },
        (_, ProfileErased e) => state with { ErasedAt = e.ErasedAt },
        _ => state,
    };

    private Profile Departed(IEnumerable<(string CustomerId, string ProfileId)> departures)
    {
        var list = departures.ToList();
        if (list.Count == 0)
        {
            return this;
        }

        var updated = new Dictionary<string, string>(Departures, StringComparer.Ordinal);
        foreach (var (customerId, profileId) in list)
        {
            updated[customerId] = profileId;
        }

        return this with { Departures = updated };
    }

    private Profile Returned(IEnumerable<ProfileMember> members)
    {
        if (Departures.Count == 0 || !members.Any(m => Departures.ContainsKey(m.CustomerId)))
        {
            return this;
        }

        var updated = new Dictionary<string, string>(Departures, StringComparer.Ordinal);
        foreach (var member in members)
        {
            updated.Remove(member.CustomerId);
        }

        return this with { Departures = updated };
    }

    private Profile With(ProfileContents contents) => this with
    {
        Members = contents.Members,
        Identifiers = contents.Identifiers,
        Links = contents.Links,
        Conflicts = contents.Conflicts,
        Suppressions = contents.Suppressions,
    };

    private Profile Add(ProfileContents other) => this with
    {
        Members = [.. Members, .. other.Members],
        Identifiers = [.. Identifiers, .. other.Identifiers],
        Conflicts = [.. Conflicts, .. other.Conflicts],
        Suppressions = [.. Suppressions, .. other.Suppressions.Except(Suppressions)],
    };

    private Profile Without(ProfileSplit split)
    {
        var leaving = split.SplitOff.SelectMany(s => s.Contents.Members).Select(m => m.CustomerId).ToHashSet(StringComparer.Ordinal);
        var reversed = split.ReversedLinks.ToHashSet();
        return this with
        {
            Members = Members.Where(m => !leaving.Contains(m.CustomerId)).ToList(),
            Identifiers = Identifiers.Where(i => !leaving.Contains(i.CustomerId)).ToList(),
            Links = Links.Where(l => !reversed.Contains(l.LinkId) && !leaving.Contains(l.From) && !leaving.Contains(l.To)).ToList(),
            Conflicts = Conflicts.Where(c => !leaving.Contains(c.CustomerId)).ToList(),
            Suppressions = [.. Suppressions.Where(s => !leaving.Contains(s.CustomerId)), .. split.Suppressions.Except(Suppressions)],
        };
    }
}
