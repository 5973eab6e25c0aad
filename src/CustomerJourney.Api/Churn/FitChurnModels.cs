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
    /// <summary>Fits BG/NBD, Pareto/NBD and Gamma-Gamma by maximum likelihood over every customer whose first purchase is before calibrationEnd.</summary>
    [WolverinePost("/api/churn/models")]
    [Authorize(Policy = Policies.FitChurnModels)]
    public static async Task<IResult> Post(HttpRequest request, ClaimsPrincipal analyst, IDocumentStore store, TimeProvider clock,
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

        var started = Stopwatch.GetTimestamp();
        await using var session = store.LightweightSession();
        // People, not customer ids: the profile graph as of the fit's asOf.
        var histories = await PeoplesPurchases.LoadAsync(session, fit.AsOf, cancellation);
        var customers = ChurnFitting.Summaries(histories, fit, options.Value.Zone());
        if (customers.Count < 10)
        {
            return Results.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Too few customers to fit",
                detail: $"{customers.Count} customer(s) made a first purchase in {fit.Currency} before {fit.CalibrationEnd:O}" +
                        (fit.AsOf is null ? "" : $" as recorded by {fit.AsOf:O}") + "; a fit needs at least 10.");
        }

        // CPU-bound for up to seconds: keep it off the request thread's synchronous path. The request's cancellation
        // (the caller gone, or the request timeout) stops the fit, and a fit nobody waits for is not stored.
        var models = await Task.Run(() => ChurnFitting.Fit(customers, options.Value.LimitsOfAFit(cancellation),
            (model, report) => metrics.Fitted(model, report, fit.Currency)), cancellation);
        cancellation.ThrowIfCancellationRequested();
        var fitted = new ChurnModelFitted(Guid.CreateVersion7(), fit.CalibrationEnd, fit.AsOf, fit.Currency, customers.Count,
            (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, models, clock.GetUtcNow(), AccessClaims.Actor(analyst));
        session.LastModifiedBy = fitted.FittedBy;
        session.Events.StartStream(ChurnModel.StreamKey(fitted.ModelId), fitted);
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
        (await session.Query<ChurnModel>().OrderByDescending(m => m.FittedAt).ToListAsync(cancellation)).Select(ChurnModelView.From).ToList();

    [WolverineGet("/api/churn/models/{id}")]
    [Authorize(Policy = Policies.ReadChurn)]
    public static async Task<IResult> Get(string id, IQuerySession session, CancellationToken cancellation) =>
        await ChurnModels.LoadAsync(session, id, cancellation) is { } model
            ? Results.Ok(ChurnModelView.From(model))
            : ChurnModels.Unknown(id);
}

public static class ChurnModels
{
    /// <summary>The latest fitted model (by fitting time): what flags, candidates and campaigns use when none is named.</summary>
    public static Task<ChurnModel?> LatestAsync(IQuerySession session, CancellationToken cancellation) =>
        session.Query<ChurnModel>().OrderByDescending(m => m.FittedAt).FirstOrDefaultAsync(cancellation);

    public static async Task<ChurnModel?> LoadAsync(IQuerySession session, string id, CancellationToken cancellation) =>
        Guid.TryParse(id, out var modelId) ? await session.LoadAsync<ChurnModel>(ChurnModel.StreamKey(modelId), cancellation) : null;

    /// <summary>Whether every model of the fit converged; one that did not gives scores nobody should act on unawares.</summary>
    public static bool Converged(ChurnModel model) => model.Models.BgNbd.Converged && model.Models.ParetoNbd.Converged && model.Models.GammaGamma.Converged;

    public static IResult Unknown(string id) => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown churn model",
        detail: $"There is no fitted churn model '{id}'.");
}
