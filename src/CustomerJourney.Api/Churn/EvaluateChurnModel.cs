using System.Text;
using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Models.Churn;
using CustomerJourney.Models.Evaluation;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Wolverine.Http;

namespace CustomerJourney.Churn;

/// <summary>A fitted model against what its customers did after the calibration end (see <see cref="ModelEvaluation"/>).</summary>
public sealed record ChurnModelEvaluation(
    Guid ModelId,
    string Currency,
    DateTimeOffset? AsOf,
    DateTimeOffset CalibrationEnd,
    DateTimeOffset HoldoutEnd,
    string TimeZone,
    int Customers,
    double HoldoutWeeks,
    HoldoutTotals Holdout,
    ModelPair<double?> Correlation,
    FrequencyFit CalibrationFrequencies,
    IReadOnlyList<ConditionalBin> HoldoutByFrequency,
    Tracking Tracking);

public static class EvaluateChurnModelEndpoint
{
    private const string Json = "json";
    private const string Svg = "svg";

    /// <summary>
    /// Compares a fit's forecasts with the purchases its customers made after the calibration end, up to ?holdoutEnd=
    /// (inclusive; default: their latest purchase). The customers and the purchases seen are the fit's: first purchase
    /// before the calibration end, in its currency, recorded by its asOf. ?format=svg answers the tracking plot.
    /// </summary>
    [WolverineGet("/api/churn/models/{id}/evaluation")]
    [Authorize(Policy = Policies.ReadChurn)]
    public static async Task<IResult> Get(string id, HttpRequest request, IQuerySession session, IOptions<ChurnOptions> options,
        CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var holdoutEnd = query.Instant("holdoutEnd");
        var format = request.Query["format"] is { Count: > 0 } formats ? formats.ToString() : Json;
        if (format is not (Json or Svg))
        {
            query.Errors.Add("format", "must be json or svg.");
        }

        if (query.Errors.Any)
        {
            return Results.ValidationProblem(query.Errors.ToDictionary(), title: "Invalid request");
        }

        if (await ChurnModels.LoadAsync(session, id, cancellation) is not { } model)
        {
            return ChurnModels.Unknown(id);
        }

        var zone = options.Value.Zone();
        var calibrationEnd = RfmSummary.DayIn(model.CalibrationEnd, zone);

        // Days are what the models count; a later hour of the calibration end's own day would leave a holdout of 0 weeks.
        if (holdoutEnd is { } requested && RfmSummary.DayIn(requested, zone) <= calibrationEnd)
        {
            query.Errors.Add("holdoutEnd", $"must fall on a later day ({zone.Id}) than the model's calibration end {model.CalibrationEnd:O}.");
            return Results.ValidationProblem(query.Errors.ToDictionary(), title: "Invalid request");
        }

        var histories = await PeoplesPurchases.LoadAsync(session, model.AsOf, cancellation);
        var cohort = ChurnFitting.Cohort(histories, new FitRequest(model.CalibrationEnd, model.AsOf, model.Currency)).ToList();
        var end = holdoutEnd ?? (cohort.Count == 0 ? model.CalibrationEnd : cohort.Max(purchases => purchases.Max(p => p.At)));
        if (cohort.Count == 0 || RfmSummary.DayIn(end, zone) <= calibrationEnd)
        {
            return Results.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Nothing to evaluate yet",
                detail: $"The customers of model {model.ModelId} made no {model.Currency} purchase after its calibration end {model.CalibrationEnd:O}.");
        }

        // A purchase later on the calibration end's day is in neither period, as in RfmSummary (T ends on that day).
        var customers = cohort.Select(purchases => new EvaluatedCustomer(
                RfmSummary.FromPurchases(purchases, model.CalibrationEnd, zone),
                [.. purchases.Where(p => p.At <= end).Select(p => RfmSummary.DayIn(p.At, zone))]))
            .ToList();

        // CPU-bound (tenths of a second for thousands of customers): keep it off the request thread's synchronous path.
        var evaluation = await Task.Run(
            () => ModelEvaluation.Evaluate(customers, ChurnFitting.BgNbdOf(model.Models), ChurnFitting.ParetoNbdOf(model.Models),
                calibrationEnd, RfmSummary.DayIn(end, zone)),
            cancellation);

        if (format == Svg)
        {
            var title = $"Repeat transactions ({model.Currency}), model calibrated to {calibrationEnd:yyyy-MM-dd}";
            return Results.Text(TrackingPlot.Svg(evaluation.Tracking, title), "image/svg+xml", Encoding.UTF8);
        }

        return Results.Ok(new ChurnModelEvaluation(
            model.ModelId, model.Currency, model.AsOf, model.CalibrationEnd, end, zone.Id, evaluation.Customers, evaluation.HoldoutWeeks,
            evaluation.Holdout, evaluation.Correlation, evaluation.CalibrationFrequencies, evaluation.HoldoutByFrequency, evaluation.Tracking));
    }
}
