using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Access;

/// <summary>
/// Personal fields are encrypted from the start with a key per customer (AES-256-GCM, the customer id as
/// associated data so a ciphertext cannot be moved to another customer). Erasure destroys the key in the
/// key store: every copy of the ciphertext, in events, projections, exports and backups, becomes unreadable
/// while amounts, dates, kinds and scores stay (crypto-shredding).
/// <para>
/// A writer's new customers get a key in memory only; it is stored when their first touchpoint is, so an item
/// refused for any reason leaves no key behind (<see cref="IPersonalDataCipher.KeepNewKeysAsync"/>).
/// </para>
/// </summary>
public sealed class EncryptedPersonalData(IPersonalDataKeyStore keys) : IPersonalDataProtector
{
    private const int KeySize = 32;

    public async Task<IPersonalDataCipher> ForCustomersAsync(IReadOnlyCollection<string> customerIds, bool forWriting, CancellationToken cancellation)
    {
        var stored = await keys.GetKeysAsync(customerIds, cancellation);
        var fresh = forWriting
            ? customerIds.Where(id => !stored.ContainsKey(id)).Distinct(StringComparer.Ordinal)
                .ToDictionary(id => id, _ => RandomNumberGenerator.GetBytes(KeySize), StringComparer.Ordinal)
            : new Dictionary<string, byte[]>(StringComparer.Ordinal);
        return new Cipher(keys, stored.Concat(fresh.Select(f => KeyValuePair.Create(f.Key, (byte[]?)f.Value))).ToDictionary(StringComparer.Ordinal), fresh);
    }

    /// <summary>One request's keys. Not for concurrent use: a request's writes use it one after another.</summary>
    private sealed class Cipher(IPersonalDataKeyStore store, Dictionary<string, byte[]?> keys, Dictionary<string, byte[]> fresh) : IPersonalDataCipher
    {
        private const string Prefix = "pd1:";
        private const int NonceSize = 12;
        private const int TagSize = 16;

        /// <summary>Keys this cipher made and gave up for one another writer stored first.</summary>
        private readonly Dictionary<string, byte[]> _superseded = new(StringComparer.Ordinal);

        public bool IsErased(string customerId) => keys.TryGetValue(customerId, out var key) && key is null;

        public async Task<bool> KeepNewKeysAsync(IReadOnlyCollection<string> customerIds, CancellationToken cancellation)
        {
            var mine = customerIds.Where(fresh.ContainsKey).Distinct(StringComparer.Ordinal).ToDictionary(id => id, id => fresh[id], StringComparer.Ordinal);
            var stored = await store.AddKeysAsync(mine, cancellation);
            // Another writer stored a key first (or the customer was erased meanwhile): what was sealed here cannot be kept.
            return mine.All(m => stored.GetValueOrDefault(m.Key) is { } key && CryptographicOperations.FixedTimeEquals(key, m.Value));
        }

        public async Task<IReadOnlySet<string>> TakeKeysStoredMeanwhileAsync(IReadOnlyCollection<string> customerIds, CancellationToken cancellation)
        {
            var made = customerIds.Where(fresh.ContainsKey).Distinct(StringComparer.Ordinal).ToList();
            if (made.Count > 0)
            {
                foreach (var (id, key) in await store.GetKeysAsync(made, cancellation))
                {
                    // A customer erased meanwhile is left to KeepNewKeysAsync, which then fails: the write is read again and refused.
                    if (key is not null)
                    {
                        _superseded[id] = fresh[id];
                        fresh.Remove(id);
                        keys[id] = key;
                    }
                }
            }

            return customerIds.Where(_superseded.ContainsKey).ToHashSet(StringComparer.Ordinal);
        }

        public string Reseal(string customerId, string sealedValue)
        {
            var opened = _superseded.TryGetValue(customerId, out var made) ? OpenWith(made, customerId, sealedValue) : OpenedField.Unreadable;
            return opened.State == OpenedState.Opened
                ? Seal(customerId, opened.Plaintext!)
                : throw new InvalidOperationException($"A value sealed for customer '{customerId}' is not one this cipher sealed with a key it gave up.");
        }

        // Every sealed field of every tracked call passes here: the plaintext and the sealed bytes live in one pooled
        // buffer (cleared on return: it held personal data) and the stored text is written once, prefix and base64 together.
        public string Seal(string customerId, string plaintext)
        {
            var key = keys.GetValueOrDefault(customerId) ?? throw new InvalidOperationException(
                $"No personal-data key was loaded for customer '{customerId}' (or the customer is erased).");
            var plainLength = Encoding.UTF8.GetByteCount(plaintext);
            var sealedLength = NonceSize + TagSize + plainLength;
            var buffer = ArrayPool<byte>.Shared.Rent(plainLength + sealedLength);
            try
            {
                var plain = buffer.AsSpan(0, plainLength);
                Encoding.UTF8.GetBytes(plaintext, plain);
                var sealedBytes = buffer.AsSpan(plainLength, sealedLength);
                RandomNumberGenerator.Fill(sealedBytes[..NonceSize]);
                using (var aes = new AesGcm(key, TagSize))
                {
                    aes.Encrypt(sealedBytes[..NonceSize], plain, sealedBytes[(NonceSize + TagSize)..], sealedBytes.Slice(NonceSize, TagSize), AssociatedData(customerId));
                }

                return string.Create(Prefix.Length + Base64.GetMaxEncodedToUtf8Length(sealedLength), (Buffer: buffer, Start: plainLength, Length: sealedLength),
                    static (text, state) =>
                    {
                        Prefix.CopyTo(text);
                        Convert.TryToBase64Chars(state.Buffer.AsSpan(state.Start, state.Length), text[Prefix.Length..], out _);
                    });
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
            }
        }

        public OpenedField Open(string customerId, string stored)
        {
            if (IsErased(customerId))
            {
                return OpenedField.Erased;
            }

            // Neither a missing key (a key store restored without it) nor a damaged row is an erasure: both say unreadable.
            return keys.GetValueOrDefault(customerId) is { } key ? OpenWith(key, customerId, stored) : OpenedField.Unreadable;
        }

        private static OpenedField OpenWith(byte[] key, string customerId, string stored)
        {
            if (!stored.StartsWith(Prefix, StringComparison.Ordinal))
            {
                return OpenedField.Unreadable;
            }

            var encoded = stored.AsSpan(Prefix.Length);
            var buffer = ArrayPool<byte>.Shared.Rent(2 * ((encoded.Length / 4 * 3) + 3));
            try
            {
                // Sealed bytes first, the plaintext after them.
                if (!Convert.TryFromBase64Chars(encoded, buffer, out var sealedLength) || sealedLength < NonceSize + TagSize)
                {
                    return OpenedField.Unreadable;
                }

                var sealedBytes = buffer.AsSpan(0, sealedLength);
                var plain = buffer.AsSpan(sealedLength, sealedLength - NonceSize - TagSize);
                using var aes = new AesGcm(key, TagSize);
                try
                {
                    aes.Decrypt(sealedBytes[..NonceSize], sealedBytes[(NonceSize + TagSize)..], sealedBytes.Slice(NonceSize, TagSize), plain, AssociatedData(customerId));
                }
                catch (CryptographicException)
                {
                    // The tag did not verify: changed bytes, or a ciphertext moved from another customer.
                    return OpenedField.Unreadable;
                }

                return OpenedField.Of(Encoding.UTF8.GetString(plain));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
            }
        }

        /// <summary>The customer id as UTF-8: what binds a ciphertext to its customer.</summary>
        private static byte[] AssociatedData(string customerId) => Encoding.UTF8.GetBytes(customerId);
    }
}
