using System.Security.Cryptography;
using System.Text;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Access;

/// <summary>
/// Personal fields are encrypted from the start with a key per customer (AES-256-GCM, the customer id as
/// associated data so a ciphertext cannot be moved to another customer). Erasure destroys the key in the
/// key store: every copy of the ciphertext, in events, projections, exports and backups, becomes unreadable
/// while amounts, dates, kinds and scores stay (crypto-shredding).
/// </summary>
public sealed class EncryptedPersonalData(IPersonalDataKeyStore keys) : IPersonalDataProtector
{
    public async Task<IPersonalDataCipher> ForCustomersAsync(IReadOnlyCollection<string> customerIds, bool forWriting, CancellationToken cancellation) =>
        new Cipher(await keys.GetKeysAsync(customerIds, forWriting, cancellation));

    private sealed class Cipher(IReadOnlyDictionary<string, byte[]?> keys) : IPersonalDataCipher
    {
        private const string Prefix = "pd1:";
        private const int NonceSize = 12;
        private const int TagSize = 16;

        public bool IsErased(string customerId) => keys.TryGetValue(customerId, out var key) && key is null;

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
