using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Wolverine.Persistence.Durability.DeadLetterManagement;
using Wolverine.Runtime;

namespace CustomerJourney.WinBack;

/// <summary>One message in Wolverine's dead-letter queue, as the probe shows it (no exception text: it may quote an address).</summary>
public sealed record DeadLetter(Guid Id, string MessageType, string ExceptionType, DateTimeOffset SentAt);

/// <summary>
/// Polls Wolverine's dead-letter queue (in PostgreSQL, so every instance sees the same) for messages not yet marked for
/// re-drive: the gauge <c>customerjourney.deliveries.dead_lettered</c> (per message type) and /health/deliveries.
/// </summary>
public sealed class DeadLetteredDeliveries : BackgroundService
{
    public const string MeterName = "CustomerJourney.WinBack";
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private readonly IWolverineRuntime _runtime;
    private readonly ILogger<DeadLetteredDeliveries> _logger;
    private volatile IReadOnlyList<DeadLetter> _latest = [];
    private volatile int _total;

    public DeadLetteredDeliveries(IWolverineRuntime runtime, ILogger<DeadLetteredDeliveries> logger, IMeterFactory meters)
    {
        _runtime = runtime;
        _logger = logger;
        meters.Create(MeterName).CreateObservableGauge("customerjourney.deliveries.dead_lettered",
            () => _latest.GroupBy(d => d.MessageType).Select(g => new Measurement<int>(g.Count(), new KeyValuePair<string, object?>("message_type", g.Key))),
            unit: "{message}", description: "Messages in Wolverine's dead-letter queue, waiting for an admin to re-drive or discard them.");
    }

    /// <summary>Reads the queue now (the probe and the poll both use it).</summary>
    public async Task<(int Total, IReadOnlyList<DeadLetter> First)> ReadAsync(CancellationToken cancellation)
    {
        var results = await _runtime.Stores.FetchDeadLetterEnvelopesAsync(new DeadLetterEnvelopeGetRequest { Limit = 100, Replayable = false }, cancellation);
        var letters = results.SelectMany(r => r.Envelopes).Select(e => new DeadLetter(e.Id, e.MessageType, e.ExceptionType, e.SentAt)).ToList();
        _latest = letters;
        _total = results.Sum(r => r.TotalCount);
        return (_total, letters);
    }

    public int Total => _total;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                await ReadAsync(stoppingToken);
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
            {
                _logger.LogWarning(e, "Could not read the dead-letter queue");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}

/// <summary>Unhealthy while messages wait in the dead-letter queue; names them by id, for the re-drive endpoint.</summary>
public sealed class DeliveriesHealthCheck(DeadLetteredDeliveries deadLetters) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (total, first) = await deadLetters.ReadAsync(cancellationToken);
        var data = new Dictionary<string, object> { ["deadLettered"] = total, ["messages"] = first.Take(50).ToList() };
        return total == 0
            ? HealthCheckResult.Healthy("No message waits in the dead-letter queue.", data)
            : HealthCheckResult.Unhealthy($"{total} message(s) in the dead-letter queue: " +
                string.Join(", ", first.GroupBy(d => d.MessageType).Select(g => $"{g.Count()} {g.Key}")) +
                ". Re-drive them with POST /api/dead-letters/replay (admin), or discard them with DELETE /api/dead-letters/.", data: data);
    }
}
