using System.Security.Cryptography;
using System.Text;

namespace CustomerJourney.Access;

/// <summary>A customer's personal-data key as the key store holds it: sealed with the key-encryption key <see cref="KekId"/>.</summary>
public sealed record WrappedKey(string KekId, byte[] Sealed);

/// <summary>
/// The key-encryption keys (KEKs) that wrap every per-customer key before it reaches PostgreSQL, so no raw
/// personal-data key is ever written to the database, its WAL or its backups. This is the seam where a KMS or
/// an HSM can stand in: wrapping and unwrapping are its only duties, and the KEK never leaves it.
/// </summary>
public interface IKeyEncryptionKeys
{
    /// <summary>The KEK new keys are wrapped with.</summary>
    string CurrentId { get; }

    WrappedKey Wrap(string customerId, byte[] key);

    /// <summary>The raw key; throws <see cref="KeyEncryptionKeyUnavailableException"/> when its KEK is not (or no longer) held.</summary>
    byte[] Unwrap(string customerId, WrappedKey wrapped);
}

public sealed class KeyEncryptionKeyUnavailableException(string kekId)
    : Exception($"The key-encryption key '{kekId}' is not available: it was destroyed by a rotation, or this instance is not configured with it.")
{
    public string KekId { get; } = kekId;
}

/// <summary>Configuration section "KeyEncryption". Either a directory of key files (rotation writes there) or one key, e.g. from the environment.</summary>
public sealed class KeyEncryptionOptions
{
    /// <summary>
    /// The documented Development-only KEK (base64 of 32 bytes); refused in any other environment, because it is public.
    /// </summary>
    public const string DevelopmentKey = "Y3VzdG9tZXJqb3VybmV5LWRldmVsb3BtZW50LWtlayE=";

    public const int MinimumKeyBytes = 32;

    /// <summary>
    /// A directory of key files "&lt;id&gt;.kek" (base64 of 32 random bytes). The greatest id is current; the others
    /// only unwrap until a rotation has re-wrapped their keys and destroyed them.
    /// </summary>
    public string? Directory { get; set; }

    /// <summary>One KEK, base64 (e.g. KeyEncryption__Key in the environment); used when no directory is configured.</summary>
    public string? Key { get; set; }

    /// <summary>KEKs a rotation away from <see cref="Key"/> still needs to unwrap with (base64 each).</summary>
    public List<string> RetiredKeys { get; set; } = [];

    /// <summary>How often the directory is read again, so every instance adopts a rotation's new KEK.</summary>
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The KEKs this instance holds: from <see cref="KeyEncryptionOptions.Directory"/> (read again every
/// <see cref="KeyEncryptionOptions.ReloadInterval"/>, and at once when a wrapped key names a KEK not seen yet), or
/// from <see cref="KeyEncryptionOptions.Key"/> and its retired keys. Keys are wrapped with AES-256-GCM, the customer
/// id and the KEK id as associated data, so a wrapped key cannot be moved to another customer's row.
/// </summary>
public sealed class KeyEncryptionKeyRing : IKeyEncryptionKeys
{
    private const string FileExtension = ".kek";
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private readonly KeyEncryptionOptions options;
    private readonly bool isDevelopment;
    private readonly TimeProvider clock;
    private readonly Lock gate = new();
    private (IReadOnlyDictionary<string, byte[]> Keys, string Current, DateTimeOffset ReadAt) ring;

    public KeyEncryptionKeyRing(KeyEncryptionOptions options, bool isDevelopment, TimeProvider clock)
    {
        this.options = options;
        this.isDevelopment = isDevelopment;
        this.clock = clock;
        ring = Read();
    }

    public string CurrentId => Ring().Current;

    /// <summary>The directory rotation writes to, or null when the KEKs come from configuration.</summary>
    public string? Directory => options.Directory;

    public IReadOnlyCollection<string> HeldIds => Ring().Keys.Keys.ToList();

    public WrappedKey Wrap(string customerId, byte[] key)
    {
        var (keys, current, _) = Ring();
        var sealedKey = new byte[NonceSize + TagSize + key.Length];
        RandomNumberGenerator.Fill(sealedKey.AsSpan(0, NonceSize));
        using var aes = new AesGcm(keys[current], TagSize);
        aes.Encrypt(sealedKey.AsSpan(0, NonceSize), key, sealedKey.AsSpan(NonceSize + TagSize), sealedKey.AsSpan(NonceSize, TagSize),
            AssociatedData(customerId, current));
        return new WrappedKey(current, sealedKey);
    }

    public byte[] Unwrap(string customerId, WrappedKey wrapped)
    {
        if (!Ring().Keys.TryGetValue(wrapped.KekId, out var kek))
        {
            // Another instance may have rotated to a KEK this one has not read yet.
            Reload();
            kek = Ring().Keys.GetValueOrDefault(wrapped.KekId) ?? throw new KeyEncryptionKeyUnavailableException(wrapped.KekId);
        }

        var key = new byte[wrapped.Sealed.Length - NonceSize - TagSize];
        using var aes = new AesGcm(kek, TagSize);
        aes.Decrypt(wrapped.Sealed.AsSpan(0, NonceSize), wrapped.Sealed.AsSpan(NonceSize + TagSize), wrapped.Sealed.AsSpan(NonceSize, TagSize), key,
            AssociatedData(customerId, wrapped.KekId));
        return key;
    }

    /// <summary>Writes a new KEK into the directory and makes it current (the first step of a rotation).</summary>
    public string CreateKey()
    {
        if (options.Directory is not { } directory)
        {
            throw new InvalidOperationException(
                "KeyEncryption:Directory is not configured, so no new key-encryption key can be written. Set KeyEncryption__Key to the new key, " +
                "move the old one to KeyEncryption__RetiredKeys__0 on every instance, then run the rotation again.");
        }

        var id = $"kek-{clock.GetUtcNow():yyyyMMddTHHmmssfffZ}";
        var path = Path.Combine(directory, id + FileExtension);
        using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            file.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyEncryptionOptions.MinimumKeyBytes))));
            file.Flush(flushToDisk: true);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        Reload();
        return id;
    }

    /// <summary>Overwrites and deletes a KEK file of the directory: what it wrapped can never be unwrapped again.</summary>
    public void Destroy(string kekId)
    {
        if (options.Directory is not { } directory || kekId == CurrentId)
        {
            throw new InvalidOperationException($"The key-encryption key '{kekId}' is current or not in a key directory; it cannot be destroyed here.");
        }

        var path = Path.Combine(directory, kekId + FileExtension);
        if (File.Exists(path))
        {
            using (var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None))
            {
                file.Write(new byte[file.Length]);
                file.Flush(flushToDisk: true);
            }

            File.Delete(path);
        }

        Reload();
    }

    public void Reload()
    {
        var fresh = Read();
        lock (gate)
        {
            ring = fresh;
        }
    }

    private (IReadOnlyDictionary<string, byte[]> Keys, string Current, DateTimeOffset ReadAt) Ring()
    {
        var current = ring;
        if (options.Directory is not null && clock.GetUtcNow() - current.ReadAt > options.ReloadInterval)
        {
            Reload();
            current = ring;
        }

        return current;
    }

    private (IReadOnlyDictionary<string, byte[]> Keys, string Current, DateTimeOffset ReadAt) Read()
    {
        var keys = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        string? current = null;
        if (options.Directory is { } directory)
        {
            if (!System.IO.Directory.Exists(directory))
            {
                throw new InvalidOperationException($"KeyEncryption:Directory '{directory}' does not exist.");
            }

            foreach (var file in System.IO.Directory.EnumerateFiles(directory, "*" + FileExtension))
            {
                var id = Path.GetFileNameWithoutExtension(file);
                keys[id] = Decode(File.ReadAllText(file).Trim(), $"the key file '{file}'");
            }

            current = keys.Keys.LastOrDefault();
        }

        var configured = (string.IsNullOrWhiteSpace(options.Key) ? null : options.Key) ?? (isDevelopment && current is null ? KeyEncryptionOptions.DevelopmentKey : null);
        if (configured is not null)
        {
            var key = Decode(configured, "KeyEncryption:Key");
            var id = IdOf(key);
            keys[id] = key;
            current ??= id;
        }

        foreach (var retired in options.RetiredKeys)
        {
            var key = Decode(retired, "KeyEncryption:RetiredKeys");
            keys.TryAdd(IdOf(key), key);
        }

        if (current is null)
        {
            throw new InvalidOperationException(
                "No key-encryption key is configured. Set KeyEncryption__Directory to a directory holding a key file (scripts/run shows how), " +
                "or KeyEncryption__Key to base64 of 32 random bytes (e.g. `openssl rand -base64 32`). It must live outside the database.");
        }

        return (keys, current, clock.GetUtcNow());
    }

    private byte[] Decode(string base64, string where)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"The key-encryption key in {where} is not base64.");
        }

        if (key.Length < KeyEncryptionOptions.MinimumKeyBytes)
        {
            throw new InvalidOperationException($"The key-encryption key in {where} is shorter than {KeyEncryptionOptions.MinimumKeyBytes} bytes.");
        }

        if (!isDevelopment && base64 == KeyEncryptionOptions.DevelopmentKey)
        {
            throw new InvalidOperationException($"The key-encryption key in {where} is the documented Development key, which is public.");
        }

        // AES-256 takes exactly 32 bytes: a longer secret is condensed, not cut.
        return key.Length == KeyEncryptionOptions.MinimumKeyBytes ? key : SHA256.HashData(key);
    }

    /// <summary>A configured key's id: a digest, so the id says which key without revealing it.</summary>
    private static string IdOf(byte[] key) => "cfg-" + Convert.ToHexStringLower(SHA256.HashData(key))[..16];

    private static byte[] AssociatedData(string customerId, string kekId) => Encoding.UTF8.GetBytes($"{kekId}\n{customerId}");
}
