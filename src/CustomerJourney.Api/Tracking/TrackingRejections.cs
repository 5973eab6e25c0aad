using System.Diagnostics.Metrics;
using CustomerJourney.Access;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace CustomerJourney.TrackingApi;

/// <summary>
/// A call /v1/* did not record. SDKs never read answer bodies, so each refusal is kept for an administrator: what and why,
/// never a personal value (the fields named, not their contents).
/// </summary>
public sealed class TrackingRejection
{
    public Guid Id { get; set; }
    public string Source { get; set; } = "";
    public DateTimeOffset At { get; set; }
    public string? Type { get; set; }
    public string? MessageId { get; set; }
    public string? Event { get; set; }
    public int Status { get; set; }
    public string Reason { get; set; } = "";
    public IReadOnlyList<string> Fields { get; set; } = [];
}

public sealed record RejectionCount(string Source, int Count);

public sealed record RejectionsPage(IReadOnlyList<RejectionCount> Counts, IReadOnlyList<TrackingRejection> Recent);

/// <summary>Counts refusals per source (a metric, and a document each for the administrator's list).</summary>
public sealed class TrackingRejectionLog(IDocumentStore store, IMeterFactory meters)
{
    private readonly Counter<long> _rejected = meters.Create(Touchpoints.TouchpointMetrics.MeterName)
        .CreateCounter<long>("customerjourney.tracking.rejected", "{call}", "Tracking calls (/v1/*) not recorded, by source and status.");

    public async Task KeepAsync(IReadOnlyList<TrackingRejection> rejections, CancellationToken cancellation)
    {
        if (rejections.Count == 0)
        {
            return;
        }

        foreach (var r in rejections)
        {
            _rejected.Add(1, new KeyValuePair<string, object?>("source", r.Source), new KeyValuePair<string, object?>("status", r.Status));
        }

        await using var session = store.LightweightSession();
        session.Store(rejections.ToArray());
        await session.SaveChangesAsync(cancellation);
    }
}

public static class GetTrackingRejectionsEndpoint
{
    /// <summary>Refused tracking calls: a count per source, and the latest (?source=, ?limit= up to 500).</summary>
    [WolverineGet("/api/tracking/rejections")]
    [Authorize(Policy = Policies.Administer)]
    public static async Task<IResult> Get(HttpRequest request, IQuerySession session, CancellationToken cancellation)
    {
        var query = new Infrastructure.ReadQuery(request);
        var limit = query.Integer("limit", 100, 1, 500);
        var source = query.Text("source");
        if (query.Errors.Any)
        {
            return Results.ValidationProblem(query.Errors.ToDictionary(), title: "Invalid request", detail: "See errors for each parameter.");
        }

        var sources = source is null
            ? await session.Query<TrackingRejection>().Select(r => r.Source).Distinct().ToListAsync(cancellation)
            : [source];
        var counts = new List<RejectionCount>();
        foreach (var name in sources.Order(StringComparer.Ordinal))
        {
            counts.Add(new RejectionCount(name, await session.Query<TrackingRejection>().CountAsync(r => r.Source == name, cancellation)));
        }

        var recent = session.Query<TrackingRejection>();
        var latest = await (source is null ? recent : recent.Where(r => r.Source == source))
            .OrderByDescending(r => r.At).Take(limit).ToListAsync(cancellation);
        return Results.Ok(new RejectionsPage(counts, latest));
    }
}
