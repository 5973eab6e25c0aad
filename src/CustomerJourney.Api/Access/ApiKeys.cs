using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Marten;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace CustomerJourney.Access;

/// <summary>A source system's key. Only a hash of its secret is stored; the key itself is shown once, at creation.</summary>
public sealed class ApiKey
{
    public string Id { get; set; } = "";
    public string Source { get; set; } = "";
    public string SecretHash { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset? RevokedAt { get; set; }
    public string? RevokedBy { get; set; }

    public bool IsRevoked => RevokedAt is not null;
}

public static class ApiKeySecrets
{
    public const string Header = "X-Api-Key";
    private const string Prefix = "cjk";

    /// <summary>A new key "cjk.&lt;id&gt;.&lt;secret&gt;" and the stored document (which keeps only the secret's hash).</summary>
    public static (string Key, ApiKey Stored) Issue(string source, string createdBy, DateTimeOffset now)
    {
        if (SourceOwnership.IsReservedForPeople(source))
        {
            throw new ArgumentException($"The source '{source}' is reserved for people; no API key is issued for it.", nameof(source));
        }

        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        return ($"{Prefix}.{id}.{secret}",
            new ApiKey { Id = id, Source = source, SecretHash = Hash(secret), CreatedAt = now, CreatedBy = createdBy });
    }

    public static bool TryParse(string key, out string id, out string secret)
    {
        var parts = key.Split('.');
        (id, secret) = parts is [Prefix, var i, var s] && i.Length == 16 && s.Length is > 0 and < 100 ? (i, s) : ("", "");
        return id.Length > 0;
    }

    /// <summary>
    /// SHA-256 suffices: the secret is 256 random bits, so there is nothing for a slow password hash to protect
    /// against, and every request verifies a key.
    /// </summary>
    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public static bool Matches(ApiKey stored, string secret) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(stored.SecretHash), Encoding.ASCII.GetBytes(Hash(secret)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>
/// Authenticates X-Api-Key. The stored key is read once per <see cref="RecentLookups.Freshness"/> (a primary-key read on
/// every request cost a round trip per single post), so a key revoked on one instance stops working at once there and
/// within that time on every other.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IDocumentStore store,
    RecentLookups recent)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    /// <summary>The kind of entry in <see cref="RecentLookups"/>: a stored <see cref="ApiKey"/> by its id.</summary>
    public const string Lookup = "api-key";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(ApiKeySecrets.Header, out var values))
        {
            return AuthenticateResult.NoResult();
        }

        if (values.Count != 1 || !ApiKeySecrets.TryParse(values[0]!, out var id, out var secret))
        {
            return AuthenticateResult.Fail("The API key is malformed.");
        }

        if (!recent.TryGet<ApiKey>(Lookup, id, out var key))
        {
            var began = RecentLookups.ReadBegins();
            await using var session = store.QuerySession();
            key = await session.LoadAsync<ApiKey>(id, Context.RequestAborted);
            if (key is not null)
            {
                recent.Keep(Lookup, id, key, began);
            }
        }

        if (key is null || key.IsRevoked || !ApiKeySecrets.Matches(key, secret))
        {
            return AuthenticateResult.Fail("The API key is unknown or revoked.");
        }

        var identity = new ClaimsIdentity(
            [new Claim(AccessClaims.Name, $"key:{key.Id}"), new Claim(AccessClaims.Role, Roles.SourceSystem), new Claim(AccessClaims.Source, key.Source)],
            SchemeName, AccessClaims.Name, AccessClaims.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}
