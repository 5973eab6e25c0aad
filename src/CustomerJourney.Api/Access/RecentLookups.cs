using Microsoft.Extensions.Caching.Memory;

namespace CustomerJourney.Access;

/// <summary>
/// Look-ups that every write repeats (the caller's API key, the customers' personal-data keys), kept in memory for at most
/// <see cref="Freshness"/>, counted from when the read began. Revocation and erasure are decisions of whichever instance
/// receives them: that one forgets at once, every other instance at the latest when its entry expires, so a revoked key
/// or a destroyed personal-data key is refused everywhere within <see cref="Freshness"/>, well under the second the
/// service promises. Nothing unknown is remembered: a key created on another instance works here at once.
/// </summary>
public sealed class RecentLookups : IDisposable
{
    /// <summary>How long another instance may go on using what it read before a revocation or an erasure.</summary>
    public static readonly TimeSpan Freshness = TimeSpan.FromMilliseconds(500);

    // Bounded, so a burst of new customers cannot grow the heap; expired entries are swept every second.
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = 200_000, ExpirationScanFrequency = TimeSpan.FromSeconds(1) });

    /// <summary>
    /// When a read that may be kept begins: its entry expires <see cref="Freshness"/> after this, however long the read took.
    /// The wall clock, not the app's TimeProvider: the cache judges expiry by it, and a test's fake clock must not keep a revoked key.
    /// </summary>
    public static DateTimeOffset ReadBegins() => DateTimeOffset.UtcNow;

    public bool TryGet<T>(string kind, string id, out T value)
    {
        if (_cache.TryGetValue((kind, id), out var found) && found is T typed)
        {
            value = typed;
            return true;
        }

        value = default!;
        return false;
    }

    public void Keep<T>(string kind, string id, T value, DateTimeOffset readBegan)
    {
        var expires = readBegan + Freshness;
        if (expires > DateTimeOffset.UtcNow)
        {
            _cache.Set((kind, id), value, new MemoryCacheEntryOptions { AbsoluteExpiration = expires, Size = 1 });
        }
    }

    public void Forget(string kind, string id) => _cache.Remove((kind, id));

    public void Dispose() => _cache.Dispose();
}
