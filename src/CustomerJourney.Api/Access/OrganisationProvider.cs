using System.Security.Claims;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace CustomerJourney.Access;

/// <summary>
/// The organisation's OpenID Connect provider (configuration section "Auth:Oidc"). With <see cref="Authority"/> and
/// <see cref="Audience"/> the API accepts the provider's own access tokens, their keys read from its published JWKS, so
/// the organisation shares no secret with us; with <see cref="ClientId"/> as well, people sign in to the pages through it.
/// </summary>
public sealed class OrganisationProviderSettings
{
    public const string Section = "Auth:Oidc";

    /// <summary>The provider's issuer address; its discovery document is read from <c>/.well-known/openid-configuration</c> below it.</summary>
    public string? Authority { get; set; }

    /// <summary>The audience (<c>aud</c>) the provider puts in access tokens meant for this API.</summary>
    public string? Audience { get; set; }

    /// <summary>This service as a client of the provider, for the pages' sign-in (authorization code with PKCE).</summary>
    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    /// <summary>The claim that holds a person's roles or groups: one value per claim, a JSON array, or space-separated; a dotted path (<c>realm_access.roles</c>) reads into a JSON object.</summary>
    public string RoleClaim { get; set; } = "roles";

    /// <summary>
    /// The provider's role or group values, each mapped onto one of our people roles. Empty: a value that names one of
    /// our people roles exactly counts as that role. Non-empty: only the mapped values count.
    /// </summary>
    public Dictionary<string, string> RoleMap { get; set; } = [];

    /// <summary>The claim that names the person (recorded as <c>user:&lt;name&gt;</c>); <c>sub</c> when the token lacks it.</summary>
    public string NameClaim { get; set; } = "preferred_username";

    /// <summary>Scopes the sign-in asks for, beside <c>openid</c>.</summary>
    public List<string> Scopes { get; set; } = ["profile"];

    /// <summary>Only a Development start may read the provider's metadata over plain HTTP (a provider on loopback).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>Asymmetric only: the provider never holds a key of ours, and alg "none" or an HMAC forged with its public key is refused.</summary>
    public static readonly IReadOnlyList<string> Algorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256];

    public bool AcceptsTokens => Authority is not null;

    public bool SignsInPeople => ClientId is not null;

    /// <summary>Start-up refuses a half-configured section, naming what is missing.</summary>
    public void Validate(bool isDevelopment)
    {
        var set = new[] { Audience, ClientId, ClientSecret }.Any(v => v is not null) || RoleMap.Count > 0;
        if (Authority is null)
        {
            if (set)
            {
                throw new InvalidOperationException($"{Section} is half-configured: Auth__Oidc__Authority is missing. Set it to the provider's issuer address, or remove the section.");
            }

            return;
        }

        if (!Uri.TryCreate(Authority, UriKind.Absolute, out var authority) || authority.Scheme is not ("https" or "http"))
        {
            throw new InvalidOperationException($"{Section}:Authority must be the provider's absolute https address (it is '{Authority}').");
        }

        if (authority.Scheme == "http" && (RequireHttpsMetadata || !isDevelopment))
        {
            throw new InvalidOperationException(
                $"{Section}:Authority must use https; plain http is allowed only in Development with Auth__Oidc__RequireHttpsMetadata=false.");
        }

        if (string.IsNullOrWhiteSpace(Audience))
        {
            throw new InvalidOperationException($"{Section} is half-configured: Auth__Oidc__Audience is missing. Set it to the audience the provider puts in access tokens for this API.");
        }

        if (ClientSecret is not null && ClientId is null)
        {
            throw new InvalidOperationException($"{Section} is half-configured: Auth__Oidc__ClientSecret is set without Auth__Oidc__ClientId.");
        }

        if (ClientId is not null && string.IsNullOrWhiteSpace(ClientSecret))
        {
            throw new InvalidOperationException($"{Section} is half-configured: Auth__Oidc__ClientId is set without Auth__Oidc__ClientSecret (the sign-in is a confidential client).");
        }

        if (string.IsNullOrWhiteSpace(RoleClaim))
        {
            throw new InvalidOperationException($"{Section}:RoleClaim is empty; name the claim that holds people's roles or groups.");
        }

        foreach (var (value, role) in RoleMap)
        {
            if (!Roles.People.Contains(role))
            {
                throw new InvalidOperationException(
                    $"{Section}:RoleMap maps '{value}' onto '{role}', which is not a people role; map onto one of: {string.Join(", ", Roles.People)}.");
            }
        }
    }
}

/// <summary>
/// How a person's roles are read from the organisation's provider: one home, used by the API's bearer tokens and by the
/// pages' sign-in alike. Only the six people roles can come out; a token that claims a source system is refused.
/// </summary>
public static class OrganisationRoles
{
    public sealed record Mapped(IReadOnlyList<string> Roles, string? Refusal);

    /// <summary>The people roles the provider's claims grant, or why the token is refused.</summary>
    public static Mapped Map(IEnumerable<Claim> claims, OrganisationProviderSettings settings)
    {
        var values = RoleValues(claims.ToList(), settings.RoleClaim);
        if (values.Any(v => string.Equals(v, Roles.SourceSystem, StringComparison.OrdinalIgnoreCase)))
        {
            return new Mapped([], $"A token from the organisation's provider may not claim the role '{Roles.SourceSystem}'; source systems authenticate with an API key.");
        }

        var roles = settings.RoleMap.Count == 0
            ? values.Where(v => Roles.People.Contains(v, StringComparer.Ordinal))
            : values.Select(v => settings.RoleMap.FirstOrDefault(m => string.Equals(m.Key, v, StringComparison.Ordinal)).Value).OfType<string>();
        return new Mapped(roles.Where(Roles.People.Contains).Distinct().Order(StringComparer.Ordinal).ToList(), null);
    }

    /// <summary>
    /// What both of the provider's handlers do once its token is validated (the API's bearer handler and the pages' sign-in):
    /// the principal becomes the mapped one, or the token is refused with why.
    /// </summary>
    public static Task OnTokenValidated(ClaimsPrincipal provider, OrganisationProviderSettings settings, string authenticationType,
        Action<ClaimsPrincipal> accept, Action<string> refuse)
    {
        var (principal, refusal) = Principal(provider, settings, authenticationType);
        if (refusal is not null)
        {
            refuse(refusal);
        }
        else
        {
            accept(principal!);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// The principal this service works with: the provider's claims, its name under <see cref="AccessClaims.Name"/> and
    /// only the mapped roles under <see cref="AccessClaims.Role"/>; or why the token is refused (then checked as every
    /// bearer token is, by <see cref="AccessClaims.BearerRefusal"/>, before and after mapping).
    /// </summary>
    public static (ClaimsPrincipal? Principal, string? Refusal) Principal(ClaimsPrincipal provider, OrganisationProviderSettings settings, string authenticationType)
    {
        if (AccessClaims.BearerRefusal(provider) is { } refused)
        {
            return (null, refused);
        }

        var mapped = Map(provider.Claims, settings);
        if (mapped.Refusal is not null)
        {
            return (null, mapped.Refusal);
        }

        var claims = provider.Claims.ToList();
        var name = claims.FirstOrDefault(c => c.Type == settings.NameClaim)?.Value ?? claims.FirstOrDefault(c => c.Type == "sub")?.Value;
        // The provider's own role and name claims never pass through unmapped: only what Map grants counts.
        var identity = new ClaimsIdentity(
            claims.Where(c => c.Type is not (AccessClaims.Role or AccessClaims.Name) && c.Type != settings.RoleClaim).Select(c => new Claim(c.Type, c.Value, c.ValueType, c.Issuer)),
            authenticationType, AccessClaims.Name, AccessClaims.Role);
        if (name is not null)
        {
            identity.AddClaim(new Claim(AccessClaims.Name, name));
        }

        identity.AddClaims(mapped.Roles.Select(r => new Claim(AccessClaims.Role, r)));
        var principal = new ClaimsPrincipal(identity);
        return AccessClaims.BearerRefusal(principal) is { } refusal ? (null, refusal) : (principal, null);
    }

    /// <summary>Every value of the role claim: repeated claims, a JSON array in one claim, space-separated values, or a path into a JSON object.</summary>
    private static List<string> RoleValues(List<Claim> claims, string roleClaim)
    {
        var path = roleClaim.Split('.');
        var values = new List<string>();
        foreach (var claim in claims.Where(c => c.Type == path[0]))
        {
            var text = claim.Value.Trim();
            if (path.Length == 1 && !text.StartsWith('['))
            {
                values.AddRange(text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
                continue;
            }

            try
            {
                using var json = JsonDocument.Parse(text);
                var node = json.RootElement;
                foreach (var segment in path.Skip(1))
                {
                    node = node.ValueKind == JsonValueKind.Object && node.TryGetProperty(segment, out var next) ? next : default;
                }

                values.AddRange(node.ValueKind switch
                {
                    JsonValueKind.Array => node.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!),
                    JsonValueKind.String => node.GetString()!.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries),
                    _ => [],
                });
            }
            catch (JsonException)
            {
                // Not JSON after all: a value that grants nothing.
            }
        }

        return values;
    }
}
