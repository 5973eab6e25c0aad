using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace CustomerJourney.Access;

/// <summary>Bearer tokens (configuration section "Auth:Jwt"). Tokens come from the organisation's identity provider.</summary>
public sealed class JwtSettings
{
    /// <summary>The documented Development-only key (appsettings.Development.json); refused in any other environment.</summary>
    public const string DevelopmentSigningKey = "customerjourney-development-signing-key-never-use-in-production";

    public string Issuer { get; set; } = "customerjourney";
    public string Audience { get; set; } = "customerjourney-api";

    /// <summary>HMAC-SHA256 key, at least 32 bytes of UTF-8.</summary>
    public string? SigningKey { get; set; }

    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Lifetime of the tokens the Development-only token endpoint issues.</summary>
    public TimeSpan DevelopmentTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    public SymmetricSecurityKey Key() => new(Encoding.UTF8.GetBytes(SigningKey!));

    /// <summary>Start-up refuses a missing, short, or (outside Development) default signing key.</summary>
    public void Validate(bool isDevelopment)
    {
        if (string.IsNullOrWhiteSpace(SigningKey) || Encoding.UTF8.GetByteCount(SigningKey) < 32)
        {
            throw new InvalidOperationException(
                "Auth:Jwt:SigningKey is missing or shorter than 32 bytes. Set Auth__Jwt__SigningKey to the identity provider's HMAC-SHA256 key.");
        }

        if (!isDevelopment && SigningKey == DevelopmentSigningKey)
        {
            throw new InvalidOperationException(
                "Auth:Jwt:SigningKey is the documented Development key, which is public. Set Auth__Jwt__SigningKey to a secret key.");
        }
    }

    public TokenValidationParameters ValidationParameters() => new()
    {
        ValidIssuer = Issuer,
        ValidAudience = Audience,
        IssuerSigningKey = Key(),
        // Pinned: a token signed any other way (or not at all: alg "none") is refused.
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        ValidateIssuer = true,
        ValidateAudience = true,
        ValidateLifetime = true,
        ValidateIssuerSigningKey = true,
        RequireExpirationTime = true,
        RequireSignedTokens = true,
        ClockSkew = ClockSkew,
        NameClaimType = AccessClaims.Name,
        RoleClaimType = AccessClaims.Role,
    };
}
