using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CustomerJourney.Access;

/// <summary>
/// The API accepting the organisation's provider's own access tokens, beside our HS256 ones: signed with the provider's
/// asymmetric keys, which are read from its published JWKS (found through its discovery document) and re-read when a
/// token names a key not yet seen, so the provider can rotate keys without telling us.
/// </summary>
public static class OrganisationBearer
{
    public const string SchemeName = "OrganisationBearer";

    /// <summary>
    /// Our own tokens are HS256; every other bearer token (RS256, ES256, and forgeries such as alg "none") is the
    /// provider's to judge, and its handler refuses any algorithm but <see cref="OrganisationProviderSettings.Algorithms"/>.
    /// </summary>
    public static bool IsItsToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        if (!header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var token = header[bearer.Length..].Trim();
        var handler = new JsonWebTokenHandler();
        return handler.CanReadToken(token) && handler.ReadJsonWebToken(token).Alg != SecurityAlgorithms.HmacSha256;
    }

    public static AuthenticationBuilder AddOrganisationBearer(this AuthenticationBuilder authentication, OrganisationProviderSettings organisation, TimeSpan clockSkew) =>
        authentication.AddJwtBearer(SchemeName, o =>
        {
            o.Authority = organisation.Authority;
            o.Audience = organisation.Audience;
            o.RequireHttpsMetadata = organisation.RequireHttpsMetadata;
            o.MapInboundClaims = false;
            // The issuer and signing keys come from the provider's discovery document and JWKS.
            o.TokenValidationParameters = new TokenValidationParameters
            {
                ValidAudience = organisation.Audience,
                ValidAlgorithms = OrganisationProviderSettings.Algorithms,
                ValidateIssuer = true,
                ValidateAudience = true,
                ValidateLifetime = true,
                ValidateIssuerSigningKey = true,
                RequireExpirationTime = true,
                RequireSignedTokens = true,
                ClockSkew = clockSkew,
                NameClaimType = AccessClaims.Name,
                RoleClaimType = AccessClaims.Role,
            };
            o.Events = new JwtBearerEvents
            {
                OnTokenValidated = context => OrganisationRoles.OnTokenValidated(context.Principal!, organisation, SchemeName,
                    principal => context.Principal = principal, context.Fail),
            };
        });
}
