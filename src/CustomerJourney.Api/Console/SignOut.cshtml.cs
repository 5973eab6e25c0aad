using CustomerJourney.Access;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CustomerJourney.WebConsole;

/// <summary>Signing out is a POST (with the anti-forgery token): a link on another site cannot sign a person out.</summary>
[AllowAnonymous]
public sealed class SignOutPage(OrganisationProviderSettings organisation) : PageModel
{
    public IActionResult OnGet() => Page();

    /// <summary>Ends the cookie and, when the organisation's provider signed the person in, its session too (else the next page would sign them straight back in).</summary>
    public IActionResult OnPost() =>
        SignOut(new AuthenticationProperties { RedirectUri = Url.Page("/SignOut") }, AccountEndpoints.SignOutSchemes(organisation));
}
