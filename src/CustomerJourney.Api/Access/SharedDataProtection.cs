using System.Text;
using System.Xml.Linq;
using Marten;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;

namespace CustomerJourney.Access;

/// <summary>One Data Protection key as the service's database holds it: its XML, sealed with the key-encryption key.</summary>
public sealed class DataProtectionKey
{
    public string Id { get; set; } = "";

    public string Xml { get; set; } = "";
}

/// <summary>
/// The Data Protection key ring (what protects sign-in cookies and anti-forgery tokens) lives in the service's own
/// database, so every instance on it reads the same ring: a person signed in on one instance stays signed in on the
/// next. Each key is sealed with the key-encryption key (<see cref="IKeyEncryptionKeys"/>) before it is written, so the
/// database, its WAL and its backups never hold a usable key.
/// </summary>
public static class SharedDataProtection
{
    /// <summary>Fixed, so instances installed in different folders share one ring (the default name is the content root).</summary>
    public const string ApplicationName = "CustomerJourney";

    /// <summary>The associated data every sealed key is bound to.</summary>
    internal const string Purpose = "data-protection-key";

    public static IServiceCollection AddSharedDataProtection(this IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName(ApplicationName);
        services.AddOptions<KeyManagementOptions>().Configure<IServiceProvider>((o, provider) =>
        {
            o.XmlRepository = new MartenXmlRepository(provider.GetRequiredService<IDocumentStore>());
            o.XmlEncryptor = new KeyEncryptionKeyXmlEncryptor(provider.GetRequiredService<IKeyEncryptionKeys>());
        });
        return services;
    }

    /// <summary>
    /// Data Protection's interface is synchronous and Marten's is not: it blocks, which is acceptable because the ring is
    /// read at start and on a refresh (and written when a key is made), never once per request.
    /// </summary>
    private sealed class MartenXmlRepository(IDocumentStore store) : IXmlRepository
    {
        public IReadOnlyCollection<XElement> GetAllElements()
        {
            using var session = store.QuerySession();
            var keys = session.Query<DataProtectionKey>().ToListAsync().GetAwaiter().GetResult();
            return keys.Select(k => XElement.Parse(k.Xml)).ToList();
        }

        public void StoreElement(XElement element, string friendlyName)
        {
            using var session = store.LightweightSession();
            session.Store(new DataProtectionKey { Id = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting) });
            session.SaveChangesAsync().GetAwaiter().GetResult();
        }
    }

    private sealed class KeyEncryptionKeyXmlEncryptor(IKeyEncryptionKeys keys) : IXmlEncryptor
    {
        public EncryptedXmlInfo Encrypt(XElement plaintextElement)
        {
            var wrapped = keys.Wrap(Purpose, Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting)));
            return new EncryptedXmlInfo(
                new XElement("sealedKey", new XAttribute("kek", wrapped.KekId), Convert.ToBase64String(wrapped.Sealed)),
                typeof(KeyEncryptionKeyXmlDecryptor));
        }
    }
}

/// <summary>Opens a key <see cref="SharedDataProtection"/> sealed; Data Protection creates it by name with the service provider.</summary>
public sealed class KeyEncryptionKeyXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        var wrapped = new WrappedKey((string?)encryptedElement.Attribute("kek") ?? "", Convert.FromBase64String(encryptedElement.Value));
        var plain = services.GetRequiredService<IKeyEncryptionKeys>().Unwrap(SharedDataProtection.Purpose, wrapped);
        return XElement.Parse(Encoding.UTF8.GetString(plain));
    }
}
