using System.Reflection;
using CustomerJourney.Access;
using CustomerJourney.Infrastructure;

namespace CustomerJourney.WebConsole;

/// <summary>
/// The console: server-rendered Razor Pages under /console, for people, behind the same policies as the API. No script
/// at all (expanding an entry is a &lt;details&gt;, the as-of slider a form), so the Content-Security-Policy forbids every script.
/// </summary>
public static class ConsoleModule
{
    /// <summary>No script, no frame, no plugin; styles and forms only from the service itself.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

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
        var css = Stylesheet();
        app.MapGet(ConsoleSignIn.PathPrefix + "/console.css", () => Results.Text(css, "text/css; charset=utf-8")).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static string Stylesheet()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("CustomerJourney.Console.console.css")
                           ?? throw new InvalidOperationException("The console's stylesheet is not embedded in the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
