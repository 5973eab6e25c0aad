using CustomerJourney.Access;
using CustomerJourney.Identity;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CustomerJourney.WebConsole;

/// <summary>The console's home: find a customer by id, or by e-mail or phone through identity resolution's blind index.</summary>
[Authorize]
public sealed class FindPage(IAuthorizationService authorization) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? CustomerId { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Email { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Phone { get; set; }

    public bool MayFind { get; private set; }

    public bool MayFindByContact => Roles.MayReadPersonalData(User);

    public FoundCustomers? Found { get; private set; }

    public ProblemDetails? Problem { get; private set; }

    public async Task<IActionResult> OnGetAsync([FromServices] IQuerySession session, [FromServices] BlindIndex index, [FromServices] IdentityRules rules,
        CancellationToken cancellation)
    {
        MayFind = (await authorization.AuthorizeAsync(User, Policies.ReadCustomers)).Succeeded;
        if (!MayFind)
        {
            // An admin reads no customers: the page says so and the menu leads to the admin pages.
            return Page();
        }

        if (CustomerId is { Length: > 0 } id)
        {
            if (TouchpointCatalogue.IdPattern().IsMatch(id))
            {
                return Redirect($"/console/customers/{Uri.EscapeDataString(id)}");
            }

            Problem = new HttpValidationProblemDetails(new Dictionary<string, string[]> { ["customerId"] = [TouchpointCatalogue.IdHint] }) { Title = "Invalid request" };
            return Page();
        }

        if (Email is { Length: > 0 } || Phone is { Length: > 0 })
        {
            var answer = await ApiCalls.Answer<FoundCustomers>(FindCustomersEndpoint.Get(
                ApiCalls.Query(HttpContext, ("email", Email is { Length: > 0 } ? Email : null), ("phone", Phone is { Length: > 0 } ? Phone : null)),
                User, session, index, rules, cancellation));
            (Found, Problem) = (answer.Value, answer.Problem);
        }

        return Page();
    }
}
