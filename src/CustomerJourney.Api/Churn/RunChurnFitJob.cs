using CustomerJourney.Infrastructure;
using Marten;
using Microsoft.Extensions.Options;
using Wolverine;
using Wolverine.Attributes;

namespace CustomerJourney.Churn;

/// <summary>Run the queued fit job.</summary>
public sealed record RunChurnFitJob(Guid JobId);

/// <summary>
/// Runs a fit job from the durable local queue "churn-fits". Only a queued job runs: a message delivered again for a
/// job that ended, or that a stopped service left loading or fitting, does nothing (the sweep marks the latter failed).
/// </summary>
public static class RunChurnFitJobHandler
{
    /// <summary>The queue the jobs run on, one at a time per instance: a fit takes every core it gets for seconds.</summary>
    public const string Queue = "churn-fits";

    // Wolverine's default execution timeout is 60 s; a million customers' histories take longer to read. The fits have
    // their own bounds (Churn:FitTimeBudget each), so this only bounds the read.
    [MessageTimeout(3600)]
    public static async Task Handle(RunChurnFitJob command, IDocumentStore store, IMessageBus bus, TimeProvider clock, IOptions<ChurnOptions> options,
        ChurnMetrics metrics, ChurnFitRuns runs, ILogger<RunChurnFitJob> logger, CancellationToken cancellation)
    {
        var settings = options.Value;
        ChurnFitJob? job;
        bool cancelRequested;
        await using (var read = store.QuerySession())
        {
            job = await read.LoadAsync<ChurnFitJob>(command.JobId, cancellation);
            cancelRequested = await read.LoadAsync<ChurnFitCancellation>(command.JobId, cancellation) is not null;
        }

        if (job is null || job.State != FitJobStates.Queued)
        {
            return;
        }

        if (cancelRequested)
        {
            await FinishAsync(store, bus, job with { State = FitJobStates.Cancelled, FinishedAt = clock.GetUtcNow() }, fitted: null);
            return;
        }

        var now = clock.GetUtcNow();
        var run = new FitJobRun(job with { State = FitJobStates.Loading, StartedAt = now, HeartbeatAt = now });
        await SaveAsync(store, run.Current, cancellation);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        using var registration = runs.Register(job.Id, stop);
        using var watching = new CancellationTokenSource();
        var watch = WatchAsync(store, run, stop, settings, clock, logger, watching.Token);
        ChurnFitJob ended;
        ChurnModelFitted? fitted = null;
        try
        {
            await using var session = store.QuerySession();
            (fitted, var customers) = await ChurnFits.FitAsync(session, job.Request, job.RequestedBy, settings, metrics, clock, run, stop.Token);
            ended = fitted is null
                ? run.Current with { State = FitJobStates.Failed, Problem = new FitJobProblem(StatusCodes.Status422UnprocessableEntity, ChurnFits.TooFewTitle, ChurnFits.TooFewDetail(job.Request, customers)) }
                : run.Current with { State = FitJobStates.Succeeded, ModelId = fitted.ModelId };
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested && !cancellation.IsCancellationRequested)
        {
            ended = run.Current with { State = FitJobStates.Cancelled };
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // The service is stopping (or the message timed out): the job failed, and is not run again.
            ended = run.Current with { State = FitJobStates.Failed, Problem = new FitJobProblem(StatusCodes.Status503ServiceUnavailable, "Fit interrupted",
                "The service stopped while this fit ran; start the fit again.") };
        }
        catch (ProjectionBehindException behind)
        {
            ended = run.Current with { State = FitJobStates.Failed, Problem = new FitJobProblem(StatusCodes.Status503ServiceUnavailable, "Projection behind", behind.Message) };
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogError(e, "Churn fit job {JobId} failed", job.Id);
            ended = run.Current with { State = FitJobStates.Failed, Problem = new FitJobProblem(StatusCodes.Status500InternalServerError, "Fit failed",
                $"The fit failed unexpectedly; the service's log has the details under job {job.Id}.") };
        }
        finally
        {
            await watching.CancelAsync();
            await watch;
        }

        await FinishAsync(store, bus, ended with { FinishedAt = clock.GetUtcNow(), Progress = ended.Progress with { Fitting = null } }, fitted);
    }

    /// <summary>The job's end and its model (if any) in one transaction; then, as after any fit, every customer's flags are evaluated again.</summary>
    private static async Task FinishAsync(IDocumentStore store, IMessageBus bus, ChurnFitJob ended, ChurnModelFitted? fitted)
    {
        await using var session = store.LightweightSession();
        if (fitted is not null)
        {
            ChurnFits.Record(session, fitted);
        }

        session.Store(ended with { HeartbeatAt = ended.FinishedAt ?? ended.HeartbeatAt });
        // Not the run's cancellation: a stopped or cancelled job must still record how it ended.
        await session.SaveChangesAsync(CancellationToken.None);
        if (fitted is not null)
        {
            await bus.PublishAsync(new EvaluateAllChurnFlags());
        }
    }

    private static async Task SaveAsync(IDocumentStore store, ChurnFitJob job, CancellationToken cancellation)
    {
        await using var session = store.LightweightSession();
        session.Store(job);
        await session.SaveChangesAsync(cancellation);
    }

    /// <summary>
    /// While the job runs: writes its progress when it changed (and its heartbeat at least every Churn:FitJobHeartbeat), and
    /// stops it when a cancellation document appears (one received by another instance).
    /// </summary>
    private static async Task WatchAsync(IDocumentStore store, FitJobRun run, CancellationTokenSource stop, ChurnOptions settings, TimeProvider clock,
        ILogger logger, CancellationToken ended)
    {
        var written = 0;
        var beat = clock.GetUtcNow();
        using var timer = new PeriodicTimer(settings.FitJobPoll);
        try
        {
            while (await timer.WaitForNextTickAsync(ended))
            {
                try
                {
                    await using var session = store.LightweightSession();
                    if (!stop.IsCancellationRequested && await session.LoadAsync<ChurnFitCancellation>(run.Current.Id, ended) is not null)
                    {
                        await stop.CancelAsync();
                    }

                    var (job, version) = run.Snapshot();
                    var now = clock.GetUtcNow();
                    if (version != written || now - beat >= settings.FitJobHeartbeat)
                    {
                        session.Store(job with { HeartbeatAt = now });
                        await session.SaveChangesAsync(ended);
                        (written, beat) = (version, now);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A write that failed is tried again at the next tick; the fit goes on.
                    logger.LogWarning(e, "Could not write the progress of churn fit job {JobId}", run.Current.Id);
                }
            }
        }
        catch (OperationCanceledException) when (ended.IsCancellationRequested)
        {
            // The run ended; its last state is written by the handler.
        }
    }

    /// <summary>The job as its run sees it, changed by the fit's progress reports (on the fit's threads) and read by the watch.</summary>
    private sealed class FitJobRun(ChurnFitJob job) : IFitProgress
    {
        private readonly Lock _gate = new();
        private ChurnFitJob _job = job;
        private int _version;

        public ChurnFitJob Current
        {
            get
            {
                lock (_gate)
                {
                    return _job;
                }
            }
        }

        public (ChurnFitJob Job, int Version) Snapshot()
        {
            lock (_gate)
            {
                return (_job, _version);
            }
        }

        public void Read(int histories, int of) => Change(j => j with { State = FitJobStates.Loading, Progress = j.Progress with { HistoriesRead = histories, Histories = of } });

        public void Fitting(int customers, string model) =>
            Change(j => j with { State = FitJobStates.Fitting, Progress = j.Progress with { Customers = customers, Fitting = model } });

        /// <summary>A model stopped by the cancellation was not fitted: the job is about to end cancelled.</summary>
        public void Fitted(string model, string reason) => Change(j =>
        {
            if (reason == Models.FitStop.Cancelled)
            {
                return j;
            }

            IReadOnlyList<string> fitted = [.. j.Progress.Fitted, model];
            return j with { Progress = j.Progress with { Fitted = fitted, Fitting = ChurnFitting.ModelNames.Skip(fitted.Count).FirstOrDefault() } };
        });

        private void Change(Func<ChurnFitJob, ChurnFitJob> change)
        {
            lock (_gate)
            {
                _job = change(_job);
                _version++;
            }
        }
    }
}

/// <summary>
/// Marks failed the jobs that a stopped service left loading or fitting (<see cref="ChurnFitJobs.Interrupted"/>): at start
/// and then every Churn:FitJobStaleAfter. A job is never left running forever, and is not run again on its own.
/// </summary>
public sealed class ChurnFitJobSweep(IDocumentStore store, TimeProvider clock, IOptions<ChurnOptions> options, ILogger<ChurnFitJobSweep> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var staleAfter = options.Value.FitJobStaleAfter;
        using var timer = new PeriodicTimer(staleAfter);
        do
        {
            try
            {
                var swept = await SweepAsync(store, clock.GetUtcNow(), staleAfter, stoppingToken);
                if (swept > 0)
                {
                    logger.LogWarning("Marked {Count} interrupted churn fit job(s) failed", swept);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The database away for a moment must not stop the host; the next sweep tries again.
                logger.LogWarning(e, "Could not sweep interrupted churn fit jobs");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public static async Task<int> SweepAsync(IDocumentStore store, DateTimeOffset now, TimeSpan staleAfter, CancellationToken cancellation)
    {
        await using var session = store.LightweightSession();
        var cutoff = now - staleAfter;
        var running = await session.Query<ChurnFitJob>()
            .Where(j => (j.State == FitJobStates.Loading || j.State == FitJobStates.Fitting) && j.HeartbeatAt < cutoff).ToListAsync(cancellation);
        var interrupted = running.Select(j => ChurnFitJobs.Interrupted(j, now, staleAfter)).OfType<ChurnFitJob>().ToList();
        foreach (var job in interrupted)
        {
            session.Store(job);
        }

        await session.SaveChangesAsync(cancellation);
        return interrupted.Count;
    }
}
