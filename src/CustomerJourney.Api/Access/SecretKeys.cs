namespace CustomerJourney.Access;

/// <summary>
/// How a keyed-hash secret kept outside the database is read from configuration (the tracking pseudonym key, the
/// identity blind-index key): base64 of at least 32 bytes; in Development a documented public key stands in when none is
/// set, and that public key is refused everywhere else. One home, so every such key is checked the same way.
/// </summary>
public static class SecretKeys
{
    public const int MinimumBytes = 32;

    /// <summary>
    /// The key's bytes; null when none is configured outside Development (the caller decides whether that is allowed).
    /// Throws when the value is not base64, shorter than <see cref="MinimumBytes"/>, or the public Development key outside Development.
    /// </summary>
    public static byte[]? Read(string? configured, string developmentKey, bool isDevelopment, string setting)
    {
        var base64 = configured is { Length: > 0 } ? configured : isDevelopment ? developmentKey : null;
        if (base64 is null)
        {
            return null;
        }

        if (base64 == developmentKey && !isDevelopment)
        {
            throw new InvalidOperationException($"{setting} is the public development key; set a secret one outside Development.");
        }

        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64);
        }
        catch (FormatException e)
        {
            throw new InvalidOperationException($"{setting} must be base64.", e);
        }

        return key.Length >= MinimumBytes ? key : throw new InvalidOperationException($"{setting} must hold at least {MinimumBytes} bytes (base64).");
    }
}
