using CustomerJourney.Access;
using CustomerJourney.WinBack;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Wolverine.Runtime;

namespace CustomerJourney.WebConsole.Admin;

/// <summary>
/// Offers that could not be delivered after every retry wait in Wolverine's dead-letter queue; an admin re-drives them
/// here as with POST /api/dead-letters/replay. A re-driven offer runs the same checks again (consent, erasure).
/// </summary>
[Authorize(Policy = Policies.Administer)]
public sealed class OffersPage(DeadLetteredDeliveries deadLetters, IWolverineRuntime runtime) : PageModel
{
    public int Total { get; private set; }

    public IReadOnlyList<DeadLetter> Letters { get; private set; } = [];

    public int? Redriven { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellation) => (Total, Letters) = await deadLetters.ReadAsync(cancellation);

    public async Task OnPostAsync(List<Guid> ids, CancellationToken cancellation)
    {
        if (ids.Count > 0)
        {
            await runtime.Stores.ReplayDeadLettersAsync([.. ids]);
        }

        Redriven = ids.Count;
        (Total, Letters) = await deadLetters.ReadAsync(cancellation);
    }
}
