using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using JasperFx.Events;
using Marten;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CustomerJourney.Infrastructure;

/// <summary>One stream a reader had to leave out: the first event it could not read there.</summary>
public sealed record UnreadableHistory(string StreamKey, long Sequence, string? EventType, DateTimeOffset SeenAt);

/// <summary>
/// The streams readers over many customers (candidate lists, launches, flag sweeps) found an event in that they could
/// not read, and left out whole. Kept per instance, from the latest reads; counted as a gauge and named on
/// /health/projections, so a bad event degrades a capability visibly instead of stopping it.
/// </summary>
public sealed class UnreadableStreams
{
    public const string MeterName = "CustomerJourney.Streams";
    private readonly ConcurrentDictionary<string, UnreadableHistory> _streams = new(StringComparer.Ordinal);
    private readonly TimeProvider _clock;

    public UnreadableStreams(IMeterFactory meters, TimeProvider clock)
    {
        _clock = clock;
        meters.Create(MeterName).CreateObservableGauge("customerjourney.streams.unreadable", () => _streams.Count, unit: "{stream}",
            description: "Streams left out by readers because one of their events cannot be read.");
    }

    public IReadOnlyList<UnreadableHistory> All => [.. _streams.Values.OrderBy(s => s.StreamKey, StringComparer.Ordinal)];

    public void Found(string streamKey, long sequence, string? eventType) =>
        _streams.TryAdd(streamKey, new UnreadableHistory(streamKey, sequence, eventType, _clock.GetUtcNow()));

    /// <summary>These streams were just read whole: whatever was wrong with them is fixed.</summary>
    public void Read(IEnumerable<string> streamKeys)
    {
        foreach (var key in streamKeys)
        {
            _streams.TryRemove(key, out _);
        }
    }

    /// <summary>Everything was read: only the streams left out this time stay listed.</summary>
    public void ReadAllBut(IReadOnlyCollection<string> leftOut)
    {
        foreach (var key in _streams.Keys.Where(k => !leftOut.Contains(k)))
        {
            _streams.TryRemove(key, out _);
        }
    }
}

/// <summary>Reads raw events, leaving out whole any stream with an event that cannot be deserialized.</summary>
public static class ReadableEvents
{
    /// <summary>More unreadable streams than this in one read is no longer a bad event but a broken store: the read fails.</summary>
    public const int MaxLeftOut = 100;

    /// <summary>
    /// Runs <paramref name="query"/> over the raw events. When one cannot be read, finds its stream, reports it, and runs the
    /// query again without that stream, so the reader skips the stream (a customer), never just the event: skipping a
    /// consent withdrawal and reading the rest could mail a person who said no.
    /// </summary>
    public static async Task<(IReadOnlyList<IEvent> Events, IReadOnlySet<string> LeftOut)> QueryAsync(IQuerySession session,
        Func<IQueryable<IEvent>, IQueryable<IEvent>> query, UnreadableStreams registry, CancellationToken cancellation)
    {
        var leftOut = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            try
            {
                IQueryable<IEvent> events = session.Events.QueryAllRawEvents();
                if (leftOut.Count > 0)
                {
                    var skipped = leftOut.ToArray();
                    events = events.Where(e => !e.StreamKey!.IsOneOf(skipped));
                }

                return (await ((Marten.Linq.IMartenQueryable<IEvent>)query(events)).ToListAsync(cancellation), leftOut);
            }
            catch (Exception e) when (Failure(e) is { } failure && leftOut.Count < MaxLeftOut)
            {
                var stream = await StreamOfAsync(session, failure.Sequence, cancellation);
                if (stream is null || !leftOut.Add(stream))
                {
                    throw;
                }

                registry.Found(stream, failure.Sequence, failure.EventType);
            }
        }
    }

    /// <summary>One stream's events, or null (reported) when one of them cannot be read.</summary>
    public static async Task<IReadOnlyList<IEvent>?> FetchStreamAsync(IQuerySession session, string streamKey, UnreadableStreams registry, CancellationToken cancellation)
    {
        try
        {
            var events = await session.Events.FetchStreamAsync(streamKey, token: cancellation);
            registry.Read([streamKey]);
            return events;
        }
        catch (Exception e) when (Failure(e) is { } failure)
        {
            registry.Found(streamKey, failure.Sequence, failure.EventType);
            return null;
        }
    }

    /// <summary>The event a read failed on, when it failed because an event body cannot be read.</summary>
    public static (long Sequence, string? EventType)? Failure(Exception exception) => exception switch
    {
        JasperFx.Events.EventDeserializationFailureException e => (e.Sequence, e.EventTypeName),
        Marten.Exceptions.EventDeserializationFailureException e => (e.Sequence, e.EventTypeName),
        _ => null,
    };

    private static async Task<string?> StreamOfAsync(IQuerySession session, long sequence, CancellationToken cancellation)
    {
        var schema = session.DocumentStore.Options.Events.DatabaseSchemaName;
        var keys = await session.AdvancedSql.QueryAsync<string>($"select stream_id from {schema}.mt_events where seq_id = ?", cancellation, sequence);
        return keys.Count == 0 ? null : keys[0];
    }
}

/// <summary>Degraded (still 200) while readers leave streams out; the description names them and the events.</summary>
public sealed class UnreadableStreamsHealthCheck(UnreadableStreams registry) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var all = registry.All;
        var data = all.Take(50).ToDictionary(s => s.StreamKey, s => (object)new { s.Sequence, s.EventType, s.SeenAt });
        return Task.FromResult(all.Count == 0
            ? HealthCheckResult.Healthy("Every stream read could be read.")
            : HealthCheckResult.Degraded($"{all.Count} stream(s) left out by readers because an event cannot be read: " +
                string.Join(", ", all.Take(20).Select(s => $"{s.StreamKey} (#{s.Sequence} {s.EventType})")) + (all.Count > 20 ? ", ..." : ""), data: data));
    }
}
