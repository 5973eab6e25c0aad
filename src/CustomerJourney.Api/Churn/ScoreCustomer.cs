using CustomerJourney.Access;
using CustomerJourney.Identity;
using CustomerJourney.Infrastructure;
using CustomerJourney.Models.Churn;
using CustomerJourney.Models.Value;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Wolverine.Http;

namespace CustomerJourney.Churn;

public sealed record TransactionScore(double PAlive, double ExpectedTransactions, double ExpectedValue, double DiscountedExpectedValue);

public sealed record CalibrationFigures(int X, double Tx, double T, decimal MeanRepeatValue, DateOnly FirstPurchase);

public sealed record ReturnsBeside(int Count, decimal Amount, decimal NetPurchaseValue);

/// <summary>A score of the person the customer is: <see cref="ProfileId"/>'s <see cref="Members"/> (by <see cref="AsOf"/>) counted as one customer.</summary>
public sealed record ChurnScore(
    string CustomerId,
    string ProfileId,
    IReadOnlyList<string> Members,
    Guid ModelId,
    DateTimeOffset At,
    DateTimeOffset? AsOf,
    double HorizonWeeks,
    string Currency,
    CalibrationFigures Summary,
    TransactionScore BgNbd,
    TransactionScore ParetoNbd,
    double ExpectedAverageSpend,
    double AnnualDiscountRate,
    ReturnsBeside Returns);

public static class ScoreCustomerEndpoint
{
    public const double DefaultHorizonWeeks = 39;

    /// <summary>
    /// P(alive), expected transactions, spend and value over the horizon under a fitted model. ?at= is the business
    /// date the score is for (default: the model's calibration end); ?asOf= is record time: the customer as known then.
    /// </summary>
    [WolverineGet("/api/customers/{customerId}/churn")]
    [Authorize(Policy = Policies.ReadChurn)]
    public static async Task<IResult> Get(string customerId, HttpRequest request, IDocumentSession session, IOptions<ChurnOptions> options,
        CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var asOf = query.Instant("asOf");
        var at = query.Instant("at");
        var horizon = query.Integer("horizonWeeks", (int)DefaultHorizonWeeks, 1, 520);
        var modelId = request.Query["model"].ToString();
        if (!TouchpointCatalogue.IdPattern().IsMatch(customerId))
        {
            query.Errors.Add("customerId", TouchpointCatalogue.IdHint);
        }

        if (!Guid.TryParse(modelId, out _))
        {
            query.Errors.Add("model", "must be the id of a fitted churn model (GET /api/churn/models).");
        }

        if (query.Errors.Any)
        {
            return Results.ValidationProblem(query.Errors.ToDictionary(), title: "Invalid request");
        }

        if (await ChurnModels.LoadAsync(session, modelId, cancellation) is not { } model)
        {
            return ChurnModels.Unknown(modelId);
        }

        // The person, as the fit counted them: the customer's profile (as of asOf) with every member's purchases.
        var profile = await ProfileStreams.FindMembersAsync(session, customerId, asOf, cancellation);
        var profileId = profile?.Id ?? ProfileIds.HomeOf(customerId);
        IReadOnlyList<string> members = profile is null ? [customerId] : [.. profile.Members.Select(m => m.CustomerId)];
        var history = await PeoplesPurchases.OfPersonAsync(session, profileId, members, asOf, cancellation);
        var scoreAt = at ?? model.CalibrationEnd;
        var purchases = history is null ? [] : ChurnFitting.Visible(history, model.Currency, asOf).Where(p => p.At <= scoreAt).ToList();
        if (purchases.Count == 0)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No purchases to score",
                detail: $"Customer '{customerId}' has no purchase in {model.Currency} by {scoreAt:O}" + (asOf is null ? "." : $" as recorded by {asOf:O}."));
        }

        var settings = options.Value;
        var summary = RfmSummary.FromPurchases(purchases, scoreAt, settings.Zone());
        var spend = ChurnFitting.GammaGammaOf(model.Models);
        var weeklyRate = CustomerValue.WeeklyRate(settings.AnnualDiscountRate);
        TransactionScore Score(IRepeatPurchaseModel m) => new(
            m.ProbabilityAlive(summary.X, summary.Tx, summary.T),
            m.ConditionalExpectedTransactions(summary.X, summary.Tx, summary.T, horizon),
            CustomerValue.Expected(m, spend, summary, horizon),
            CustomerValue.Discounted(m, spend, summary, horizon, weeklyRate));

        var returns = history!.Returns.Where(r => r.Currency == model.Currency && r.OccurredAt <= scoreAt && (asOf is null || r.RecordedAt <= asOf)).ToList();
        return Results.Ok(new ChurnScore(
            customerId, profileId, members, model.ModelId, scoreAt, asOf, horizon, model.Currency,
            new CalibrationFigures(summary.X, summary.Tx, summary.T, summary.MeanRepeatValue, summary.FirstPurchase),
            Score(ChurnFitting.BgNbdOf(model.Models)),
            Score(ChurnFitting.ParetoNbdOf(model.Models)),
            spend.ConditionalExpectedSpend(summary.X, (double)summary.MeanRepeatValue),
            settings.AnnualDiscountRate,
            new ReturnsBeside(returns.Count, returns.Sum(r => r.Amount), purchases.Sum(p => p.Amount) - returns.Sum(r => r.Amount))));
    }
}
