namespace CustomerJourney.Infrastructure;

/// <summary>Reads query parameters strictly: a malformed value is a 400, never silently ignored.</summary>
public sealed class ReadQuery(HttpRequest request)
{
    public FieldErrors Errors { get; } = new();

    public DateTimeOffset? Instant(string name)
    {
        if (request.Query[name] is not { Count: > 0 } values)
        {
            return null;
        }

        // An unencoded "+" in "+02:00" arrives as a space; read it as the offset the client meant.
        if (values.Count == 1 && FieldReader.TryParseInstant(values[0]!.Replace(' ', '+'), out var instant))
        {
            return instant;
        }

        Errors.Add(name, "must be an ISO 8601 date and time with an offset, e.g. 2024-05-01T10:00:00Z.");
        return null;
    }

    public int Integer(string name, int fallback, int min, int max)
    {
        if (request.Query[name] is not { Count: > 0 } values)
        {
            return fallback;
        }

        if (values.Count == 1 && int.TryParse(values[0], System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var number) && number >= min && number <= max)
        {
            return number;
        }

        Errors.Add(name, $"must be a whole number from {min} to {max}.");
        return fallback;
    }

    public string? Text(string name, int maxLength = FieldReader.ShortTextMax)
    {
        if (request.Query[name] is not { Count: > 0 } values)
        {
            return null;
        }

        if (values.Count == 1 && values[0] is { Length: > 0 } value && value.Length <= maxLength && !value.Any(char.IsControl))
        {
            return value;
        }

        Errors.Add(name, $"must be given once, as 1-{maxLength} characters without control characters.");
        return null;
    }

    public T? Choice<T>(string name, IReadOnlyDictionary<string, T> choices) where T : struct
    {
        if (Text(name) is not { } value)
        {
            return null;
        }

        if (choices.TryGetValue(value, out var choice))
        {
            return choice;
        }

        Errors.Add(name, $"must be one of: {string.Join(", ", choices.Keys.Order(StringComparer.Ordinal))}.");
        return null;
    }

    public bool? Bool(string name) => Choice(name, Booleans);

    private static readonly Dictionary<string, bool> Booleans = new(StringComparer.Ordinal) { ["true"] = true, ["false"] = false };
}
