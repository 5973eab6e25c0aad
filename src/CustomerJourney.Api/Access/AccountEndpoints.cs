using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using CustomerJourney.Infrastructure;
using Microsoft.AspNetCore.Authentication;

namespace CustomerJourney.Access;

public sealed record SignedInPerson(string? Name, IReadOnlyList<string> Roles);

/// <summary>Who is signed in to the pages, and signing out (of the console's cookie and, when it signed them in, of the organisation's provider).</summary>
public static class AccountEndpoints
{
    /// <summary>A person signed in to the pages (by the console's cookie), whatever their roles.</summary>
    public const string SignedInPolicy = "console:signed-in";

    /// <summary>Under the console's path: the cookie is scoped to it, so a browser sends it nowhere else.</summary>
    public const string AccountPath = ConsoleSignIn.PathPrefix + "/account";

    public const string SignOutPath = AccountPath + "/signout";

    /// <summary>What signing out ends: the console's cookie and, when the organisation's provider signed the person in, its session too.</summary>
    public static string[] SignOutSchemes(OrganisationProviderSettings organisation) =>
        organisation.SignsInPeople ? [ConsoleSignIn.CookieScheme, OrganisationSignIn.SchemeName] : [ConsoleSignIn.CookieScheme];

    public static IServiceCollection AddAccountEndpoints(this IServiceCollection services)
    {
        services.AddAntiforgery();
        services.AddAuthorizationBuilder().AddPolicy(SignedInPolicy, p => p.AddAuthenticationSchemes(ConsoleSignIn.CookieScheme).RequireAuthenticatedUser());
        return services;
    }

    public static WebApplication MapAccountEndpoints(this WebApplication app)
    {
        app.MapGet(AccountPath, (ClaimsPrincipal user) => new SignedInPerson(user.Identity?.Name,
                user.FindAll(AccessClaims.Role).Select(c => c.Value).Where(Roles.People.Contains).ToList()))
            .RequireAuthorization(SignedInPolicy)
            .WithSummary("The person signed in to the pages, and their people roles.");

        // Signing out is a form post with an anti-forgery token, so another site cannot sign a person out behind their back.
        app.MapGet(SignOutPath, (HttpContext http, IAntiforgery antiforgery) =>
            {
                var tokens = antiforgery.GetAndStoreTokens(http);
                return Results.Content($"""
                    <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign out</title></head><body><main>
                    <form method="post" action="{SignOutPath}">
                    <input type="hidden" name="{WebUtility.HtmlEncode(tokens.FormFieldName)}" value="{WebUtility.HtmlEncode(tokens.RequestToken)}">
                    <button type="submit">Sign out</button>
                    </form></main></body></html>
                    """, "text/html; charset=utf-8");
            })
            .AllowAnonymous()
            .WithSummary("The sign-out form.");

        app.MapPost(SignOutPath, async (HttpContext http, IAntiforgery antiforgery, OrganisationProviderSettings organisation) =>
            {
                if (!await antiforgery.IsRequestValidAsync(http))
                {
                    return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Sign-out refused",
                        detail: $"The sign-out form was not sent from this site, or has expired; open {SignOutPath} and send it again.");
                }

                // The provider's session ends too, else the next page would sign the person straight back in.
                return Results.SignOut(new AuthenticationProperties { RedirectUri = "/" }, SignOutSchemes(organisation));
            })
            .AllowAnonymous()
            .WithMetadata(new AlsoReadsAttribute("application/x-www-form-urlencoded"))
            .WithSummary("Signs the person out of the pages and of the organisation's provider.");
        return app;
    }
}
