using CustomerJourney.Access;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CustomerJourney.WebConsole.Admin;

/// <summary>API keys of source systems: create one (its secret shown once, on this answer only), list, revoke.</summary>
[Authorize(Policy = Policies.Administer)]
public sealed class KeysPage(IDocumentSession session, TimeProvider clock, RecentLookups recent) : PageModel
{
    public IReadOnlyList<ApiKeyView> Keys { get; private set; } = [];

    public CreatedApiKey? Created { get; private set; }

    public ApiKeyView? Revoked { get; private set; }

    public ProblemDetails? Problem { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellation) => Keys = await ManageApiKeysEndpoints.List(session, cancellation);

    public async Task OnPostCreateAsync(string? source, CancellationToken cancellation)
    {
        var answer = ApiAnswers.Of<CreatedApiKey>(await ManageApiKeysEndpoints.Create(ApiBodies.Json(HttpContext, new { source }), User, session, clock, cancellation));
        // The endpoint leaves the commit to Wolverine's transaction; a page commits itself.
        await session.SaveChangesAsync(cancellation);
        (Created, Problem) = (answer.Value, answer.Problem);
        Keys = await ManageApiKeysEndpoints.List(session, cancellation);
    }

    public async Task OnPostRevokeAsync(string id, CancellationToken cancellation)
    {
        var answer = ApiAnswers.Of<ApiKeyView>(await ManageApiKeysEndpoints.Revoke(id, User, session, clock, recent, cancellation));
        await session.SaveChangesAsync(cancellation);
        (Revoked, Problem) = (answer.Value, answer.Problem);
        Keys = await ManageApiKeysEndpoints.List(session, cancellation);
    }
}
