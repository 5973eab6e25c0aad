using CustomerJourney.Complaints;
using CustomerJourney.Models.Churn;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Churn;

/// <summary>Why a customer is flagged. Each reason is a rule a marketer can read.</summary>
public static class FlagReasons
{
    public const string ModelSaysGone = "model-p-alive";
    public const string UnresolvedComplaint = "unresolved-complaint";
    public const string UnhappyAnswer = "unhappy-answer";
    public const string ConsentWithdrawn = "consent-withdrawn";
    public const string LargeReturn = "large-return";
    public const string OverduePurchase = "overdue-purchase";

    public static readonly IReadOnlyList<string> All = [ModelSaysGone, UnresolvedComplaint, UnhappyAnswer, ConsentWithdrawn, LargeReturn, OverduePurchase];
}

/// <summary>A flag as evaluated: the reason, the figure behind it, a sentence, and the events that caused it.</summary>
public sealed record ChurnFlag(string Reason, double Figure, string Detail, IReadOnlyList<Guid> EventIds);

/// <summary>A customer was flagged as slipping away, and why. Kept on the customer's stream, so flags replay as of any date.</summary>
public sealed record ChurnFlagRaised(string CustomerId, string Reason, double Figure, string Detail, IReadOnlyList<Guid> EventIds,
    double ValueAtRisk, Guid? ModelId, DateTimeOffset RaisedAt);

/// <summary>The reason no longer holds.</summary>
public sealed record ChurnFlagCleared(string CustomerId, string Reason, DateTimeOffset ClearedAt);

/// <summary>Thresholds of the flag rules (configuration section "Churn:Flags").</summary>
public sealed class FlagSettings
{
    /// <summary>Below this P(alive) the model flags the customer.</summary>
    public double PAliveThreshold { get; set; } = 0.5;

    /// <summary>A complaint unanswered (no remedy, no follow-up call) for longer than this is unresolved past its promise.</summary>
    public TimeSpan ComplaintPromise { get; set; } = TimeSpan.FromDays(5);

    public TimeSpan CriticalComplaintPromise { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Share of the last order returned that counts as "most of it".</summary>
    public double LargeReturnShare { get; set; } = 0.5;

    /// <summary>No purchase for longer than this many times the customer's own median gap between purchase days.</summary>
    public double OverdueGapMultiple { get; set; } = 3;

    /// <summary>Horizon of the value at risk that ranks flagged customers.</summary>
    public double ValueHorizonWeeks { get; set; } = 52;

    public TimeSpan DailyEvaluationPeriod { get; set; } = TimeSpan.FromDays(1);
}

/// <summary>
/// Pure: the flag rules over a customer's touchpoints (with their event ids), the latest model and the time, and the
/// decision that turns a new evaluation into raised and cleared events.
/// </summary>
public static class ChurnFlagRules
{
    public static IReadOnlyList<ChurnFlag> Evaluate(IReadOnlyList<(Guid Id, Touchpoint Touchpoint)> history, ChurnModel? model,
        DateTimeOffset now, FlagSettings settings, TimeZoneInfo zone)
    {
        var flags = new List<ChurnFlag>();
        var ordered = history.Where(h => h.Touchpoint.OccurredAt <= now).OrderBy(h => h.Touchpoint.OccurredAt).ToList();
        var purchases = ordered.Where(h => h.Touchpoint is PurchaseMade).Select(h => (h.Id, Purchase: (PurchaseMade)h.Touchpoint)).ToList();

        if (model is not null && ModelFlag(purchases, model, now, settings, zone) is { } modelFlag)
        {
            flags.Add(modelFlag);
        }

        foreach (var (id, complaint) in ordered.Where(h => h.Touchpoint is ComplaintLogged).Select(h => (h.Id, (ComplaintLogged)h.Touchpoint)))
        {
            var promise = complaint.Severity == ComplaintSeverity.Critical ? settings.CriticalComplaintPromise : settings.ComplaintPromise;
            var answered = ordered.Any(h => h.Touchpoint switch
            {
                RemedyOffered r => r.ComplaintId == complaint.ComplaintId,
                FollowUpCallCompleted f => f.ComplaintId == complaint.ComplaintId,
                _ => false,
            });
            var overdue = now - complaint.OccurredAt - promise;
            if (!answered && overdue > TimeSpan.Zero)
            {
                flags.Add(new ChurnFlag(FlagReasons.UnresolvedComplaint, Math.Round(overdue.TotalHours, 1),
                    $"Complaint {complaint.ComplaintId} has had no remedy or follow-up call for {overdue.TotalHours:F0} h past its promise.", [id]));
                break;
            }
        }

        var lastAnswer = ordered.LastOrDefault(h => h.Touchpoint is SurveyAnswered);
        if (lastAnswer.Touchpoint is SurveyAnswered survey && (survey.Nps is <= 6 || survey.Csat is <= 2) &&
            !ordered.Any(h => h.Touchpoint is FollowUpCallCompleted && h.Touchpoint.OccurredAt >= survey.OccurredAt))
        {
            var figure = survey.Nps is <= 6 ? survey.Nps!.Value : survey.Csat!.Value;
            flags.Add(new ChurnFlag(FlagReasons.UnhappyAnswer, figure,
                (survey.Nps is <= 6 ? $"Detractor NPS {survey.Nps}" : $"CSAT {survey.Csat}") + " and no follow-up call since.", [lastAnswer.Id]));
        }

        var lastConsent = ordered.LastOrDefault(h => h.Touchpoint is ConsentGiven { Purpose: var p } && p.StartsWith("marketing", StringComparison.Ordinal)
                                                     || h.Touchpoint is ConsentWithdrawn { Purpose: var q } && q.StartsWith("marketing", StringComparison.Ordinal));
        if (lastConsent.Touchpoint is ConsentWithdrawn withdrawn)
        {
            flags.Add(new ChurnFlag(FlagReasons.ConsentWithdrawn, 0, $"Consent for {withdrawn.Purpose} withdrawn.", [lastConsent.Id]));
        }

        if (purchases.Count > 0)
        {
            var (lastId, last) = purchases[^1];
            var returns = ordered.Where(h => h.Touchpoint is PurchaseReturned r && r.OrderId == last.OrderId).ToList();
            var returned = returns.Sum(h => ((PurchaseReturned)h.Touchpoint).Amount);
            if (last.Amount > 0 && returned >= (decimal)settings.LargeReturnShare * last.Amount)
            {
                flags.Add(new ChurnFlag(FlagReasons.LargeReturn, (double)(returned / last.Amount),
                    $"{returned / last.Amount:P0} of the last order {last.OrderId} was returned.", [lastId, .. returns.Select(r => r.Id)]));
            }

            var days = purchases.Select(p => RfmSummary.DayIn(p.Purchase.OccurredAt, zone)).Distinct().Order().ToList();
            if (days.Count >= 2)
            {
                var gaps = days.Zip(days.Skip(1), (a, b) => (double)(b.DayNumber - a.DayNumber)).Order().ToList();
                var typical = gaps[gaps.Count / 2];
                var since = RfmSummary.DayIn(now, zone).DayNumber - days[^1].DayNumber;
                if (since > settings.OverdueGapMultiple * typical)
                {
                    flags.Add(new ChurnFlag(FlagReasons.OverduePurchase, Math.Round(since / typical, 2),
                        $"No purchase for {since} days, {since / typical:F1} times the customer's typical gap of {typical:F0} days.", [lastId]));
                }
            }
        }

        return flags;
    }

    private static ChurnFlag? ModelFlag(List<(Guid Id, PurchaseMade Purchase)> purchases, ChurnModel model, DateTimeOffset now, FlagSettings settings, TimeZoneInfo zone)
    {
        var inCurrency = purchases.Where(p => p.Purchase.Currency == model.Currency).ToList();
        if (inCurrency.Count == 0)
        {
            return null;
        }

        var summary = RfmSummary.FromPurchases(inCurrency.Select(p => (p.Purchase.OccurredAt, p.Purchase.Amount)), now, zone);
        var alive = ProbabilityAlive(summary, model);
        return alive < settings.PAliveThreshold
            ? new ChurnFlag(FlagReasons.ModelSaysGone, Math.Round(alive, 4),
                $"P(alive) {alive:F2} under the {(summary.X == 0 ? "Pareto/NBD" : "BG/NBD")} model {model.ModelId}.", [inCurrency[^1].Id])
            : null;
    }

    /// <summary>BG/NBD gives 1 by construction to a customer with no repeat purchase: the Pareto/NBD judges those.</summary>
    public static double ProbabilityAlive(RfmSummary summary, ChurnModel model)
    {
        IRepeatPurchaseModel judge = summary.X == 0 ? ChurnFitting.ParetoNbdOf(model.Models) : ChurnFitting.BgNbdOf(model.Models);
        return judge.ProbabilityAlive(summary.X, summary.Tx, summary.T);
    }

    /// <summary>The flags a customer currently carries, from their flag events in order.</summary>
    public static IReadOnlySet<string> Current(IEnumerable<object> events)
    {
        var current = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            switch (e)
            {
                case ChurnFlagRaised raised:
                    current.Add(raised.Reason);
                    break;
                case ChurnFlagCleared cleared:
                    current.Remove(cleared.Reason);
                    break;
            }
        }

        return current;
    }

    /// <summary>Raise what is new, clear what no longer holds; an unchanged evaluation decides nothing.</summary>
    public static IReadOnlyList<object> Decide(string customerId, IReadOnlySet<string> current, IReadOnlyList<ChurnFlag> evaluated,
        double valueAtRisk, Guid? modelId, DateTimeOffset now)
    {
        var events = new List<object>();
        foreach (var flag in evaluated.Where(f => !current.Contains(f.Reason)))
        {
            events.Add(new ChurnFlagRaised(customerId, flag.Reason, flag.Figure, flag.Detail, flag.EventIds, valueAtRisk, modelId, now));
        }

        foreach (var reason in current.Where(r => evaluated.All(f => f.Reason != r)).Order(StringComparer.Ordinal))
        {
            events.Add(new ChurnFlagCleared(customerId, reason, now));
        }

        return events;
    }
}
