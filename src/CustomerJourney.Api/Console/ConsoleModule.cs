using System.Reflection;
using CustomerJourney.Access;
using CustomerJourney.Infrastructure;

namespace CustomerJourney.WebConsole;

/// <summary>
/// The console: server-rendered Razor Pages under /console, for people, behind the same policies as the API. Pages work
/// without script (expanding an entry is a &lt;details&gt;, the as-of slider a form); the one script is htmx 2.0.11, vendored,
/// which loads slow parts after the page and polls a running job (<see cref="BackgroundPart"/>). The
/// Content-Security-Policy allows only the service's own script file: no inline script, no eval.
/// </summary>
public static class ConsoleModule
{
    /// <summary>No inline script, no frame, no plugin; the script, styles, forms and background requests only from the service itself.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /// <summary>Where pages load htmx from.</summary>
    public const string ScriptPath = ConsoleSignIn.PathPrefix + "/htmx.min.js";

    public static IServiceCollection AddConsole(this IServiceCollection services, bool isDevelopment)
    {
        services.AddRazorPages(o => o.RootDirectory = "/Console");
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "cj-console-form";
            o.Cookie.Path = ConsoleSignIn.PathPrefix;
            o.Cookie.SecurePolicy = ConsoleSignIn.SecurePolicy(isDevelopment);
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
        });
        return services;
    }

    public static WebApplication MapConsole(this WebApplication app)
    {
        app.UseWhen(ConsoleSignIn.Selects, branch => branch.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "same-origin";
            headers.CacheControl = "no-store";
            await next(context);
        }));
        // Pages read HTML forms; every other endpoint still reads JSON only.
        app.MapRazorPages().WithMetadata(new AlsoReadsAttribute("application/x-www-form-urlencoded"));
        var css = Resource("console.css");
        app.MapGet(ConsoleSignIn.PathPrefix + "/console.css", () => Results.Text(css, "text/css; charset=utf-8")).AllowAnonymous().ExcludeFromDescription();
        var script = Resource("htmx.min.js");
        app.MapGet(ScriptPath, () => Results.Text(script, "text/javascript; charset=utf-8")).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static string Resource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("CustomerJourney.Console." + name)
                           ?? throw new InvalidOperationException($"The console's {name} is not embedded in the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
