using System.Collections.Immutable;
using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace CustomerJourney.Tests.Support;

/// <summary>
/// A real OpenID Connect provider (OpenIddict) on loopback, standing in for the organisation's: discovery, a JWKS with an
/// RSA and an EC key, the authorization-code flow with PKCE behind a login form, client credentials for machine tokens,
/// and end-session. Roles travel as provider group names under <see cref="RoleClaim"/>, which the service maps.
/// </summary>
public sealed class OrganisationIdentityProvider : IAsyncDisposable
{
    public const string Audience = "customerjourney-api";
    public const string ConsoleClientId = "customerjourney-console";
    public const string ConsoleClientSecret = "console-secret-only-for-tests";
    public const string RoleClaim = "groups";
    public const string Password = "correct horse battery staple";
    private const string SessionScheme = "provider-session";

    /// <summary>The organisation's group names and the service's roles they map onto (Auth:Oidc:RoleMap).</summary>
    public static readonly IReadOnlyDictionary<string, string> RoleMap = new Dictionary<string, string>
    {
        ["cj-analysts"] = "analyst", ["cj-marketing"] = "marketing", ["cj-agents"] = "agent",
        ["cj-supervisors"] = "supervisor", ["cj-auditors"] = "auditor", ["cj-admins"] = "admin",
    };

    /// <summary>People who sign in with <see cref="Password"/>, and their groups.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> People = new Dictionary<string, string[]>
    {
        ["oidc-alice"] = ["cj-supervisors", "cj-analysts", "wiki-editors"],
        ["oidc-mallory"] = ["source-system"],
        ["oidc-dana"] = ["cj-auditors"],
    };

    /// <summary>Machine clients (client credentials, secret = their id reversed) and the group values their tokens carry, as the provider writes them.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Machines = new Dictionary<string, string[]>
    {
        ["reporting-job"] = ["cj-analysts"],
        ["unmapped-job"] = ["wiki-editors"],
        ["impostor-job"] = ["source-system"],
        // One claim, space-separated, as some providers write scopes-like role lists.
        ["desk-job"] = ["cj-agents cj-auditors"],
    };

    private readonly WebApplication _app;

    private OrganisationIdentityProvider(WebApplication app, Uri authority) => (_app, Authority) = (app, authority);

    public Uri Authority { get; }

    /// <summary>The provider's own signing keys (published in its JWKS), for the tests that forge tokens with them.</summary>
    public IReadOnlyList<SigningCredentials> SigningKeys =>
        _app.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue.SigningCredentials;

    public static string SecretOf(string client) => client == ConsoleClientId ? ConsoleClientSecret : new string(client.Reverse().ToArray());

    public static async Task<OrganisationIdentityProvider> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Development" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        // The run's Debug logging is for the service; the provider's own would drown it.
        builder.Logging.ClearProviders();
        builder.Services.AddAuthentication(SessionScheme).AddCookie(SessionScheme, o =>
        {
            o.Cookie.Name = SessionScheme;
            o.LoginPath = "/login";
        });
        builder.Services.AddOpenIddict().AddServer(o =>
        {
            o.SetAuthorizationEndpointUris("connect/authorize").SetTokenEndpointUris("connect/token").SetEndSessionEndpointUris("connect/endsession");
            o.AllowAuthorizationCodeFlow().AllowClientCredentialsFlow().RequireProofKeyForCodeExchange();
            o.RegisterScopes(Scopes.OpenId, Scopes.Profile);
            o.AddEphemeralEncryptionKey().AddEphemeralSigningKey();
            o.AddSigningKey(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "provider-ec-p256" });
            // The service reads access tokens itself, so they are signed JWTs, not encrypted ones.
            o.DisableAccessTokenEncryption();
            // No application store: clients are checked by the handlers below.
            o.EnableDegradedMode();
            o.UseAspNetCore().EnableAuthorizationEndpointPassthrough().EnableEndSessionEndpointPassthrough().DisableTransportSecurityRequirement();
            o.AddEventHandler<ValidateAuthorizationRequestContext>(b => b.UseInlineHandler(context =>
            {
                if (context.ClientId != ConsoleClientId || context.Request.RedirectUri is not { } redirect || !redirect.EndsWith("/signin-oidc", StringComparison.Ordinal))
                {
                    context.Reject(Errors.InvalidRequest, "Unknown client or redirect_uri.");
                    return default;
                }

                context.SetRedirectUri(redirect);
                return default;
            }));
            o.AddEventHandler<ValidateTokenRequestContext>(b => b.UseInlineHandler(context =>
            {
                var known = context.ClientId == ConsoleClientId || (context.ClientId is { } id && Machines.ContainsKey(id));
                if (!known || context.Request.ClientSecret != SecretOf(context.ClientId!))
                {
                    context.Reject(Errors.InvalidClient, "Unknown client or wrong secret.");
                }

                return default;
            }));
            o.AddEventHandler<HandleTokenRequestContext>(b => b.UseInlineHandler(context =>
            {
                if (context.Request.IsClientCredentialsGrantType())
                {
                    context.Principal = Principal(context.ClientId!, null, Machines[context.ClientId!], [], Destinations.AccessToken);
                }

                return default;
            }));
            o.AddEventHandler<ValidateEndSessionRequestContext>(b => b.UseInlineHandler(context =>
            {
                if (context.Request.PostLogoutRedirectUri is { } back)
                {
                    if (!back.EndsWith("/signout-callback-oidc", StringComparison.Ordinal))
                    {
                        context.Reject(Errors.InvalidRequest, "Unknown post_logout_redirect_uri.");
                        return default;
                    }

                    context.SetPostLogoutRedirectUri(back);
                }

                return default;
            }));
        });

        var app = builder.Build();
        app.UseAuthentication();
        app.MapGet("/login", (string returnUrl) => Results.Content($"""
            <form method="post" action="/login"><input name="returnUrl" value="{WebUtility.HtmlEncode(returnUrl)}">
            <input name="username"><input name="password" type="password"><button>Sign in</button></form>
            """, "text/html"));
        app.MapPost("/login", async (HttpContext http) =>
        {
            var form = await http.Request.ReadFormAsync();
            var (user, password, returnUrl) = (form["username"].ToString(), form["password"].ToString(), form["returnUrl"].ToString());
            if (!People.ContainsKey(user) || password != Password || !returnUrl.StartsWith("/connect/authorize?", StringComparison.Ordinal))
            {
                return Results.Unauthorized();
            }

            await http.SignInAsync(SessionScheme, new ClaimsPrincipal(new ClaimsIdentity([new Claim(Claims.Subject, user)], SessionScheme)));
            return Results.Redirect(returnUrl);
        });
        app.MapMethods("/connect/authorize", ["GET", "POST"], async (HttpContext http) =>
        {
            var request = http.GetOpenIddictServerRequest()!;
            var session = await http.AuthenticateAsync(SessionScheme);
            if (session.Principal?.FindFirst(Claims.Subject)?.Value is not { } user)
            {
                return Results.Challenge(new AuthenticationProperties { RedirectUri = http.Request.Path + http.Request.QueryString }, [SessionScheme]);
            }

            return Results.SignIn(Principal(user, user, People[user], request.GetScopes(), Destinations.AccessToken, Destinations.IdentityToken),
                authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        });
        app.MapMethods("/connect/endsession", ["GET", "POST"], async (HttpContext http) =>
        {
            await http.SignOutAsync(SessionScheme);
            return Results.SignOut(new AuthenticationProperties { RedirectUri = "/" }, [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
        });

        await app.StartAsync();
        return new OrganisationIdentityProvider(app, new Uri(app.Urls.Single().TrimEnd('/') + "/"));
    }

    private static ClaimsPrincipal Principal(string subject, string? name, string[] groups, ImmutableArray<string> scopes, params string[] destinations)
    {
        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, subject);
        if (name is not null)
        {
            identity.SetClaim(Claims.PreferredUsername, name);
        }

        identity.SetClaims(RoleClaim, [.. groups]);
        identity.SetScopes(scopes);
        identity.SetResources(Audience);
        identity.SetDestinations(_ => destinations);
        return new ClaimsPrincipal(identity);
    }

    /// <summary>The service's settings for this provider, as an organisation would configure them.</summary>
    public IEnumerable<KeyValuePair<string, string>> ServiceSettings()
    {
        yield return new("Auth:Oidc:Authority", Authority.ToString());
        yield return new("Auth:Oidc:Audience", Audience);
        yield return new("Auth:Oidc:ClientId", ConsoleClientId);
        yield return new("Auth:Oidc:ClientSecret", ConsoleClientSecret);
        yield return new("Auth:Oidc:RoleClaim", RoleClaim);
        yield return new("Auth:Oidc:RequireHttpsMetadata", "false");
        foreach (var (group, role) in RoleMap)
        {
            yield return new($"Auth:Oidc:RoleMap:{group}", role);
        }
    }

    /// <summary>An access token for a machine client, by the client-credentials grant.</summary>
    public async Task<string> MachineToken(string client)
    {
        using var http = new HttpClient();
        var answer = await http.PostAsync(new Uri(Authority, "connect/token"), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = GrantTypes.ClientCredentials, ["client_id"] = client, ["client_secret"] = SecretOf(client),
        }));
        var body = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.IsSuccessStatusCode, body);
        return System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
