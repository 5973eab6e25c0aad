using CustomerJourney.Complaints;
using CustomerJourney.Journeys;
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

    /// <summary>Every reason, in the order a customer's flags are listed.</summary>
    public static readonly IReadOnlyList<string> All = [ModelSaysGone, UnresolvedComplaint, UnhappyAnswer, ConsentWithdrawn, LargeReturn, OverduePurchase];

    /// <summary>Where a reason stands in <see cref="All"/> (an unknown one last).</summary>
    public static int Rank(string reason) => All.ToList().IndexOf(reason) is var rank and >= 0 ? rank : All.Count;
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
    /// <param name="sla">The complaint promises in force: whether a complaint is overdue is Complaints' to say, not a setting of Churn's.</param>
    /// <param name="recordedBreaches">The customer's recorded <see cref="ComplaintSlaBreached"/> events, cited as evidence; the rule does not depend on them.</param>
    public static IReadOnlyList<ChurnFlag> Evaluate(IReadOnlyList<(Guid Id, Touchpoint Touchpoint)> history, ChurnModel? model,
        DateTimeOffset now, FlagSettings settings, TimeZoneInfo zone, SlaPolicies sla, IReadOnlyList<(Guid Id, ComplaintSlaBreached Breach)>? recordedBreaches = null)
    {
        var flags = new List<ChurnFlag>();
        var ordered = history.Where(h => h.Touchpoint.OccurredAt <= now).OrderBy(h => h.Touchpoint.OccurredAt).ToList();
        var purchases = ordered.Where(h => h.Touchpoint is PurchaseMade).Select(h => (h.Id, Purchase: (PurchaseMade)h.Touchpoint)).ToList();

        if (model is not null && ModelFlag(purchases, model, now, settings, zone) is { } modelFlag)
        {
            flags.Add(modelFlag);
        }

        if (UnresolvedComplaint(history, recordedBreaches ?? [], now, sla) is { } complaintFlag)
        {
            flags.Add(complaintFlag);
        }

        var lastAnswer = ordered.LastOrDefault(h => h.Touchpoint is SurveyAnswered);
        if (lastAnswer.Touchpoint is SurveyAnswered survey && IsUnhappy(survey) &&
            !ordered.Any(h => h.Touchpoint is FollowUpCallCompleted && h.Touchpoint.OccurredAt >= survey.OccurredAt))
        {
            var detractor = IsDetractor(survey);
            var figure = detractor ? survey.Nps!.Value : survey.Csat!.Value;
            flags.Add(new ChurnFlag(FlagReasons.UnhappyAnswer, figure,
                (detractor ? $"Detractor NPS {survey.Nps}" : $"CSAT {survey.Csat}") + " and no follow-up call since.", [lastAnswer.Id]));
        }

        // Each marketing purpose by the one consent rule, so a grant for another purpose does not undo a withdrawal.
        var withdrawn = ordered.Select(h => Consent.PurposeOf(h.Touchpoint)).OfType<string>().Where(Consent.IsMarketing).Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal).Select(p => (Purpose: p, Standing: Consent.StandingAt(ordered, p, now)))
            .Where(s => s.Standing is { Status.Given: false }).ToList();
        if (withdrawn.Count > 0)
        {
            flags.Add(new ChurnFlag(FlagReasons.ConsentWithdrawn, 0, $"Consent for {string.Join(", ", withdrawn.Select(w => w.Purpose))} withdrawn.",
                [.. withdrawn.Select(w => w.Standing!.Value.Id)]));
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

    /// <summary>
    /// Whether <see cref="Evaluate"/> reads this touchpoint: purchases and returns, survey answers, follow-up calls, complaint
    /// steps and consent statements. Any other (a page view, loyalty points, a support contact, new contact details) changes
    /// no flag, so recording it asks for no evaluation; time alone moves the model's and the overdue flag and a complaint's
    /// promises, and the daily sweep evaluates those.
    /// </summary>
    public static bool ReadsInput(Touchpoint touchpoint) => ReadsKind(touchpoint.GetType());

    /// <summary>
    /// The same by kind, so that the evaluation's read of a customer's stream can leave the other kinds in the database
    /// (a stream of thousands of page views is read for its purchases, answers and statements only).
    /// </summary>
    public static bool ReadsKind(Type kind) =>
        kind == typeof(PurchaseMade) || kind == typeof(PurchaseReturned) || kind == typeof(SurveyAnswered) || kind == typeof(FollowUpCallCompleted) ||
        typeof(IComplaintStep).IsAssignableFrom(kind) || Consent.IsStatement(kind);

    /// <summary>An answer the unhappy-answer rule flags: a detractor's NPS or a CSAT of 2 or less.</summary>
    public static bool IsUnhappy(SurveyAnswered answer) => IsDetractor(answer) || answer.Csat is <= 2;

    private static bool IsDetractor(SurveyAnswered answer) => answer.Nps is { } nps && NetPromoter.IsDetractor(nps);

    /// <summary>
    /// The flag an input can at most clear, for the inputs that can raise none; null for an input that may raise one (or
    /// for a touchpoint the rules do not read). A grant of consent: a withdrawal stands until a later grant, and a grant
    /// never makes one. An answer that is not unhappy: it becomes the last answer, which then is not unhappy, or changes
    /// nothing. A follow-up call outside a complaint case: it can only be the call since an unhappy answer (one inside a
    /// case is a step of the case, which the complaint rule reads). A person who does not carry that flag needs no
    /// evaluation for such a touchpoint (<see cref="EvaluateChurnFlagsHandler"/>): consent grants are the commonest input.
    /// </summary>
    public static string? CanOnlyClear(Touchpoint touchpoint) => touchpoint switch
    {
        ConsentGiven => FlagReasons.ConsentWithdrawn,
        SurveyAnswered answer when !IsUnhappy(answer) => FlagReasons.UnhappyAnswer,
        FollowUpCallCompleted call when ComplaintCase.CaseOf(call) is null => FlagReasons.UnhappyAnswer,
        _ => null,
    };

    /// <summary>
    /// Whether the touchpoint is an input that may raise a flag: all a customer who carries no flag yet (one an import
    /// starts) needs evaluating for.
    /// </summary>
    public static bool MayRaise(Touchpoint touchpoint) => ReadsInput(touchpoint) && CanOnlyClear(touchpoint) is null;

    /// <summary>
    /// The oldest complaint that is open and has broken a promise at <paramref name="now"/>, both in Complaints' own meaning
    /// (<see cref="ComplaintCase.IsOpenAt"/>, <see cref="SlaClocks.BreachedAt"/>): resolving or closing the case clears it.
    /// Evidence: the logged complaint and the breaches recorded for the broken promises.
    /// </summary>
    private static ChurnFlag? UnresolvedComplaint(IReadOnlyList<(Guid Id, Touchpoint Touchpoint)> history,
        IReadOnlyList<(Guid Id, ComplaintSlaBreached Breach)> recordedBreaches, DateTimeOffset now, SlaPolicies sla)
    {
        // Each case folded from its steps in record order, as its own stream folds; then judged at now by business time.
        var cases = new Dictionary<string, (Guid LoggedId, ComplaintCase? Case)>(StringComparer.Ordinal);
        foreach (var (id, touchpoint) in history)
        {
            if (ComplaintCase.CaseOf(touchpoint) is { } complaintId)
            {
                var (loggedId, before) = cases.GetValueOrDefault(complaintId);
                cases[complaintId] = (before is null ? id : loggedId, ComplaintCase.Fold(before, touchpoint));
            }
        }

        foreach (var (loggedId, c) in cases.Values.Where(v => v.Case is not null).Select(v => (v.LoggedId, Case: v.Case!)).OrderBy(v => v.Case.LoggedAt))
        {
            var broken = c.IsOpenAt(now) ? SlaClocks.BreachedAt(c, sla.For(c.Severity), now) : [];
            if (broken.Count == 0)
            {
                continue;
            }

            var worst = broken.MaxBy(k => k.OverdueBy)!;
            var hours = worst.OverdueBy!.Value.TotalHours;
            var evidence = recordedBreaches.Where(b => b.Breach.ComplaintId == c.ComplaintId && broken.Any(k => k.Promise == b.Breach.Promise && k.Cycle == b.Breach.Cycle))
                .Select(b => b.Id);
            return new ChurnFlag(FlagReasons.UnresolvedComplaint, Math.Round(hours, 1),
                $"Complaint {c.ComplaintId} is open and missed its {PromiseName(worst.Promise)} promise by {hours:F0} h.", [loggedId, .. evidence]);
        }

        return null;
    }

    private static string PromiseName(SlaPromise promise) => promise == SlaPromise.FollowUp ? "follow-up" : promise.ToString().ToLowerInvariant();

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
