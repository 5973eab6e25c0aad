using System.Text.RegularExpressions;

namespace CustomerJourney.Infrastructure;

/// <summary>
/// The rules <see cref="FieldReader"/> applies to a JSON member, applied to a member of a typed request body that JSON
/// binding has already filled (its type checked, undefined members refused by the JSON options). Each check names the
/// field as the client spelled it (under <paramref name="prefix"/>, "data" for a batch item) and returns the value,
/// or null with the reason in <see cref="Errors"/>.
/// </summary>
public sealed class FieldChecks(FieldErrors errors, string prefix = "")
{
    public FieldErrors Errors { get; } = errors;

    public string PathOf(string name) => prefix.Length == 0 ? name : $"{prefix}.{name}";

    /// <summary>Refuses a field for a reason of the caller's own (a rule between fields).</summary>
    public void Refuse(string name, string reason) => Errors.Add(PathOf(name), reason);

    private bool Present(string name, object? value, bool required)
    {
        if (value is not null)
        {
            return true;
        }

        if (required)
        {
            Refuse(name, "is required.");
        }

        return false;
    }

    /// <summary>A short identifier-like text: no control characters.</summary>
    public string? Text(string name, string? value, bool required = true, int maxLength = FieldReader.ShortTextMax, Regex? pattern = null,
        string? patternHint = null) =>
        Present(name, value, required) ? FieldReader.CheckText(Errors, PathOf(name), value!, maxLength, allowLineBreaks: false, pattern, patternHint) : null;

    /// <summary>Free text a person wrote: line breaks and tabs allowed, other control characters not.</summary>
    public string? FreeText(string name, string? value, bool required = true, int maxLength = FieldReader.FreeTextMax) =>
        Present(name, value, required) ? FieldReader.CheckText(Errors, PathOf(name), value!, maxLength, allowLineBreaks: true, null, null) : null;

    public T? Choice<T>(string name, string? value, IReadOnlyDictionary<string, T> choices, bool required = true)
        where T : struct
    {
        if (Text(name, value, required, maxLength: 40) is not { } text)
        {
            return null;
        }

        if (choices.TryGetValue(text, out var choice))
        {
            return choice;
        }

        Refuse(name, $"must be one of: {string.Join(", ", choices.Keys)}.");
        return null;
    }

    public decimal? Amount(string name, decimal? value, bool required = true) =>
        Present(name, value, required) ? FieldReader.CheckAmount(Errors, PathOf(name), value!.Value) : null;

    public string? Currency(string name, string? value, bool required = true)
    {
        var code = Text(name, value, required, maxLength: 3);
        if (code is not null && !Currencies.IsIso4217(code))
        {
            Refuse(name, "must be an ISO 4217 currency code such as USD or EUR.");
            return null;
        }

        return code;
    }

    /// <summary>An instant in ISO 8601 with an explicit offset ("2024-05-01T10:00:00Z", "...+02:00").</summary>
    public DateTimeOffset? Instant(string name, string? value, bool required = true)
    {
        if (Text(name, value, required, maxLength: 40) is not { } text)
        {
            return null;
        }

        if (FieldReader.TryParseInstant(text, out var instant))
        {
            return instant;
        }

        Refuse(name, "must be an ISO 8601 date and time with an offset, e.g. 2024-05-01T10:00:00Z.");
        return null;
    }
}
