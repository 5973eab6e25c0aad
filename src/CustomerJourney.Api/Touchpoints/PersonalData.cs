using CustomerJourney.Complaints;

namespace CustomerJourney.Touchpoints;

/// <summary>
/// The one seam personal data passes through (names, e-mail, phone, free text): every
/// <see cref="PersonalDataAttribute"/> property is sealed here before it is stored and opened here before
/// it is shown. A cipher covers the customers of one request, whose keys were fetched together, so sealing
/// and opening stay synchronous and the decisions that call them stay pure.
/// </summary>
public interface IPersonalDataCipher
{
    /// <summary>True when the customer's key was destroyed: their personal data can no longer be read or written.</summary>
    bool IsErased(string customerId);

    string Seal(string customerId, string plaintext);

    /// <summary>The plaintext, or null when the customer has been erased.</summary>
    string? Open(string customerId, string stored);

    /// <summary>
    /// Stores the keys this cipher made for these customers (whose first touchpoints are about to be committed). False
    /// when another writer stored a key for one of them first: what was sealed here must be sealed again.
    /// </summary>
    Task<bool> KeepNewKeysAsync(IReadOnlyCollection<string> customerIds, CancellationToken cancellation);
}

/// <summary>Gives the cipher for the customers a request touches.</summary>
public interface IPersonalDataProtector
{
    /// <param name="customerIds">The customers whose data will be sealed or opened.</param>
    /// <param name="forWriting">Make keys, in memory, for customers that have none yet (stored by <see cref="IPersonalDataCipher.KeepNewKeysAsync"/>).</param>
    /// <param name="cancellation">Cancels the key lookup.</param>
    Task<IPersonalDataCipher> ForCustomersAsync(IReadOnlyCollection<string> customerIds, bool forWriting, CancellationToken cancellation);
}

/// <summary>No encryption: for specs of pure functions, where the seam itself is not under test.</summary>
public sealed class PlaintextPersonalData : IPersonalDataCipher
{
    public bool IsErased(string customerId) => false;

    public string Seal(string customerId, string plaintext) => plaintext;

    public string? Open(string customerId, string stored) => stored;

    public Task<bool> KeepNewKeysAsync(IReadOnlyCollection<string> customerIds, CancellationToken cancellation) => Task.FromResult(true);
}

public static class PersonalFields
{
    public const string Erased = "[erased]";
    public const string Redacted = "[redacted]";

    /// <summary>A copy of the touchpoint with <paramref name="map"/> applied to every personal field that has a value.</summary>
    public static Touchpoint Map(Touchpoint touchpoint, Func<string, string> map)
    {
        string? Map(string? value) => value is null ? null : map(value);
        return touchpoint switch
        {
            ComplaintLogged c => c with { Description = Map(c.Description)! },
            ApologyIssued a => a with { Wording = Map(a.Wording)! },
            FollowUpCallCompleted f => f with { Notes = Map(f.Notes) },
            SurveyAnswered s => s with { Comment = Map(s.Comment) },
            ContactDetailsChanged d => d with { Name = Map(d.Name), Email = Map(d.Email), Phone = Map(d.Phone) },
            ComplaintAcknowledged a => a with { Reason = Map(a.Reason) },
            ComplaintEscalated e => e with { Reason = Map(e.Reason)! },
            RemedyDeclined r => r with { Reason = Map(r.Reason) },
            ComplaintAwaitingCustomer w => w with { Reason = Map(w.Reason)! },
            ComplaintResolved r => r with { Summary = Map(r.Summary)! },
            ComplaintClosed c => c with { Reason = Map(c.Reason) },
            ComplaintReopened r => r with { Reason = Map(r.Reason)! },
            _ => touchpoint,
        };
    }

    /// <summary>The touchpoint as a reader may see it: opened, or marked erased, or redacted for roles without access.</summary>
    public static Touchpoint ForReader(Touchpoint touchpoint, IPersonalDataCipher cipher, bool mayReadPersonalData)
    {
        var id = touchpoint.CustomerId;
        if (cipher.IsErased(id))
        {
            return Map(touchpoint, _ => Erased);
        }

        return mayReadPersonalData ? Map(touchpoint, stored => cipher.Open(id, stored) ?? Erased) : Map(touchpoint, _ => Redacted);
    }
}
