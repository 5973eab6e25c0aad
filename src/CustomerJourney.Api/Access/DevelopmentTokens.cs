using System.Security.Claims;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CustomerJourney.Access;

public sealed record DevelopmentTokenRequest(string? Name, string[]? Roles, string? Channel);

public sealed record DevelopmentToken(string Token, DateTimeOffset ExpiresAt);

/// <summary>
/// Development only: issues short-lived bearer tokens so the demo and the tests can act as any role. The
/// route is not mapped in any other environment (404), and there a real identity provider issues tokens.
/// </summary>
public static class DevelopmentTokens
{
    public static void MapDevelopmentTokens(this WebApplication app) =>
        app.MapPost("/api/dev/tokens", (DevelopmentTokenRequest request, JwtSettings jwt, TimeProvider clock) =>
            {
                var errors = new FieldErrors();
                if (request.Name is not { Length: > 0 and <= 64 } name || !TouchpointCatalogue.IdPattern().IsMatch(name))
                {
                    errors.Add("name", TouchpointCatalogue.IdHint);
                }

                if (request.Roles is not { Length: > 0 } roles || roles.Any(r => !Roles.People.Contains(r)))
                {
                    errors.Add("roles", $"must list one or more of: {string.Join(", ", Roles.People)}.");
                }

                if (request.Channel is { } channel && !TouchpointCatalogue.Channels.ContainsKey(channel))
                {
                    errors.Add("channel", $"must be one of: {string.Join(", ", TouchpointCatalogue.Channels.Keys)}.");
                }

                if (errors.Any)
                {
                    return Results.ValidationProblem(errors.ToDictionary(), title: "Invalid token request");
                }

                var expires = clock.GetUtcNow() + jwt.DevelopmentTokenLifetime;
                return Results.Ok(new DevelopmentToken(Issue(jwt, request.Name!, request.Roles!, request.Channel, clock.GetUtcNow(), expires), expires));
            })
            .AllowAnonymous()
            .WithSummary("Development only: a short-lived bearer token for the given name and roles.");

    public static string Issue(JwtSettings jwt, string name, IEnumerable<string> roles, string? channel, DateTimeOffset now, DateTimeOffset expires)
    {
        var claims = new List<Claim> { new(AccessClaims.Name, name), new(JwtRegisteredClaimNames.Sub, name) };
        claims.AddRange(roles.Select(r => new Claim(AccessClaims.Role, r)));
        if (channel is not null)
        {
            claims.Add(new Claim(AccessClaims.Channel, channel));
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = jwt.Issuer,
            Audience = jwt.Audience,
            Subject = new ClaimsIdentity(claims),
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = new SigningCredentials(jwt.Key(), SecurityAlgorithms.HmacSha256),
        });
    }
}
