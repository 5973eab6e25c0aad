using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CustomerJourney.WebConsole.Admin;

/// <summary>Projection health: the async daemon's progress per shard, read as /health/projections reads it.</summary>
[Authorize(Policy = Policies.Administer)]
public sealed class HealthPage(IDocumentStore store) : PageModel
{
    public long Head { get; private set; }

    public IReadOnlyList<ProjectionShardStatus> Shards { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellation) => (Head, Shards) = await ProjectionStatus.ReadAsync(store, cancellation);
}
