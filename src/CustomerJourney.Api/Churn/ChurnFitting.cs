using CustomerJourney.Models;
using CustomerJourney.Models.Churn;
using CustomerJourney.Models.Spend;

namespace CustomerJourney.Churn;

/// <summary>What to fit: purchases that occurred by the calibration end, and, with asOf, only those recorded by then.</summary>
public sealed record FitRequest(DateTimeOffset CalibrationEnd, DateTimeOffset? AsOf, string Currency);

/// <summary>
/// Pure: from purchase histories to the calibration summaries (x, t_x, T, mean repeat value) and the three
/// fitted models. Model inputs are purchases only, as in the papers; returns are reported beside them.
/// </summary>
public static class ChurnFitting
{
    /// <summary>The purchases of one customer that a fit or a score may see.</summary>
    public static IEnumerable<(DateTimeOffset At, decimal Amount)> Visible(PurchaseHistory history, string currency, DateTimeOffset? asOf) =>
        history.Purchases
            .Where(p => p.Currency == currency && (asOf is null || p.RecordedAt <= asOf))
            .Select(p => (p.OccurredAt, p.Amount));

    /// <summary>
    /// The customers a fit covers, those whose first purchase is before the calibration end, each with every purchase it
    /// may see (also those after the calibration end, which an evaluation compares with the forecast). In customer id order:
    /// the sums of a fit depend on the order of their terms in the last digits, and the store returns rows in no set order,
    /// so the same purchases fitted twice gave parameters that differed there.
    /// </summary>
    public static IEnumerable<List<(DateTimeOffset At, decimal Amount)>> Cohort(IEnumerable<PurchaseHistory> histories, FitRequest request)
    {
        foreach (var history in histories.OrderBy(h => h.Id, StringComparer.Ordinal))
        {
            if (Covered(history, request) is { } purchases)
            {
                yield return purchases;
            }
        }
    }

    /// <summary>
    /// Whether a fit covers this person (a first purchase it may see before the calibration end), and if so every purchase
    /// it may see; null when it does not.
    /// </summary>
    public static List<(DateTimeOffset At, decimal Amount)>? Covered(PurchaseHistory history, FitRequest request)
    {
        var purchases = Visible(history, request.Currency, request.AsOf).ToList();
        return purchases.Count > 0 && purchases.Min(p => p.At) < request.CalibrationEnd ? purchases : null;
    }

    /// <summary>A person the fit covers, summarised as the models read them; null when the fit does not cover them.</summary>
    public static RfmSummary? Summary(PurchaseHistory history, FitRequest request, TimeZoneInfo zone) =>
        Covered(history, request) is { } purchases ? RfmSummary.FromPurchases(purchases, request.CalibrationEnd, zone) : null;

    /// <summary>The models a fit produces, by the names the answer gives them, in the order <see cref="Fit"/> fits them.</summary>
    public static IReadOnlyList<string> ModelNames { get; } = ["bgNbd", "paretoNbd", "gammaGamma"];

    /// <summary>
    /// The three fits, each within <paramref name="limits"/> (a cancelled one stops at its next likelihood evaluation and
    /// says so); <paramref name="fitted"/> hears of each as it ends, by the name the answer gives it.
    /// </summary>
    public static FittedModels Fit(IReadOnlyList<RfmSummary> customers, FitLimits limits, Action<string, FitReport>? fitted = null)
    {
        var groups = CustomerGroups.From(customers);
        var bg = BgNbd.Fit(groups, limits);
        fitted?.Invoke(ModelNames[0], bg.Report);
        var pareto = ParetoNbd.Fit(groups, limits);
        fitted?.Invoke(ModelNames[1], pareto.Report);
        // The spend model is fitted on repeat customers only (Fader, Hardie & Lee 2005, "RFM and CLV").
        var spend = GammaGamma.Fit(customers.Where(c => c.X > 0).Select(c => (c.X, (double)c.MeanRepeatValue)), limits);
        fitted?.Invoke(ModelNames[2], spend.Report);
        return new FittedModels(
            Parameters(new Dictionary<string, double> { ["r"] = bg.Model.R, ["alpha"] = bg.Model.Alpha, ["a"] = bg.Model.A, ["b"] = bg.Model.B }, bg.Report),
            Parameters(new Dictionary<string, double> { ["r"] = pareto.Model.R, ["alpha"] = pareto.Model.Alpha, ["s"] = pareto.Model.S, ["beta"] = pareto.Model.Beta }, pareto.Report),
            Parameters(new Dictionary<string, double> { ["p"] = spend.Model.P, ["q"] = spend.Model.Q, ["gamma"] = spend.Model.Gamma }, spend.Report));
    }

    private static FittedParameters Parameters(Dictionary<string, double> parameters, FitReport report) =>
        new(parameters, report.LogLikelihood, report.Converged, report.Reason, report.Diagnosis);

    public static BgNbdModel BgNbdOf(FittedModels models) =>
        new(models.BgNbd.Parameters["r"], models.BgNbd.Parameters["alpha"], models.BgNbd.Parameters["a"], models.BgNbd.Parameters["b"]);

    public static ParetoNbdModel ParetoNbdOf(FittedModels models) =>
        new(models.ParetoNbd.Parameters["r"], models.ParetoNbd.Parameters["alpha"], models.ParetoNbd.Parameters["s"], models.ParetoNbd.Parameters["beta"]);

    public static GammaGammaModel GammaGammaOf(FittedModels models) =>
        new(models.GammaGamma.Parameters["p"], models.GammaGamma.Parameters["q"], models.GammaGamma.Parameters["gamma"]);
}
