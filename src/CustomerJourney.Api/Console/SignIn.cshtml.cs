using CustomerJourney.Access;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CustomerJourney.WebConsole;

/// <summary>Development only (the demo and the tests): sign in as one of the demo's people. Elsewhere it does not exist (404).</summary>
[AllowAnonymous]
public sealed class SignInPage(IWebHostEnvironment environment) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public IActionResult OnGet() => environment.IsDevelopment() ? Page() : NotFound();

    public async Task<IActionResult> OnPostAsync(string? person)
    {
        if (!environment.IsDevelopment())
        {
            return NotFound();
        }

        if (ConsoleSignIn.DemoPeople.FirstOrDefault(p => p.Name == person) is not { Name: not null } chosen)
        {
            ModelState.AddModelError("person", "Pick one of the demo's people.");
            return Page();
        }

        await HttpContext.SignInAsync(ConsoleSignIn.CookieScheme, ConsoleSignIn.Person(chosen.Name, [chosen.Role]));
        // Only a path of the console: never a redirect to another site.
        return LocalRedirect(ReturnUrl is { } back && Url.IsLocalUrl(back) && back.StartsWith(ConsoleSignIn.PathPrefix, StringComparison.Ordinal) ? back : ConsoleSignIn.PathPrefix);
    }
}
