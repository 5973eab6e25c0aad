using Marten;

namespace CustomerJourney.Identity;

/// <summary>Which profile a customer is in now.</summary>
public sealed class ProfileMembership
{
    /// <summary>The customer id.</summary>
    public string Id { get; set; } = "";

    public string ProfileId { get; set; } = "";
}

/// <summary>A customer holds an identifier (by its blind index): how a new touchpoint finds the profiles it may link to.</summary>
public sealed class IdentifierHolder
{
    /// <summary>"&lt;type&gt;:&lt;blind index&gt;:&lt;customer id&gt;".</summary>
    public string Id { get; set; } = "";

    /// <summary>"&lt;type&gt;:&lt;blind index&gt;", indexed.</summary>
    public string Key { get; set; } = "";

    public string CustomerId { get; set; } = "";

    public static string KeyOf(Identifier identifier) => $"{identifier.Type}:{identifier.BlindIndex}";

    public static string IdOf(string key, string customerId) => $"{key}:{customerId}";
}

/// <summary>
/// The identifier → profile lookups: documents derived from the profile events, written by <see cref="ProfileWriter"/>
/// in the transaction that appends those events (so they are exactly as current as the streams, and read under the
/// same locks a decision holds). Membership follows merges and splits; a holder is per customer, so it never moves. An
/// erasure deletes both for every member.
/// </summary>
public static class ProfileLookups
{
    public static void Apply(IDocumentOperations operations, IEnumerable<object> events)
    {
        foreach (var @event in events)
        {
            // Membership follows the one fold of where profile events move members.
            var moves = ProfileGraph.Moves(@event).Select(m => new ProfileMembership { Id = m.CustomerId, ProfileId = m.ProfileId }).ToArray();
            if (moves.Length > 0)
            {
                operations.Store(moves);
            }

            switch (@event)
            {
                case ProfileIdentifierRecorded e:
                    var key = IdentifierHolder.KeyOf(new Identifier(e.IdentifierType, e.BlindIndex));
                    operations.Store(new IdentifierHolder { Id = IdentifierHolder.IdOf(key, e.CustomerId), Key = key, CustomerId = e.CustomerId });
                    break;
                case ProfileErased e:
                    // The profile's identifiers leave the blind index: no later touchpoint finds (and links to) an erased person.
                    var members = e.Members.ToArray();
                    operations.DeleteWhere<IdentifierHolder>(h => h.CustomerId.IsOneOf(members));
                    operations.DeleteWhere<ProfileMembership>(m => m.Id.IsOneOf(members));
                    break;
            }
        }
    }
}
