using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace CustomerJourney.Access;

/// <summary>
/// Production sign-in for the pages: ASP.NET Core's OpenID Connect handler against the organisation's provider
/// (authorization code with PKCE, a confidential client), signing people in to the console's cookie with the same role
/// mapping as the API's bearer tokens (<see cref="OrganisationRoles"/>). Signing out also ends the provider's session.
/// </summary>
public static class OrganisationSignIn
{
    public const string SchemeName = "OrganisationSignIn";

    public const string CallbackPath = "/signin-oidc";

    public const string SignedOutCallbackPath = "/signout-callback-oidc";

    public static AuthenticationBuilder AddOrganisationSignIn(this AuthenticationBuilder authentication, OrganisationProviderSettings organisation)
    {
        // A page that needs a signed-in person sends them to the provider; signing out of the cookie is not enough on its own.
        authentication.Services.PostConfigure<CookieAuthenticationOptions>(ConsoleSignIn.CookieScheme, o => o.ForwardChallenge = SchemeName);
        return authentication.AddOpenIdConnect(SchemeName, "The organisation's sign-in", o =>
        {
            o.Authority = organisation.Authority;
            o.ClientId = organisation.ClientId;
            o.ClientSecret = organisation.ClientSecret;
            o.RequireHttpsMetadata = organisation.RequireHttpsMetadata;
            o.ResponseType = OpenIdConnectResponseType.Code;
            // The code comes back in the query: with PKCE and a one-time code that is the OAuth security BCP's default, and
            // the correlation cookie can stay SameSite=Lax.
            o.ResponseMode = OpenIdConnectResponseMode.Query;
            o.UsePkce = true;
            o.SignInScheme = ConsoleSignIn.CookieScheme;
            o.SignOutScheme = ConsoleSignIn.CookieScheme;
            o.CallbackPath = CallbackPath;
            o.SignedOutCallbackPath = SignedOutCallbackPath;
            o.SignedOutRedirectUri = "/";
            // Keeps the id_token in the cookie: sign-out hands it to the provider as id_token_hint.
            o.SaveTokens = true;
            o.MapInboundClaims = false;
            o.GetClaimsFromUserInfoEndpoint = false;
            o.Scope.Clear();
            o.Scope.Add(OpenIdConnectScope.OpenId);
            foreach (var scope in organisation.Scopes)
            {
                o.Scope.Add(scope);
            }

            o.TokenValidationParameters.ValidAlgorithms = OrganisationProviderSettings.Algorithms;
            o.TokenValidationParameters.NameClaimType = AccessClaims.Name;
            o.TokenValidationParameters.RoleClaimType = AccessClaims.Role;
            o.Events = new OpenIdConnectEvents
            {
                OnTokenValidated = context => OrganisationRoles.OnTokenValidated(context.Principal!, organisation, SchemeName,
                    principal => context.Principal = principal, context.Fail),
                // A refused or failed sign-in answers a problem document instead of an unhandled exception (a 500).
                OnRemoteFailure = async context =>
                {
                    context.HandleResponse();
                    await Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Sign-in failed", detail: context.Failure?.Message)
                        .ExecuteAsync(context.HttpContext);
                },
            };
        });
    }
}
