namespace CustomerJourney.Touchpoints;

/// <summary>
/// The one seam personal data passes through (names, e-mail, phone, free text): every
/// <see cref="PersonalDataAttribute"/> property is sealed here before it is stored and opened here before
/// it is shown, so encryption with per-customer keys can replace the default without touching any slice.
/// </summary>
public interface IPersonalDataProtector
{
    string Seal(string customerId, string plaintext);

    string Open(string customerId, string stored);
}

/// <summary>The foundation stores personal fields as given; the access capability swaps in encryption.</summary>
public sealed class PlaintextPersonalData : IPersonalDataProtector
{
    public string Seal(string customerId, string plaintext) => plaintext;

    public string Open(string customerId, string stored) => stored;
}

public static class PersonalFields
{
    /// <summary>A copy of the touchpoint with every personal field opened through the seam, for showing it.</summary>
    public static Touchpoint Open(Touchpoint touchpoint, IPersonalDataProtector protector)
    {
        var id = touchpoint.CustomerId;
        string? Open(string? stored) => stored is null ? null : protector.Open(id, stored);
        return touchpoint switch
        {
            ComplaintLogged c => c with { Description = Open(c.Description)! },
            ApologyIssued a => a with { Wording = Open(a.Wording)! },
            FollowUpCallCompleted f => f with { Notes = Open(f.Notes) },
            SurveyAnswered s => s with { Comment = Open(s.Comment) },
            ContactDetailsChanged d => d with { Name = Open(d.Name), Email = Open(d.Email), Phone = Open(d.Phone) },
            _ => touchpoint,
        };
    }
}
