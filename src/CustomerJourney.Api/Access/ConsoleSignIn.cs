using Microsoft.AspNetCore.Authentication;

namespace CustomerJourney.Access;

/// <summary>
/// The pages' sign-in: a cookie for people. In production the organisation's provider signs them in
/// (<see cref="OrganisationSignIn"/>); the cookie only carries who they are and their mapped people roles.
/// </summary>
public static class ConsoleSignIn
{
    public const string CookieScheme = "console";

    public static AuthenticationBuilder AddConsoleCookie(this AuthenticationBuilder authentication, bool isDevelopment) =>
        authentication.AddCookie(CookieScheme, o =>
        {
            o.Cookie.Name = "cj-console";
            o.Cookie.HttpOnly = true;
            // The demo runs on plain http on loopback; everywhere else the cookie never travels unencrypted.
            o.Cookie.SecurePolicy = isDevelopment ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
            // A signed-in person without the role a page needs gets a 403 problem, not a redirect to a page that does not exist.
            o.Events.OnRedirectToAccessDenied = context =>
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            };
        });
}
