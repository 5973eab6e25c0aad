using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CustomerJourney.Infrastructure;

/// <summary>Field-level problems of one touchpoint, keyed by the JSON path of the field ("data.amount").</summary>
public sealed class FieldErrors
{
    // Made on the first error: every submitted touchpoint gets a FieldErrors, and nearly all of them stay empty.
    private Dictionary<string, List<string>>? _errors;

    public bool Any => _errors is { Count: > 0 };

    public void Add(string field, string message)
    {
        _errors ??= new(StringComparer.Ordinal);
        if (!_errors.TryGetValue(field, out var list))
        {
            _errors[field] = list = [];
        }

        list.Add(message);
    }

    public IDictionary<string, string[]> ToDictionary() =>
        (_errors ?? []).ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
}

/// <summary>
/// Reads the members of one JSON object, checking type, range and shape, and remembering which members were
/// read so that <see cref="RejectUndefined"/> can refuse fields the catalogue does not define.
/// </summary>
public sealed partial class FieldReader
{
    /// <summary>
    /// Parses a command body. Duplicate names are refused, and a name spelled with an escaped lone surrogate (which
    /// .NET cannot unescape, so any lookup by name would throw) is reported as invalid JSON, not a server error.
    /// </summary>
    public static async Task<JsonDocument> ParseBodyAsync(Stream body, int maxDepth, CancellationToken cancellation)
    {
        try
        {
            return await JsonDocument.ParseAsync(body, new JsonDocumentOptions { MaxDepth = maxDepth, AllowDuplicateProperties = false }, cancellation);
        }
        catch (InvalidOperationException e)
        {
            throw new JsonException("A property name is not valid Unicode text.", e);
        }
    }

    public const int ShortTextMax = 200;
    public const int FreeTextMax = 4_000;

    // Beyond this a single touchpoint's money is a data error, not a purchase.
    public const decimal MaxAmount = 10_000_000m;

    private readonly JsonElement _object;
    private readonly string _prefix;
    // The names read so far: a handful per object, so a list (a set cost every touchpoint two arrays and a hash per name).
    private readonly List<string> _read = new(8);

    public FieldReader(JsonElement obj, string prefix, FieldErrors errors)
    {
        _object = obj;
        _prefix = prefix;
        Errors = errors;
    }

    public FieldErrors Errors { get; }

    public string PathOf(string name) => _prefix.Length == 0 ? name : $"{_prefix}.{name}";

    /// <summary>The same rules for the members of a request bound from this object, reported under the same path.</summary>
    public FieldChecks Checks() => new(Errors, _prefix);

    private JsonElement? Member(string name, bool required)
    {
        if (!WasRead(name))
        {
            _read.Add(name);
        }

        if (_object.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
        {
            return value;
        }

        if (required)
        {
            Errors.Add(PathOf(name), "is required.");
        }

        return null;
    }

    /// <summary>A short identifier-like text: no control characters.</summary>
    public string? Text(string name, bool required = true, int maxLength = ShortTextMax, Regex? pattern = null,
        string? patternHint = null) =>
        ReadText(name, required, maxLength, allowLineBreaks: false, pattern, patternHint);

    /// <summary>Free text a person wrote: line breaks and tabs allowed, other control characters not.</summary>
    public string? FreeText(string name, bool required = true, int maxLength = FreeTextMax) =>
        ReadText(name, required, maxLength, allowLineBreaks: true, null, null);

    private string? ReadText(string name, bool required, int maxLength, bool allowLineBreaks, Regex? pattern,
        string? patternHint)
    {
        if (Member(name, required) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            Errors.Add(PathOf(name), "must be a string.");
            return null;
        }

        string text;
        try
        {
            text = value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            Errors.Add(PathOf(name), "is not valid Unicode text.");
            return null;
        }

        // The path is spelled out only for a problem: most fields have none.
        if (TextProblem(text, maxLength, allowLineBreaks, pattern, patternHint) is { } problem)
        {
            Errors.Add(PathOf(name), problem);
            return null;
        }

        return text;
    }

    /// <summary>The text rules, for a JSON member or a member of a typed request body: the text, or null with the reason in <paramref name="errors"/>.</summary>
    internal static string? CheckText(FieldErrors errors, string path, string text, int maxLength, bool allowLineBreaks, Regex? pattern, string? patternHint)
    {
        if (TextProblem(text, maxLength, allowLineBreaks, pattern, patternHint) is { } problem)
        {
            errors.Add(path, problem);
            return null;
        }

        return text;
    }

    private static string? TextProblem(string text, int maxLength, bool allowLineBreaks, Regex? pattern, string? patternHint)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "must not be empty.";
        }

        if (text.Length > maxLength)
        {
            return $"must be at most {maxLength} characters.";
        }

        if (!IsStorableText(text, allowLineBreaks))
        {
            return "must not contain control characters or invalid Unicode.";
        }

        if (pattern is not null && !pattern.IsMatch(text))
        {
            return patternHint ?? "has an invalid format.";
        }

        return null;
    }

    // PostgreSQL cannot store NUL in text or jsonb, other control characters have no business in a
    // touchpoint, and a lone surrogate cannot be encoded as UTF-8.
    private static bool IsStorableText(string text, bool allowLineBreaks)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                continue;
            }

            if (char.IsSurrogate(c) || (char.IsControl(c) && !(allowLineBreaks && c is '\n' or '\r' or '\t')))
            {
                return false;
            }
        }

        return true;
    }

    public bool? Bool(string name, bool required = true)
    {
        if (Member(name, required) is not { } value)
        {
            return null;
        }

        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return value.GetBoolean();
        }

        Errors.Add(PathOf(name), "must be true or false.");
        return null;
    }

    public int? Integer(string name, int min, int max, bool required = true)
    {
        if (Member(name, required) is not { } value)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number >= min &&
            number <= max)
        {
            return number;
        }

        Errors.Add(PathOf(name), $"must be a whole number from {min} to {max}.");
        return null;
    }

    public double? Number(string name, double min, double max, bool required = true)
    {
        if (Member(name, required) is not { } value)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number) && number >= min && number <= max)
        {
            return number;
        }

        Errors.Add(PathOf(name), max == double.MaxValue ? $"must be a number of at least {min}." : $"must be a number from {min} to {max}.");
        return null;
    }

    public decimal? Amount(string name, bool required = true)
    {
        if (Member(name, required) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDecimal(out var amount))
        {
            Errors.Add(PathOf(name), "must be a number.");
            return null;
        }

        return CheckAmount(Errors, PathOf(name), amount);
    }

    /// <summary>The amount rules, for a JSON member or a member of a typed request body.</summary>
    internal static decimal? CheckAmount(FieldErrors errors, string path, decimal amount)
    {
        if (amount < 0)
        {
            errors.Add(path, "must not be negative.");
            return null;
        }

        if (amount > MaxAmount)
        {
            errors.Add(path, $"must not exceed {MaxAmount.ToString(CultureInfo.InvariantCulture)}.");
            return null;
        }

        if (decimal.Round(amount, 4) != amount)
        {
            errors.Add(path, "must have at most 4 decimal places.");
            return null;
        }

        return amount;
    }

    public string? Currency(string name, bool required = true)
    {
        var code = Text(name, required, maxLength: 3);
        if (code is not null && !Currencies.IsIso4217(code))
        {
            Errors.Add(PathOf(name), "must be an ISO 4217 currency code such as USD or EUR.");
            return null;
        }

        return code;
    }

    /// <summary>An instant in ISO 8601 with an explicit offset ("2024-05-01T10:00:00Z", "...+02:00").</summary>
    public DateTimeOffset? Instant(string name, bool required = true)
    {
        var text = Text(name, required, maxLength: 40);
        if (text is null)
        {
            return null;
        }

        if (TryParseInstant(text, out var instant))
        {
            return instant;
        }

        Errors.Add(PathOf(name), "must be an ISO 8601 date and time with an offset, e.g. 2024-05-01T10:00:00Z.");
        return null;
    }

    public static bool TryParseInstant(string text, out DateTimeOffset instant)
    {
        instant = default;
        return InstantPattern().IsMatch(text) &&
               DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out instant);
    }

    public T? Choice<T>(string name, IReadOnlyDictionary<string, T> choices, bool required = true)
        where T : struct
    {
        var text = Text(name, required, maxLength: 40);
        if (text is null)
        {
            return null;
        }

        if (choices.TryGetValue(text, out var choice))
        {
            return choice;
        }

        Errors.Add(PathOf(name), $"must be one of: {string.Join(", ", choices.Keys)}.");
        return null;
    }

    public FieldReader? Object(string name, bool required = true)
    {
        if (Member(name, required) is not { } value)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Object)
        {
            return new FieldReader(value, PathOf(name), Errors);
        }

        Errors.Add(PathOf(name), "must be a JSON object.");
        return null;
    }

    public IReadOnlyList<T>? Array<T>(string name, int maxItems, Func<JsonElement, string, T?> readItem,
        bool required = true)
    {
        if (Member(name, required) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            Errors.Add(PathOf(name), "must be a JSON array.");
            return null;
        }

        if (value.GetArrayLength() > maxItems)
        {
            Errors.Add(PathOf(name), $"must have at most {maxItems} items.");
            return null;
        }

        var items = new List<T>();
        var index = 0;
        foreach (var element in value.EnumerateArray())
        {
            if (readItem(element, $"{PathOf(name)}[{index}]") is { } item)
            {
                items.Add(item);
            }

            index++;
        }

        return items;
    }

    private static readonly JsonSerializerOptions RequestJson = CreateRequestJson();

    private static JsonSerializerOptions CreateRequestJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        CritterStackSetup.ConfigureRequestJson(options);
        return options;
    }

    /// <summary>
    /// Binds the members not read yet that <typeparamref name="T"/> itself declares (not its base type's) to a typed
    /// request, as an endpoint binds its body, so a rule about those fields has one home: the request type. A member
    /// of the wrong type is refused here; members <typeparamref name="T"/> does not declare are left for
    /// <see cref="RejectUndefined"/>. Null when a member was refused.
    /// </summary>
    public T? Bind<T>() where T : class
    {
        var declared = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Select(p => RequestJson.PropertyNamingPolicy!.ConvertName(p.Name)).ToHashSet(StringComparer.Ordinal);
        var members = new JsonObject();
        foreach (var property in _object.EnumerateObject())
        {
            if (TryGetName(property, out var name) && declared.Contains(name) && !WasRead(name))
            {
                _read.Add(name);
                members[name] = JsonNode.Parse(property.Value.GetRawText());
            }
        }

        try
        {
            return members.Deserialize<T>(RequestJson);
        }
        catch (JsonException e)
        {
            Errors.Add(PathOf(TypedJsonBodies.FieldOf(e.Path)), TypedJsonBodies.Reason(e));
        }
        catch (InvalidOperationException)
        {
            // A string spelling a lone surrogate cannot become .NET text.
            Errors.Add(_prefix.Length == 0 ? "$" : _prefix, "has a member that is not valid Unicode text.");
        }

        return null;
    }

    /// <summary>Clients may only send the fields the catalogue defines: a typo must not silently lose data.</summary>
    public void RejectUndefined()
    {
        foreach (var property in _object.EnumerateObject())
        {
            // Compared as UTF-8 where it lies: a defined field's name is never copied into a string.
            if (WasRead(property))
            {
                continue;
            }

            if (!TryGetName(property, out var name))
            {
                Errors.Add(PathOf("?"), "a field name is not valid Unicode text.");
            }
            else if (!WasRead(name))
            {
                Errors.Add(PathOf(name), "is not a defined field.");
            }
        }
    }

    private bool WasRead(string name)
    {
        foreach (var read in _read)
        {
            if (string.Equals(read, name, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private bool WasRead(JsonProperty property)
    {
        try
        {
            foreach (var read in _read)
            {
                if (property.NameEquals(read))
                {
                    return true;
                }
            }
        }
        catch (InvalidOperationException)
        {
            // A name escaping a lone surrogate: reported below as not valid Unicode text.
        }

        return false;
    }

    // JSON escapes can spell lone surrogates, which .NET refuses to turn into a string.
    private static bool TryGetName(JsonProperty property, out string name)
    {
        try
        {
            name = property.Name;
            return true;
        }
        catch (InvalidOperationException)
        {
            name = "";
            return false;
        }
    }

    /// <summary>
    /// A string property of the root object, read token by token (nothing else of the JSON is kept): null when the JSON
    /// is not an object, has no such property, or it is not a string, or the JSON is unreadable before it.
    /// </summary>
    public static string? RootString(ReadOnlySpan<byte> json, ReadOnlySpan<byte> name)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var found = reader.ValueTextEquals(name);
                reader.Read();
                if (found)
                {
                    return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }

                reader.Skip();
            }

            return null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Unreadable JSON, or a string that is not valid Unicode text.
            return null;
        }
    }

    /// <summary>A JSON string's text if it is storable (see <see cref="Text"/>), else null.</summary>
    public static string? StorableString(JsonElement element, int maxLength)
    {
        if (element.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        try
        {
            var text = element.GetString()!;
            return text.Length is > 0 and var length && length <= maxLength && !string.IsNullOrWhiteSpace(text) &&
                   IsStorableText(text, allowLineBreaks: false)
                ? text
                : null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|z|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex InstantPattern();
}
