using System.Diagnostics.Metrics;
using JasperFx.Events.Projections;
using Marten;
using Marten.Events.Projections;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CustomerJourney.Infrastructure;

/// <summary>One async projection shard: how far it has come, how far behind the event store it is, and why it stopped.</summary>
public sealed record ProjectionShardStatus(string Shard, long Sequence, long Behind, string? AgentStatus, string? Failure)
{
    public bool Stopped => Failure is not null || AgentStatus is "Paused" or "Stopped";
}

/// <summary>
/// What the async daemon's progress table says, read from PostgreSQL so every instance reports the same thing,
/// whichever of them holds the projection.
/// </summary>
public static class ProjectionStatus
{
    public static async Task<(long Head, IReadOnlyList<ProjectionShardStatus> Shards)> ReadAsync(IDocumentStore store, CancellationToken cancellation)
    {
        // The sequence's last value, not FetchEventStoreStatistics: that also counts every event and stream, a scan of
        // the whole store each time the monitor polls (80 ms at a million events, every 5 s).
        var head = await store.Storage.Database.FetchHighestEventSequenceNumber(cancellation);
        var progress = await store.Advanced.AllProjectionProgress(token: cancellation);
        // Shards are named "Projection:Shard"; rows without the colon are the daemon's own marks (HighWaterMark, ...). The
        // parts of a composite projection keep rows of their own that move with the composite's, which is the shard that runs.
        var parts = PartsOfComposites(store);
        var shards = progress.Where(p => p.ShardName.Contains(':', StringComparison.Ordinal) && !parts.Contains(p.ShardName))
            .Select(p => new ProjectionShardStatus(p.ShardName, p.Sequence, Math.Max(0, head - p.Sequence), p.AgentStatus?.ToString(), Describe(p)))
            .OrderBy(s => s.Shard, StringComparer.Ordinal)
            .ToList();
        return (head, shards);
    }

    private static HashSet<string> PartsOfComposites(IDocumentStore store) => store is DocumentStore { Options: var options }
        ? options.Projections.All.OfType<CompositeProjection>().SelectMany(c => c.AllProjections()).SelectMany(p => p.ShardNames())
            .Select(shard => shard.Identity).ToHashSet(StringComparer.Ordinal)
        : [];

    /// <summary>The failure and its cause, without the stack trace (the probe is anonymous; the log has the rest).</summary>
    private static string? Describe(ShardState state) => state.Failure is { } failure
        ? $"{failure.Category} at {failure.Event}: " + string.Join(" ", (failure.Message ?? "").Split('\n')
            .Select(line => line.Trim()).Where(line => line.Length > 0 && !line.StartsWith("at ", StringComparison.Ordinal)).Take(2))
        : state.PauseReason;
}

/// <summary>Unhealthy while any projection has stopped on an event; the description names it and the event.</summary>
public sealed class ProjectionHealthCheck(IDocumentStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (head, shards) = await ProjectionStatus.ReadAsync(store, cancellationToken);
        var data = shards.ToDictionary(s => s.Shard, s => (object)new { s.Sequence, s.Behind, s.AgentStatus, s.Failure });
        data["eventStoreHead"] = head;
        var stopped = shards.Where(s => s.Stopped).ToList();
        return stopped.Count > 0
            ? HealthCheckResult.Unhealthy(string.Join("; ", stopped.Select(s => $"projection {s.Shard} stopped at sequence {s.Sequence}: {s.Failure ?? s.AgentStatus}")), data: data)
            : HealthCheckResult.Healthy($"{shards.Count} projection shard(s) running; furthest behind: {(shards.Count == 0 ? 0 : shards.Max(s => s.Behind))} event(s).", data);
    }
}

/// <summary>
/// Publishes projection lag and stopped shards as metrics and logs a stop once, as an error. Polls, because the
/// shard may run on another instance.
/// </summary>
public sealed class ProjectionMonitor : BackgroundService
{
    public const string MeterName = Observability.MeterPrefix + "Projections";
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private readonly IDocumentStore store;
    private readonly ILogger<ProjectionMonitor> logger;
    private readonly HashSet<string> reported = [];
    private volatile IReadOnlyList<ProjectionShardStatus> latest = [];

    public ProjectionMonitor(IDocumentStore store, ILogger<ProjectionMonitor> logger, IMeterFactory meters)
    {
        this.store = store;
        this.logger = logger;
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge("customerjourney.projection.behind", () => latest.Select(s => new Measurement<long>(s.Behind, new KeyValuePair<string, object?>("shard", s.Shard))),
            unit: "{event}", description: "How many events the async projection shard is behind the event store's head.");
        meter.CreateObservableGauge("customerjourney.projection.stopped", () => latest.Select(s => new Measurement<int>(s.Stopped ? 1 : 0, new KeyValuePair<string, object?>("shard", s.Shard))),
            description: "1 while the projection shard has stopped on an event it could not apply.");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                var (_, shards) = await ProjectionStatus.ReadAsync(store, stoppingToken);
                latest = shards;
                foreach (var shard in shards)
                {
                    if (shard.Stopped && reported.Add(shard.Shard))
                    {
                        logger.LogError("Projection {Shard} stopped at sequence {Sequence}: {Failure}", shard.Shard, shard.Sequence, shard.Failure ?? shard.AgentStatus);
                    }
                    else if (!shard.Stopped)
                    {
                        reported.Remove(shard.Shard);
                    }
                }
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
            {
                // The database is away; the readiness check says so. Keep the last figures.
                logger.LogDebug(e, "Could not read projection progress");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
