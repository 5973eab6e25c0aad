using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CustomerJourney.Identity;

/// <summary>An event and the profile stream it belongs to.</summary>
public sealed record ProfileEvent(string ProfileId, object Event);

/// <summary>A merge or split the rules refuse; answered as a problem document with <see cref="Status"/> (409 or 422).</summary>
public sealed class IdentityRuleException(int status, string rule, string detail, IReadOnlyDictionary<string, object?>? extensions = null) : Exception(detail)
{
    public int Status { get; } = status;

    /// <summary>A stable, machine-readable name of the rule, e.g. "founding-member".</summary>
    public string Rule { get; } = rule;

    /// <summary>What else the answer says, e.g. the current members of a profile whose membership changed.</summary>
    public IReadOnlyDictionary<string, object?> Extensions { get; } = extensions ?? new Dictionary<string, object?>();
}

/// <summary>
/// The rules of the identity graph, as pure decisions: from the profiles involved (folded from their streams), a
/// command and the time, the events to append. No I/O: the resolver and the endpoints load the profiles (holding
/// their locks) and append what is decided. A repeat that changes nothing decides nothing.
/// </summary>
public static class IdentityResolution
{
    /// <summary>Who decides the automatic links (Marten's user_name and the links' DecidedBy).</summary>
    public const string Resolver = "identity-resolution";

    public const string ManualRule = "manual";

    public static string RuleFor(IdentifierType type) => type switch
    {
        IdentifierType.CustomerId => "alias",
        IdentifierType.UserId => "shared-user-id",
        IdentifierType.Email => "shared-email",
        IdentifierType.Phone => "shared-phone",
        IdentifierType.LoyaltyCard => "shared-loyalty-card",
        _ => "shared-anonymous-id",
    };

    /// <summary>
    /// A touchpoint of <paramref name="customerId"/> showed <paramref name="identifiers"/>. Each is recorded on the
    /// customer's profile (<paramref name="own"/>, null when identity resolution has not seen the customer yet), unless
    /// the profile would then hold too many values of its type (a conflict); then, in priority order, every other
    /// current profile that holds a linking identifier (<paramref name="holders"/>) is merged with it (the older profile
    /// keeps its id), unless a split suppressed that identifier for a member, or the merged profile would break a limit
    /// (a conflict, with the evidence, for review).
    /// </summary>
    public static IReadOnlyList<ProfileEvent> Observe(Profile? own, string customerId, Guid touchpointId, IReadOnlyList<Identifier> identifiers,
        IReadOnlyDictionary<Identifier, IReadOnlyList<Profile>> holders, IdentityRules rules, DateTimeOffset now)
    {
        var decided = new List<ProfileEvent>();
        var current = own ?? Start(customerId, now, decided);
        var gone = new HashSet<string>(StringComparer.Ordinal);
        var evidence = new Evidence(touchpointId, customerId);

        foreach (var identifier in identifiers.OrderBy(i => rules.PriorityOf(i.Type)))
        {
            if (!current.Holds(customerId, identifier))
            {
                if (BrokenLimit(current.Identifiers.Select(i => i.Identifier).Append(identifier), rules) is { } limit)
                {
                    current = Conflict(current, customerId, null, identifier, limit, [evidence], now, decided);
                    continue;
                }

                current = Append(current, decided, new ProfileIdentifierRecorded(current.Id, customerId, identifier.Type, identifier.BlindIndex, touchpointId, now));
            }

            if (!rules.Links(identifier.Type))
            {
                continue;
            }

            var others = holders.GetValueOrDefault(identifier, []).Where(p => p.MergedInto is null && p.Id != current.Id && !gone.Contains(p.Id))
                .OrderBy(p => p.StartedAt).ThenBy(p => p.Id, StringComparer.Ordinal).ToList();
            foreach (var other in others)
            {
                if (IsSuppressed(current, other, identifier))
                {
                    continue;
                }

                var holder = other.Identifiers.First(i => i.Identifier == identifier);
                IReadOnlyList<Evidence> linkEvidence = [evidence, new Evidence(holder.TouchpointId, holder.CustomerId)];
                if (BrokenLimit(current.Identifiers.Concat(other.Identifiers).Select(i => i.Identifier), rules) is { } broken)
                {
                    current = Conflict(current, customerId, other.Id, identifier, broken, linkEvidence, now, decided);
                    continue;
                }

                var link = new ProfileLink(LinkIdOf(touchpointId, current.Id, other.Id), customerId, holder.CustomerId, RuleFor(identifier.Type),
                    identifier.Type, identifier.BlindIndex, linkEvidence, Resolver, now);
                (current, var absorbed) = MergeInto(current, other, link, decided);
                gone.Add(absorbed);
            }
        }

        return decided;
    }

    /// <summary>
    /// A customer identity resolution has not seen, whose touchpoints show only identifiers nobody holds: each touchpoint
    /// observed in turn (<see cref="Observe"/>) on the profile the first one starts. With no other holder there is nothing
    /// to link, so this is what observing them one after another decides, without reading anything between them.
    /// </summary>
    public static IReadOnlyList<ProfileEvent> ObserveFirstSighting(string customerId, IEnumerable<(Guid TouchpointId, IReadOnlyList<Identifier> Identifiers)> touchpoints,
        IdentityRules rules, DateTimeOffset now)
    {
        Profile? own = null;
        var decided = new List<ProfileEvent>();
        foreach (var (touchpointId, identifiers) in touchpoints)
        {
            var observed = Observe(own, customerId, touchpointId, identifiers, NoHolders, rules, now);
            own = observed.Aggregate(own, (profile, e) => Profile.Fold(profile, e.Event));
            decided.AddRange(observed);
        }

        return decided;
    }

    private static readonly IReadOnlyDictionary<Identifier, IReadOnlyList<Profile>> NoHolders = new Dictionary<Identifier, IReadOnlyList<Profile>>();

    /// <summary>
    /// Whether a touchpoint's identifiers are all reflected already, read from the lookups alone: its customer is in
    /// profile <paramref name="ownProfileId"/>, holds every one of <paramref name="keys"/> (<paramref name="heldByCustomer"/>),
    /// and every holder of a linking one is in that same profile (<paramref name="profilesOfLinkingHolders"/>). Then
    /// <see cref="Observe"/> would decide nothing, so no profile need be locked or loaded (most tracked calls repeat
    /// traits already seen). A customer who shows one of them later is linked by its own decision, which reads this
    /// customer's holder under the identifier's lock.
    /// </summary>
    public static bool AlreadyReflected(string? ownProfileId, IReadOnlyCollection<string> keys, IReadOnlySet<string> heldByCustomer,
        IEnumerable<string?> profilesOfLinkingHolders) =>
        ownProfileId is not null && keys.All(heldByCustomer.Contains) && profilesOfLinkingHolders.All(p => p == ownProfileId);

    /// <summary>
    /// A person merges two profiles by hand (naming one member of each; a customer identity resolution has not seen yet
    /// starts its profile). Merging a profile with itself decides nothing.
    /// Suppressions do not stop a hand; limits do (409, so a person sees why).
    /// </summary>
    public static IReadOnlyList<ProfileEvent> Merge(Profile? first, string firstMember, Profile? second, string secondMember, string decidedBy,
        IdentityRules rules, DateTimeOffset now)
    {
        // One profile named twice (or one customer that has none yet, named twice: both would start it and absorb it into itself).
        if ((first?.Id ?? ProfileIds.HomeOf(firstMember)) == (second?.Id ?? ProfileIds.HomeOf(secondMember)))
        {
            return [];
        }

        if (first?.ErasedAt is not null || second?.ErasedAt is not null)
        {
            throw Erased((first?.ErasedAt is not null ? first : second)!);
        }

        var decided = new List<ProfileEvent>();
        first ??= Start(firstMember, now, decided);
        second ??= Start(secondMember, now, decided);

        if (BrokenLimit(first.Identifiers.Concat(second.Identifiers).Select(i => i.Identifier), rules) is { } broken)
        {
            throw new IdentityRuleException(StatusCodes.Status409Conflict, "limit-exceeded",
                $"Together the profiles would hold {broken.Count} values of type {broken.Type}; at most {broken.Limit} are allowed.");
        }

        var link = new ProfileLink(LinkIdOf(Guid.Empty, first.Id, second.Id, now), firstMember, secondMember, ManualRule, null, null, [], decidedBy, now);
        MergeInto(first, second, link, decided);
        return decided;
    }

    /// <summary>
    /// Separates <paramref name="member"/> from the profile: every link it is part of is reversed, and their identifiers
    /// are suppressed for it, so the same evidence does not merge it again. Members that were connected to the founder
    /// only through it leave too, each connected group into the home profile of its earliest member. The founder stays.
    /// </summary>
    public static IReadOnlyList<ProfileEvent> Split(Profile profile, string member, string decidedBy, string? reason, DateTimeOffset now)
    {
        if (profile.ErasedAt is not null)
        {
            throw Erased(profile);
        }

        if (!profile.HasMember(member))
        {
            throw new IdentityRuleException(StatusCodes.Status422UnprocessableEntity, "not-a-member", $"Customer '{member}' is not a member of profile '{profile.Id}'.");
        }

        if (member == profile.Founder)
        {
            throw new IdentityRuleException(StatusCodes.Status422UnprocessableEntity, "founding-member",
                $"Customer '{member}' founded profile '{profile.Id}' and keeps it; separate the other members instead.");
        }

        var reversed = profile.Links.Where(l => l.From == member || l.To == member).ToList();
        var suppressions = reversed.Where(l => l.IdentifierType is not null)
            .Select(l => new Suppression(member, l.IdentifierType!.Value, l.BlindIndex!)).Distinct().ToList();
        var kept = profile.Links.Except(reversed).ToList();

        // Connected groups of the remaining members over the remaining links; the founder's group stays.
        var group = profile.Members.ToDictionary(m => m.CustomerId, m => m.CustomerId, StringComparer.Ordinal);
        string Root(string c) => group[c] == c ? c : group[c] = Root(group[c]);
        foreach (var link in kept.Where(l => group.ContainsKey(l.From) && group.ContainsKey(l.To)))
        {
            group[Root(link.From)] = Root(link.To);
        }

        var founderGroup = Root(profile.Founder);
        var leaving = profile.Members.Where(m => m.CustomerId == member || Root(m.CustomerId) != founderGroup)
            .GroupBy(m => m.CustomerId == member ? "\u0000" + member : Root(m.CustomerId))
            .Select(g => g.ToList())
            .Select(members =>
            {
                var ids = members.Select(m => m.CustomerId).ToHashSet(StringComparer.Ordinal);
                var contents = new ProfileContents(
                    members,
                    profile.Identifiers.Where(i => ids.Contains(i.CustomerId)).ToList(),
                    kept.Where(l => ids.Contains(l.From) && ids.Contains(l.To)).ToList(),
                    profile.Conflicts.Where(c => ids.Contains(c.CustomerId)).ToList(),
                    [.. profile.Suppressions.Where(s => ids.Contains(s.CustomerId)).Union(suppressions.Where(s => ids.Contains(s.CustomerId)))]);
                return new SplitOff(ProfileIds.HomeOf(members[0].CustomerId), contents);
            })
            .ToList();

        List<ProfileEvent> decided =
        [
            new(profile.Id, new ProfileSplit(profile.Id, member, reversed.Select(l => l.LinkId).ToList(), suppressions, leaving, decidedBy, reason, now)),
            .. leaving.Select(s => new ProfileEvent(s.ProfileId, new ProfileRestored(s.ProfileId, profile.Id, s.Contents, now))),
        ];
        return decided;
    }

    /// <summary>
    /// Erasing <paramref name="customerId"/> erases every member of its profile as it is now (<paramref name="profile"/>;
    /// null when identity resolution never saw the customer: a profile of one). The request names the members it means
    /// to erase (<paramref name="named"/>; it may leave them out only for a profile of one): when they are not exactly the
    /// current members, a merge or split was recorded since the person looked, and nothing is erased (409
    /// "membership-changed", with the current members), so a wrong merge recorded a moment earlier cannot destroy
    /// another person's data. Decides the members to erase, and <see cref="ProfileErased"/> when there is a profile.
    /// </summary>
    public static (IReadOnlyList<string> Members, IReadOnlyList<ProfileEvent> Events) Erase(Profile? profile, string customerId, IReadOnlyCollection<string>? named,
        string erasedBy, DateTimeOffset now)
    {
        IReadOnlyList<string> members = profile is null ? [customerId] : [.. profile.Members.Select(m => m.CustomerId)];
        if (named is null ? members.Count > 1 : !named.ToHashSet(StringComparer.Ordinal).SetEquals(members))
        {
            throw new IdentityRuleException(StatusCodes.Status409Conflict, "membership-changed",
                named is null
                    ? $"Customer '{customerId}' shares profile '{profile!.Id}' with others; name every member (\"members\") to erase them all."
                    : $"The profile of customer '{customerId}' has other members than the request names; nothing was erased.",
                new Dictionary<string, object?> { ["profileId"] = profile?.Id ?? ProfileIds.HomeOf(customerId), ["members"] = members });
        }

        return profile is null || profile.ErasedAt is not null
            ? (members, [])
            : (members, [new ProfileEvent(profile.Id, new ProfileErased(profile.Id, customerId, members, erasedBy, now))]);
    }

    /// <summary>An erased profile is neither merged nor split (409 "profile-erased").</summary>
    public static void RefuseErased(Profile profile)
    {
        if (profile.ErasedAt is not null)
        {
            throw Erased(profile);
        }
    }

    private static IdentityRuleException Erased(Profile profile) => new(StatusCodes.Status409Conflict, "profile-erased",
        $"Profile '{profile.Id}' was erased at {profile.ErasedAt:O}; it is no longer linked or split.");

    private static Profile Start(string customerId, DateTimeOffset now, List<ProfileEvent> decided) =>
        Append(null, decided, new ProfileStarted(ProfileIds.HomeOf(customerId), customerId, now));

    private static Profile Append(Profile? state, List<ProfileEvent> decided, object @event)
    {
        var next = Profile.Fold(state, @event)!;
        decided.Add(new ProfileEvent(next.Id, @event));
        return next;
    }

    /// <summary>The older profile (by start, then id) keeps its id and takes the other's contents; the other points to it.</summary>
    private static (Profile Merged, string Absorbed) MergeInto(Profile a, Profile b, ProfileLink link, List<ProfileEvent> decided)
    {
        var (keeper, absorbed) = (a.StartedAt, a.Id).CompareTo((b.StartedAt, b.Id)) <= 0 ? (a, b) : (b, a);
        var merged = Append(keeper, decided, new ProfilesMerged(keeper.Id, absorbed.Id, link.LinkId, link.From, link.To, link.Rule, link.IdentifierType,
            link.BlindIndex, link.Evidence, link.DecidedBy, absorbed.Contents, link.LinkedAt));
        decided.Add(new ProfileEvent(absorbed.Id, new ProfileAbsorbed(absorbed.Id, keeper.Id, link.LinkId, link.LinkedAt)));
        return (merged, absorbed.Id);
    }

    private static Profile Conflict(Profile current, string customerId, string? otherProfileId, Identifier identifier, (IdentifierType Type, int Limit, int Count) limit,
        IReadOnlyList<Evidence> evidence, DateTimeOffset now, List<ProfileEvent> decided)
    {
        if (current.Conflicts.Any(c => c.CustomerId == customerId && c.OtherProfileId == otherProfileId && c.IdentifierType == identifier.Type && c.BlindIndex == identifier.BlindIndex))
        {
            return current;
        }

        var id = LinkIdOf(evidence[0].TouchpointId, current.Id, otherProfileId ?? identifier.BlindIndex);
        return Append(current, decided, new ProfileLinkConflict(current.Id, id, customerId, otherProfileId, $"limit-{JsonNamingPolicy.KebabCaseLower.ConvertName(limit.Type.ToString())}", identifier.Type, identifier.BlindIndex,
            limit.Limit, evidence, now));
    }

    /// <summary>The identifier does not link these two profiles when a split suppressed it for a member of either.</summary>
    private static bool IsSuppressed(Profile a, Profile b, Identifier identifier) =>
        a.Suppressions.Concat(b.Suppressions).Any(s => s.IdentifierType == identifier.Type && s.BlindIndex == identifier.BlindIndex
            && (a.HasMember(s.CustomerId) || b.HasMember(s.CustomerId)));

    /// <summary>The first type whose distinct values exceed its limit, or null.</summary>
    private static (IdentifierType Type, int Limit, int Count)? BrokenLimit(IEnumerable<Identifier> identifiers, IdentityRules rules) =>
        identifiers.Distinct().GroupBy(i => i.Type)
            .Select(g => (Type: g.Key, Limit: rules.LimitOf(g.Key), Count: g.Count()))
            .Where(t => t.Limit is { } max && t.Count > max)
            .Select(t => ((IdentifierType, int, int)?)(t.Type, t.Limit!.Value, t.Count))
            .FirstOrDefault();

    /// <summary>Ids derived from what they are about, so the decisions stay pure and a replay decides the same ids.</summary>
    private static Guid LinkIdOf(Guid touchpointId, string a, string b, DateTimeOffset? at = null) =>
        new(SHA256.HashData(Encoding.UTF8.GetBytes($"{touchpointId}|{a}|{b}|{at:O}")).AsSpan(0, 16));
}
