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

    private sealed class Cipher(IPersonalDataKeyStore store, IReadOnlyDictionary<string, byte[]?> keys, IReadOnlyDictionary<string, byte[]> fresh) : IPersonalDataCipher
    {
        private const string Prefix = "pd1:";
        private const int NonceSize = 12;
        private const int TagSize = 16;

        public bool IsErased(string customerId) => keys.TryGetValue(customerId, out var key) && key is null;

        public async Task<bool> KeepNewKeysAsync(IReadOnlyCollection<string> customerIds, CancellationToken cancellation)
        {
            var mine = customerIds.Where(fresh.ContainsKey).Distinct(StringComparer.Ordinal).ToDictionary(id => id, id => fresh[id], StringComparer.Ordinal);
            var stored = await store.AddKeysAsync(mine, cancellation);
            // Another writer stored a key first (or the customer was erased meanwhile): what was sealed here cannot be kept.
            return mine.All(m => stored.GetValueOrDefault(m.Key) is { } key && CryptographicOperations.FixedTimeEquals(key, m.Value));
        }

        public string Seal(string customerId, string plaintext)
        {
            var key = keys.GetValueOrDefault(customerId) ?? throw new InvalidOperationException(
                $"No personal-data key was loaded for customer '{customerId}' (or the customer is erased).");
            var plain = Encoding.UTF8.GetBytes(plaintext);
            var sealedBytes = new byte[NonceSize + TagSize + plain.Length];
            var nonce = sealedBytes.AsSpan(0, NonceSize);
            RandomNumberGenerator.Fill(nonce);
            using var aes = new AesGcm(key, TagSize);
            aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize), Encoding.UTF8.GetBytes(customerId));
            return Prefix + Convert.ToBase64String(sealedBytes);
        }

        public OpenedField Open(string customerId, string stored)
        {
            if (IsErased(customerId))
            {
                return OpenedField.Erased;
            }

            // Neither a missing key (a key store restored without it) nor a damaged row is an erasure: both say unreadable.
            if (!stored.StartsWith(Prefix, StringComparison.Ordinal) || keys.GetValueOrDefault(customerId) is not { } key)
            {
                return OpenedField.Unreadable;
            }

            byte[] sealedBytes;
            try
            {
                sealedBytes = Convert.FromBase64String(stored[Prefix.Length..]);
            }
            catch (FormatException)
            {
                return OpenedField.Unreadable;
            }

            if (sealedBytes.Length < NonceSize + TagSize)
            {
                return OpenedField.Unreadable;
            }

            var plain = new byte[sealedBytes.Length - NonceSize - TagSize];
            using var aes = new AesGcm(key, TagSize);
            try
            {
                aes.Decrypt(sealedBytes.AsSpan(0, NonceSize), sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize), plain, Encoding.UTF8.GetBytes(customerId));
            }
            catch (CryptographicException)
            {
                // The tag did not verify: changed bytes, or a ciphertext moved from another customer.
                return OpenedField.Unreadable;
            }

            return OpenedField.Of(Encoding.UTF8.GetString(plain));
        }
    }
}
