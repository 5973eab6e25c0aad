using CustomerJourney.Access;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CustomerJourney.WebConsole;

/// <summary>Signing out is a POST (with the anti-forgery token): a link on another site cannot sign a person out.</summary>
[AllowAnonymous]
public sealed class SignOutPage : PageModel
{
    public IActionResult OnGet() => Page();

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(ConsoleSignIn.CookieScheme);
        return RedirectToPage();
    }
}
