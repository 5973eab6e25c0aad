using System.Diagnostics;
using System.Security.Claims;
using System.Text.Json;
using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Wolverine;
using Wolverine.Http;
using Wolverine.Marten;

namespace CustomerJourney.Churn;

public sealed record ChurnModelView(
    Guid Id, DateTimeOffset CalibrationEnd, DateTimeOffset? AsOf, string Currency, int Customers, long ElapsedMs, FittedModels Models,
    DateTimeOffset FittedAt, string FittedBy)
{
    public static ChurnModelView From(ChurnModel m) =>
        new(m.ModelId, m.CalibrationEnd, m.AsOf, m.Currency, m.Customers, m.ElapsedMs, m.Models, m.FittedAt, m.FittedBy);
}

public static class FitChurnModelsEndpoint
{
    /// <summary>
    /// Fits BG/NBD, Pareto/NBD and Gamma-Gamma by maximum likelihood over every customer whose first purchase is before
    /// calibrationEnd: 201 with the model. With <c>Prefer: respond-async</c>, 202 with a fit job instead
    /// (<see cref="ChurnFitJobs"/>), which runs the same fit in the background.
    /// </summary>
    [WolverinePost("/api/churn/models")]
    [Authorize(Policy = Policies.FitChurnModels)]
    public static async Task<IResult> Post(HttpRequest request, ClaimsPrincipal analyst, IDocumentStore store, IMartenOutbox outbox, TimeProvider clock,
        IOptions<ChurnOptions> options, ChurnMetrics metrics, IMessageBus bus, CancellationToken cancellation)
    {
        var errors = new FieldErrors();
        FitRequest? fit = null;
        try
        {
            using var body = await FieldReader.ParseBodyAsync(request.Body, maxDepth: 4, cancellation);
            if (body.RootElement.ValueKind != JsonValueKind.Object)
            {
                errors.Add("$", "must be a JSON object.");
            }
            else
            {
                var fields = new FieldReader(body.RootElement, "", errors);
                var calibrationEnd = fields.Instant("calibrationEnd");
                var asOf = fields.Instant("asOf", required: false);
                var currency = fields.Currency("currency", required: false) ?? options.Value.DefaultCurrency;
                fields.RejectUndefined();
                fit = calibrationEnd is { } end && !errors.Any ? new FitRequest(end, asOf, currency) : null;
            }
        }
        catch (JsonException e)
        {
            errors.Add("$", $"is not valid JSON: {e.Message}");
        }

        if (fit is null)
        {
            return Results.ValidationProblem(errors.ToDictionary(), title: "Invalid fit request");
        }

        if (ChurnFitJobs.RespondAsync(request))
        {
            var job = await ChurnFitJobs.StartAsync(store, outbox, fit, AccessClaims.Actor(analyst), clock, cancellation);
            request.HttpContext.Response.Headers["Preference-Applied"] = ChurnFitJobs.RespondAsyncPreference;
            return Results.Accepted(ChurnFitJobs.Location(job.Id), ChurnFitJobView.From(job, cancelRequested: false));
        }

        await using var session = store.LightweightSession();
        // The request's cancellation (the caller gone, or the request timeout) stops the fit, and a fit nobody waits for is not stored.
        var (fitted, customers) = await ChurnFits.FitAsync(session, fit, AccessClaims.Actor(analyst), options.Value, metrics, clock, progress: null, cancellation);
        if (fitted is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: ChurnFits.TooFewTitle, detail: ChurnFits.TooFewDetail(fit, customers));
        }

        ChurnFits.Record(session, fitted);
        await session.SaveChangesAsync(cancellation);
        // A new model can raise or clear model flags on anyone.
        await bus.PublishAsync(new EvaluateAllChurnFlags());

        var view = new ChurnModelView(fitted.ModelId, fitted.CalibrationEnd, fitted.AsOf, fitted.Currency, fitted.Customers, fitted.ElapsedMs,
            fitted.Models, fitted.FittedAt, fitted.FittedBy);
        return Results.Created($"/api/churn/models/{fitted.ModelId}", view);
    }

    [WolverineGet("/api/churn/models")]
    [Authorize(Policy = Policies.ReadChurn)]
    public static async Task<IReadOnlyList<ChurnModelView>> List(IQuerySession session, CancellationToken cancellation) =>
        (await ChurnModels.LatestFirst(session).ToListAsync(cancellation)).Select(ChurnModelView.From).ToList();

    [WolverineGet("/api/churn/models/{id}")]
    [Authorize(Policy = Policies.ReadChurn)]
    public static async Task<IResult> Get(string id, IQuerySession session, CancellationToken cancellation) =>
        await ChurnModels.LoadAsync(session, id, cancellation) is { } model
            ? Results.Ok(ChurnModelView.From(model))
            : ChurnModels.Unknown(id);
}

/// <summary>Hears how a fit goes: the histories read, then each model as it starts and ends (what a fit job shows).</summary>
public interface IFitProgress
{
    void Read(int histories, int of);

    void Fitting(int customers, string model);

    /// <summary>A model's fit ended, for <paramref name="reason"/> (<see cref="Models.FitStop"/>).</summary>
    void Fitted(string model, string reason);
}

/// <summary>The one fit that both the request (201) and a fit job (202) run, and how its model is recorded.</summary>
public static class ChurnFits
{
    /// <summary>Fewer customers than this and the likelihood pins nothing down.</summary>
    public const int MinimumCustomers = 10;

    public const string TooFewTitle = "Too few customers to fit";

    public static string TooFewDetail(FitRequest fit, int customers) =>
        $"{customers} customer(s) made a first purchase in {fit.Currency} before {fit.CalibrationEnd:O}" +
        (fit.AsOf is null ? "" : $" as recorded by {fit.AsOf:O}") + $"; a fit needs at least {MinimumCustomers}.";

    /// <summary>
    /// Reads every person's purchases (the profile graph as of the fit's asOf: people, not customer ids), summarises the
    /// cohort and fits the three models within the configured limits; <paramref name="cancellation"/> stops it. Answers the
    /// fit to record, or none and the cohort's size when it is too small.
    /// </summary>
    public static async Task<(ChurnModelFitted? Fitted, int Customers)> FitAsync(IQuerySession session, FitRequest fit, string fittedBy, ChurnOptions settings,
        ChurnMetrics metrics, TimeProvider clock, IFitProgress? progress, CancellationToken cancellation)
    {
        var started = Stopwatch.GetTimestamp();
        var customers = await PeoplesPurchases.SummariesAsync(session, fit, settings.Zone(), progress is null ? null : progress.Read, cancellation);
        if (customers.Count < MinimumCustomers)
        {
            return (null, customers.Count);
        }

        progress?.Fitting(customers.Count, ChurnFitting.ModelNames[0]);
        // CPU-bound for up to seconds: keep it off the caller's synchronous path.
        var models = await Task.Run(() => ChurnFitting.Fit(customers, settings.LimitsOfAFit(cancellation), (model, report) =>
        {
            metrics.Fitted(model, report, fit.Currency);
            progress?.Fitted(model, report.Reason);
        }), cancellation);
        cancellation.ThrowIfCancellationRequested();
        return (new ChurnModelFitted(Guid.CreateVersion7(), fit.CalibrationEnd, fit.AsOf, fit.Currency, customers.Count,
            (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, models, clock.GetUtcNow(), fittedBy), customers.Count);
    }

    /// <summary>Starts the model's stream in the caller's session (saved with whatever else the caller commits).</summary>
    public static void Record(IDocumentSession session, ChurnModelFitted fitted)
    {
        session.LastModifiedBy = fitted.FittedBy;
        session.Events.StartStream(ChurnModel.StreamKey(fitted.ModelId), fitted);
    }
}

public static class ChurnModels
{
    /// <summary>The fitted models, the latest (by fitting time) first: "the latest model" is the first of them.</summary>
    public static IQueryable<ChurnModel> LatestFirst(IQuerySession session) => session.Query<ChurnModel>().OrderByDescending(m => m.FittedAt);

    /// <summary>The latest fitted model (by fitting time): what flags, candidates and campaigns use when none is named.</summary>
    public static Task<ChurnModel?> LatestAsync(IQuerySession session, CancellationToken cancellation) => LatestFirst(session).FirstOrDefaultAsync(cancellation);

    public static async Task<ChurnModel?> LoadAsync(IQuerySession session, string id, CancellationToken cancellation) =>
        Guid.TryParse(id, out var modelId) ? await session.LoadAsync<ChurnModel>(ChurnModel.StreamKey(modelId), cancellation) : null;

    /// <summary>Whether every model of the fit converged; one that did not gives scores nobody should act on unawares.</summary>
    public static bool Converged(ChurnModel model) => model.Models.BgNbd.Converged && model.Models.ParetoNbd.Converged && model.Models.GammaGamma.Converged;

    public static IResult Unknown(string id) => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown churn model",
        detail: $"There is no fitted churn model '{id}'.");
}
