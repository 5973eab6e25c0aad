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

    /// <summary>The plaintext; or that the customer was erased; or that the stored text is damaged (bad base64, wrong length, failed tag).</summary>
    OpenedField Open(string customerId, string stored);

    /// <summary>
    /// Stores the keys this cipher made for these customers (whose first touchpoints are about to be committed). False
    /// when another writer stored a key for one of them first: what was sealed here must be sealed again.
    /// </summary>
    Task<bool> KeepNewKeysAsync(IReadOnlyCollection<string> customerIds, CancellationToken cancellation);

    /// <summary>
    /// Of these customers, the ones this cipher made a key for that another writer has stored a key for since: the cipher
    /// takes the stored key from then on, and what it sealed for them before must be sealed again (<see cref="Reseal"/>).
    /// Answers every such customer among these, also those taken by an earlier call. A writer calls it holding the customers'
    /// locks, under which no other writer can store their keys before its own <see cref="KeepNewKeysAsync"/>.
    /// </summary>
    Task<IReadOnlySet<string>> TakeKeysStoredMeanwhileAsync(IReadOnlyCollection<string> customerIds, CancellationToken cancellation);

    /// <summary>A value this cipher sealed for the customer with the key it made, sealed with the key it took since.</summary>
    string Reseal(string customerId, string sealedValue);
}

public enum OpenedState
{
    Opened,
    Erased,
    Unreadable,
}

/// <summary>
/// What opening one sealed field gave. Erased and unreadable are kept apart: an erasure is a customer's right being
/// honoured, a damaged row (disk, bad restore) is a fault an operator must hear about.
/// </summary>
public readonly record struct OpenedField(OpenedState State, string? Plaintext)
{
    public static readonly OpenedField Erased = new(OpenedState.Erased, null);
    public static readonly OpenedField Unreadable = new(OpenedState.Unreadable, null);

    public static OpenedField Of(string plaintext) => new(OpenedState.Opened, plaintext);
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

    public OpenedField Open(string customerId, string stored) => OpenedField.Of(stored);

    public Task<bool> KeepNewKeysAsync(IReadOnlyCollection<string> customerIds, CancellationToken cancellation) => Task.FromResult(true);

    public Task<IReadOnlySet<string>> TakeKeysStoredMeanwhileAsync(IReadOnlyCollection<string> customerIds, CancellationToken cancellation) =>
        Task.FromResult<IReadOnlySet<string>>(new HashSet<string>());

    public string Reseal(string customerId, string sealedValue) => sealedValue;
}

public static class PersonalFields
{
    public const string Erased = "[erased]";
    public const string Redacted = "[redacted]";

    /// <summary>The stored text could not be opened although the customer was not erased: a damaged row, not a decision.</summary>
    public const string Unreadable = "[unreadable]";

    /// <summary>A copy of the touchpoint with <paramref name="map"/> applied to every personal field that has a value.</summary>
    public static Touchpoint Map(Touchpoint touchpoint, Func<string, string> map)
    {
        string? Map(string? value) => value is null ? null : map(value);
        var own = touchpoint switch
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
            TrackingApi.AccountGrouped g => g with { Traits = Map(g.Traits) },
            TrackingApi.IdentityRecorded i => i with { Traits = Map(i.Traits) },
            TrackingApi.IdentitiesAliased a => a with { PreviousId = Map(a.PreviousId)! },
            _ => touchpoint,
        };

        // What a Segment tracking call carried, on a touchpoint of any kind (see Touchpoint.Call).
        return own.Call is null ? own : own with { Call = own.Call.MapPersonal(Map) };
    }

    /// <summary>
    /// The one mapping from a stored personal value to what a reader sees: the plaintext, or [erased], or [unreadable]
    /// (reported through <paramref name="unreadable"/>), or [redacted] for roles without access. Every reader calls it.
    /// </summary>
    public static string Show(IPersonalDataCipher cipher, string customerId, string stored, bool mayReadPersonalData, Action? unreadable)
    {
        // Erased wins over redacted, so every role can tell a forgotten customer apart.
        if (cipher.IsErased(customerId))
        {
            return Erased;
        }

        if (!mayReadPersonalData)
        {
            return Redacted;
        }

        var opened = cipher.Open(customerId, stored);
        switch (opened.State)
        {
            case OpenedState.Opened:
                return opened.Plaintext!;
            case OpenedState.Erased:
                return Erased;
            default:
                unreadable?.Invoke();
                return Unreadable;
        }
    }

    /// <summary>The touchpoint as a reader may see it: every personal field through <see cref="Show"/>.</summary>
    public static Touchpoint ForReader(Touchpoint touchpoint, IPersonalDataCipher cipher, bool mayReadPersonalData, Action? unreadable = null) =>
        Map(touchpoint, stored => Show(cipher, touchpoint.CustomerId, stored, mayReadPersonalData, unreadable));

    /// <summary>
    /// The JSON paths of a stored event type's <see cref="PersonalDataAttribute"/> properties (the store writes camelCase):
    /// its own ("description"), and those of a record it holds ("call", "context" for what a tracking call carried).
    /// </summary>
    public static IReadOnlyList<string[]> JsonPathsOf(Type eventType) => JsonPaths.GetOrAdd(eventType, t => t.GetProperties()
        .SelectMany(p => IsPersonal(p)
            ? [[Camel(p.Name)]]
            : p.PropertyType.IsClass && p.PropertyType != typeof(string)
                ? p.PropertyType.GetProperties().Where(IsPersonal).Select(inner => new[] { Camel(p.Name), Camel(inner.Name) })
                : []).ToArray());

    private static bool IsPersonal(System.Reflection.PropertyInfo property) => property.IsDefined(typeof(PersonalDataAttribute), inherit: true);

    private static string Camel(string name) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(name);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, string[][]> JsonPaths = new();
}
