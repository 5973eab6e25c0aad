using CustomerJourney.Access;
using CustomerJourney.Identity;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CustomerJourney.WebConsole.Admin;

/// <summary>
/// The right to be forgotten: name a customer, read which members of their profile will be destroyed with them, confirm.
/// The confirmation posts those members, so a profile that changed in between is refused (409) and shown again.
/// </summary>
[Authorize(Policy = Policies.Administer)]
public sealed class ErasurePage(IDocumentStore store) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? CustomerId { get; set; }

    public IReadOnlyList<string>? Members { get; private set; }

    public ErasureResult? Erased { get; private set; }

    public ProblemDetails? Problem { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellation)
    {
        if (CustomerId is { Length: > 0 } customerId)
        {
            await ReviewAsync(customerId, cancellation);
        }
    }

    public async Task OnPostAsync(List<string> members, [FromServices] IPersonalDataKeyStore keys, [FromServices] ProfileWriter writer,
        [FromServices] TimeProvider clock, CancellationToken cancellation)
    {
        var answer = ApiAnswers.Of<ErasureResult>(await EraseCustomerEndpoint.Post(CustomerId ?? "", ApiBodies.Json(HttpContext, new EraseCustomer(members)), User, store,
            keys, writer, clock, cancellation));
        (Erased, Problem) = (answer.Value, answer.Problem);
        if (Problem is not null && CustomerId is { Length: > 0 } customerId)
        {
            await ReviewAsync(customerId, cancellation);
        }
    }

    /// <summary>The members the erasure endpoint will destroy: the customer's profile as it is now, read as the endpoint reads it.</summary>
    private async Task ReviewAsync(string customerId, CancellationToken cancellation)
    {
        if (!TouchpointCatalogue.IdPattern().IsMatch(customerId))
        {
            Problem ??= new HttpValidationProblemDetails(new Dictionary<string, string[]> { ["customerId"] = [TouchpointCatalogue.IdHint] }) { Title = "Invalid request", Status = 400 };
            return;
        }

        await using var query = store.QuerySession();
        var profile = await ProfileStreams.FindMembersAsync(query, customerId, null, cancellation);
        Members = profile is null ? [customerId] : [.. profile.Members.Select(m => m.CustomerId)];
    }
}
