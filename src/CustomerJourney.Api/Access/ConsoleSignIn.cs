using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;

namespace CustomerJourney.Access;

/// <summary>
/// How people sign in to the console's pages: a cookie, read only under <see cref="PathPrefix"/>, so the API keeps its
/// bearer token and API key (a cookie sent to the API would let any site a person visits post in their name). The
/// principal carries the same "name" and "role" claims a bearer token does, so the same policies and the same redaction
/// apply to pages as to the API.
/// </summary>
public static class ConsoleSignIn
{
    public const string CookieScheme = "console";
    public const string CookieName = "cj-console";
    public const string PathPrefix = "/console";
    public const string SignInPath = "/console/sign-in";
    public const string DeniedPath = "/console/denied";

    /// <summary>Whether the request is a page's, authenticated by the cookie rather than by a token or a key.</summary>
    public static bool Selects(HttpContext context) => context.Request.Path.StartsWithSegments(PathPrefix, StringComparison.Ordinal);

    /// <summary>
    /// Secure outside Development; the demo serves plain HTTP on loopback, where a cookie is Secure when the request was
    /// (the browser tests reach the service as HTTPS, so theirs are).
    /// </summary>
    public static CookieSecurePolicy SecurePolicy(bool isDevelopment) => isDevelopment ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;

    public static AuthenticationBuilder AddConsoleCookie(this AuthenticationBuilder authentication, IConfiguration configuration, bool isDevelopment) =>
        authentication.AddCookie(CookieScheme, o =>
        {
            o.Cookie.Name = CookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SecurePolicy = SecurePolicy(isDevelopment);
            // Lax, not Strict: a link from a mail or a ticket to a journey page opens signed in; a cross-site POST does not carry it.
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.Path = PathPrefix;
            o.LoginPath = SignInPath;
            o.AccessDeniedPath = DeniedPath;
            o.ExpireTimeSpan = configuration.GetValue("Console:SessionLifetime", TimeSpan.FromHours(8));
            o.SlidingExpiration = true;
        });

    /// <summary>A person's principal as the console's cookie holds it: their name and only the people roles.</summary>
    public static ClaimsPrincipal Person(string name, IEnumerable<string> roles)
    {
        var claims = new List<Claim> { new(AccessClaims.Name, name) };
        claims.AddRange(roles.Where(Roles.People.Contains).Distinct(StringComparer.Ordinal).Select(r => new Claim(AccessClaims.Role, r)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, CookieScheme, AccessClaims.Name, AccessClaims.Role));
    }

    /// <summary>The demo's people, one per role: what the Development sign-in page offers.</summary>
    public static readonly IReadOnlyList<(string Name, string Role)> DemoPeople =
    [
        ("ada-analyst", Roles.Analyst), ("max-marketing", Roles.Marketing), ("aga-agent", Roles.Agent),
        ("sue-supervisor", Roles.Supervisor), ("aud-auditor", Roles.Auditor), ("adm-admin", Roles.Admin),
    ];
}
