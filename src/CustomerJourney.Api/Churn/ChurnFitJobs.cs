using System.Collections.Concurrent;
using CustomerJourney.Access;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;
using Wolverine.Marten;

namespace CustomerJourney.Churn;

/// <summary>Where a fit job is: queued, reading the histories (loading), fitting a model, then how it ended.</summary>
public static class FitJobStates
{
    public const string Queued = "queued";
    public const string Loading = "loading";
    public const string Fitting = "fitting";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static bool Ended(string state) => state is Succeeded or Failed or Cancelled;

    public static bool Running(string state) => state is Loading or Fitting;
}

/// <summary>How far a job has come: histories read of those there are, then the cohort, the model being fitted and those done.</summary>
public sealed record FitJobProgress(int HistoriesRead, int? Histories, int? Customers, string? Fitting, IReadOnlyList<string> Fitted)
{
    public static FitJobProgress None { get; } = new(0, null, null, null, []);
}

/// <summary>Why a job gave no model, with the status the synchronous fit would have answered.</summary>
public sealed record FitJobProblem(int Status, string Title, string Detail);

/// <summary>
/// One fit job (a Marten document): what was asked, by whom, how far it is and how it ended. Only the job's own run writes
/// it while it runs (<see cref="HeartbeatAt"/> says it is alive); a cancellation is a document of its own, so a progress
/// write never overwrites it.
/// </summary>
public sealed record ChurnFitJob(
    Guid Id,
    string State,
    DateTimeOffset CalibrationEnd,
    DateTimeOffset? AsOf,
    string Currency,
    string RequestedBy,
    DateTimeOffset RequestedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    DateTimeOffset HeartbeatAt,
    FitJobProgress Progress,
    Guid? ModelId,
    FitJobProblem? Problem)
{
    public FitRequest Request => new(CalibrationEnd, AsOf, Currency);
}

/// <summary>Someone asked the job to stop.</summary>
public sealed record ChurnFitCancellation(Guid Id, DateTimeOffset RequestedAt, string RequestedBy);

/// <summary>A fit job as the status resource answers it; <see cref="Model"/> links the fitted model once it succeeded.</summary>
public sealed record ChurnFitJobView(
    Guid Id, string State, DateTimeOffset CalibrationEnd, DateTimeOffset? AsOf, string Currency, string RequestedBy, DateTimeOffset RequestedAt,
    DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, FitJobProgress Progress, bool CancelRequested, Guid? ModelId, string? Model, FitJobProblem? Problem)
{
    public static ChurnFitJobView From(ChurnFitJob job, bool cancelRequested) =>
        new(job.Id, job.State, job.CalibrationEnd, job.AsOf, job.Currency, job.RequestedBy, job.RequestedAt, job.StartedAt, job.FinishedAt, job.Progress,
            cancelRequested, job.ModelId, job.ModelId is { } id ? $"/api/churn/models/{id}" : null, job.Problem);
}

/// <summary>
/// Fits as background jobs (RFC 7240's respond-async): the request answers 202 at once with a status resource, and a
/// durable local queue runs the same fit as the synchronous request (<see cref="ChurnFits"/>), one at a time per instance.
/// </summary>
public static class ChurnFitJobs
{
    public const string RespondAsyncPreference = "respond-async";

    public static string Location(Guid jobId) => $"/api/churn/fits/{jobId}";

    /// <summary>Whether the request's Prefer header asks for respond-async (among other preferences, any case).</summary>
    public static bool RespondAsync(HttpRequest request) =>
        request.Headers["Prefer"].SelectMany(value => (value ?? "").Split(',', ';'))
            .Any(preference => preference.Trim().Equals(RespondAsyncPreference, StringComparison.OrdinalIgnoreCase));

    /// <summary>Records the job and queues its run in one transaction: no job without its message, no message without its job.</summary>
    public static async Task<ChurnFitJob> StartAsync(IDocumentStore store, IMartenOutbox outbox, FitRequest fit, string requestedBy, TimeProvider clock,
        CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        var job = new ChurnFitJob(Guid.CreateVersion7(), FitJobStates.Queued, fit.CalibrationEnd, fit.AsOf, fit.Currency, requestedBy, now,
            StartedAt: null, FinishedAt: null, HeartbeatAt: now, FitJobProgress.None, ModelId: null, Problem: null);
        await using var session = store.LightweightSession();
        outbox.Enroll(session);
        session.Store(job);
        await outbox.PublishAsync(new RunChurnFitJob(job.Id));
        await session.SaveChangesAsync(cancellation);
        return job;
    }

    /// <summary>A job left loading or fitting by a service that stopped (no heartbeat since): it failed, and says why.</summary>
    public static ChurnFitJob? Interrupted(ChurnFitJob job, DateTimeOffset now, TimeSpan staleAfter) =>
        FitJobStates.Running(job.State) && now - job.HeartbeatAt > staleAfter
            ? job with
            {
                State = FitJobStates.Failed,
                FinishedAt = now,
                Progress = job.Progress with { Fitting = null },
                Problem = new FitJobProblem(StatusCodes.Status503ServiceUnavailable, "Fit interrupted",
                    $"The service running this fit stopped (its last sign of life was at {job.HeartbeatAt:O}); start the fit again."),
            }
            : null;

    public static IResult Unknown(string jobId) => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown fit job",
        detail: $"There is no churn fit job '{jobId}'.");

    private static async Task<(ChurnFitJob? Job, bool CancelRequested)> LoadAsync(IQuerySession session, string jobId, CancellationToken cancellation)
    {
        if (!Guid.TryParse(jobId, out var id) || await session.LoadAsync<ChurnFitJob>(id, cancellation) is not { } job)
        {
            return (null, false);
        }

        return (job, await session.LoadAsync<ChurnFitCancellation>(id, cancellation) is not null);
    }

    /// <summary>The job's state, progress, times, and its model or problem once it ended.</summary>
    [WolverineGet("/api/churn/fits/{jobId}")]
    [Authorize(Policy = Policies.ReadChurn)]
    public static async Task<IResult> Get(string jobId, IQuerySession session, CancellationToken cancellation) =>
        await LoadAsync(session, jobId, cancellation) is ({ } job, var cancelRequested)
            ? Results.Ok(ChurnFitJobView.From(job, cancelRequested))
            : Unknown(jobId);

    /// <summary>
    /// Asks the job to stop: 202, and the job ends as cancelled (the fit's cancellation stops the optimiser at its next
    /// likelihood evaluation); 409 when it has already ended.
    /// </summary>
    [WolverineDelete("/api/churn/fits/{jobId}")]
    [Authorize(Policy = Policies.FitChurnModels)]
    public static async Task<IResult> Cancel(string jobId, System.Security.Claims.ClaimsPrincipal analyst, IDocumentSession session, ChurnFitRuns runs,
        TimeProvider clock, CancellationToken cancellation)
    {
        if (await LoadAsync(session, jobId, cancellation) is not ({ } job, var cancelRequested))
        {
            return Unknown(jobId);
        }

        if (FitJobStates.Ended(job.State))
        {
            return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Fit job has ended",
                detail: $"This fit job has already {job.State}; there is nothing to cancel.", extensions: new Dictionary<string, object?> { ["state"] = job.State });
        }

        if (!cancelRequested)
        {
            session.Store(new ChurnFitCancellation(job.Id, clock.GetUtcNow(), AccessClaims.Actor(analyst)));
            await session.SaveChangesAsync(cancellation);
        }

        runs.Cancel(job.Id);
        return Results.Accepted(Location(job.Id), ChurnFitJobView.From(job, cancelRequested: true));
    }
}

/// <summary>
/// The fits running on this instance, so a cancellation received here stops one at once. A run also polls for its
/// cancellation document, which is how a cancellation received by another instance reaches it.
/// </summary>
public sealed class ChurnFitRuns
{
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _running = new();

    public IDisposable Register(Guid jobId, CancellationTokenSource stop)
    {
        _running[jobId] = stop;
        return new Unregistration(() => _running.TryRemove(jobId, out _));
    }

    public void Cancel(Guid jobId)
    {
        if (_running.TryGetValue(jobId, out var stop))
        {
            try
            {
                stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The run ended between the look-up and the cancel.
            }
        }
    }

    private sealed class Unregistration(Action remove) : IDisposable
    {
        public void Dispose() => remove();
    }
}
