namespace CustomerJourney.Access;

/// <summary>
/// The key store with what it answered kept for <see cref="RecentLookups.Freshness"/>: one write's request, its identity
/// matching and its churn-flag evaluation ask for the same customers' keys within milliseconds. An erasure through this
/// instance replaces the key by its tombstone at once; on another instance the key is gone when its entry expires.
/// Erasure never depends on that alone for writes: the ledger reads the register of erased customers in every append's
/// transaction.
/// </summary>
public sealed class RecentKeyStore(IPersonalDataKeyStore store, RecentLookups recent) : IPersonalDataKeyStore
{
    private const string Lookup = "personal-data-key";

    /// <summary>A kept answer: the key, or null for a destroyed one (customers without a key are not kept).</summary>
    private sealed record Kept(byte[]? Key);

    public async Task<IReadOnlyDictionary<string, byte[]?>> GetKeysAsync(IReadOnlyCollection<string> customerIds, CancellationToken cancellation)
    {
        var keys = new Dictionary<string, byte[]?>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var id in customerIds.Distinct(StringComparer.Ordinal))
        {
            if (recent.TryGet<Kept>(Lookup, id, out var kept))
            {
                keys[id] = kept.Key;
            }
            else
            {
                missing.Add(id);
            }
        }

        if (missing.Count > 0)
        {
            var began = RecentLookups.ReadBegins();
            var stored = await store.GetKeysAsync(missing, cancellation);
            Keep(stored, began);
            foreach (var (id, key) in stored)
            {
                keys[id] = key;
            }
        }

        return keys;
    }

    public async Task<IReadOnlyDictionary<string, byte[]?>> AddKeysAsync(IReadOnlyDictionary<string, byte[]> keys, CancellationToken cancellation)
    {
        var began = RecentLookups.ReadBegins();
        var stored = await store.AddKeysAsync(keys, cancellation);
        Keep(stored, began);
        return stored;
    }

    public async Task DestroyKeyAsync(string customerId, CancellationToken cancellation)
    {
        recent.Forget(Lookup, customerId);
        await store.DestroyKeyAsync(customerId, cancellation);
        recent.Keep(Lookup, customerId, new Kept(null), RecentLookups.ReadBegins());
    }

    private void Keep(IReadOnlyDictionary<string, byte[]?> stored, DateTimeOffset began)
    {
        foreach (var (id, key) in stored)
        {
            recent.Keep(Lookup, id, new Kept(key), began);
        }
    }
}
