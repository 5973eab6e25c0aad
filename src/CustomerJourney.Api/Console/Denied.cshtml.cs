using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CustomerJourney.WebConsole;

/// <summary>Where a refused page or action lands: a clear refusal, answered 403 so it is never mistaken for the page.</summary>
[AllowAnonymous]
public sealed class DeniedPage : PageModel
{
    public void OnGet() => Response.StatusCode = StatusCodes.Status403Forbidden;
}
