using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;

namespace CustomerJourney.Touchpoints;

/// <summary>
/// Admits the ledger's transactions a few at a time (<see cref="IngestionOptions.MaxConcurrentWrites"/>), the rest waiting
/// their turn in arrival order, so an ingest at full rate never holds every core and reads keep theirs: writes queue here,
/// not in the run queue of the machine where reads would queue behind them. Parsing, validation and sealing happen
/// before, side by side; only the transaction (locks, claim, append, outbox) is admitted. Reads are never gated.
/// </summary>
public sealed class LedgerAdmission : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private readonly Histogram<double> _waited;
    private int _waiting;

    public LedgerAdmission(IOptions<IngestionOptions> options, IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(meters);
        Slots = options.Value.MaxConcurrentWrites > 0 ? options.Value.MaxConcurrentWrites : Math.Max(1, Environment.ProcessorCount - 1);
        _slots = new SemaphoreSlim(Slots, Slots);
        var meter = meters.Create(TouchpointMetrics.MeterName);
        _waited = meter.CreateHistogram<double>("customerjourney.touchpoints.admission.wait", "ms",
            "How long a ledger transaction waited for its turn to write.");
        meter.CreateObservableGauge("customerjourney.touchpoints.admission.waiting", () => Waiting, "{write}",
            "Ledger writes waiting for their turn; they hold no database connection while they wait.");
    }

    public int Slots { get; }

    /// <summary>Writes waiting for a slot now; a small write that another's shared commit has taken waits for that commit's outcome instead, uncounted.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Waits for a slot (or the request's cancellation); disposing the answer gives it back.</summary>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellation)
    {
        var started = Stopwatch.GetTimestamp();
        using (Counted())
        {
            await _slots.WaitAsync(cancellation);
        }

        return Admitted(started);
    }

    /// <summary>
    /// Waits for a slot unless <paramref name="unless"/> completes first, and then answers null: the slot, when it comes,
    /// is given back at once. A shared commit takes most of the writes waiting here; cancelling their waits would throw an
    /// exception per write (several per request, as each await rethrows it), so a taken write just stops waiting. The
    /// request's own cancellation still ends the wait with an exception.
    /// </summary>
    public async Task<IDisposable?> EnterUnlessAsync(Task unless, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(unless);
        var started = Stopwatch.GetTimestamp();
        var waiting = _slots.WaitAsync(cancellation);
        Task first;
        using (Counted())
        {
            first = await Task.WhenAny(waiting, unless);
        }

        if (first != waiting)
        {
            _ = waiting.ContinueWith(static (entered, slots) => GiveBack(entered, (SemaphoreSlim)slots!), _slots, CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return null;
        }

        await waiting;
        return Admitted(started);
    }

    public void Dispose() => _slots.Dispose();

    /// <summary>Counts a write as waiting until the answer is disposed (<see cref="Waiting"/>).</summary>
    private WaitingWrite Counted()
    {
        Interlocked.Increment(ref _waiting);
        return new WaitingWrite(this);
    }

    private readonly struct WaitingWrite(LedgerAdmission admission) : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref admission._waiting);
    }

    /// <summary>A slot just taken, its wait (since <paramref name="started"/>) recorded.</summary>
    private Slot Admitted(long started)
    {
        _waited.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return new Slot(_slots);
    }

    private static void GiveBack(Task entered, SemaphoreSlim slots)
    {
        if (!entered.IsCompletedSuccessfully)
        {
            return;
        }

        try
        {
            slots.Release();
        }
        catch (ObjectDisposedException)
        {
            // The service is stopping: there is no one left to give the slot to.
        }
    }

    private sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release();
            }
        }
    }
}
