using CsCheck;
using CustomerJourney.Models.Churn;
using CustomerJourney.Models.Spend;

namespace CustomerJourney.Specs.Models;

/// <summary>Properties that hold for any parameters and histories, checked on generated ones.</summary>
public sealed class ModelProperties
{
    // Parameters spread log-uniformly over e^−2 … e^2 (shapes) and e^−1 … e^4 (scales, in weeks).
    private static readonly Gen<double> Shape = Gen.Double[-2, 2].Select(Math.Exp);
    private static readonly Gen<double> Scale = Gen.Double[-1, 4].Select(Math.Exp);

    private static readonly Gen<BgNbdModel> BgNbdModels = Gen.Select(Shape, Scale, Shape, Shape, (r, alpha, a, b) => new BgNbdModel(r, alpha, a, b));

    // E[X(t)] for x = 0 needs a + b > 1 (see BgNbdModel.ExpectedTransactions), so b starts at 1 for expectations.
    private static readonly Gen<BgNbdModel> BgNbdModelsWithExpectations =
        Gen.Select(Shape, Scale, Shape, Shape, (r, alpha, a, b) => new BgNbdModel(r, alpha, a, 1 + b));

    private static readonly Gen<ParetoNbdModel> ParetoNbdModels =
        Gen.Select(Shape, Scale, Shape, Scale, (r, alpha, s, beta) => new ParetoNbdModel(r, alpha, s, beta));

    /// <summary>x ≥ 1, T in (0.5, 80], and two recencies t₁ ≤ t₂ within [0, T].</summary>
    private static readonly Gen<(int X, double Early, double Late, double T)> RepeatHistories =
        Gen.Select(Gen.Int[1, 60], Gen.Double[0, 1], Gen.Double[0, 1], Gen.Double[0.5, 80], (x, u, v, t) =>
            (x, Math.Min(u, v) * t, Math.Max(u, v) * t, t));

    /// <summary>Any history, x = 0 included (then t_x = 0), and two horizons h₁ ≤ h₂.</summary>
    private static readonly Gen<(int X, double Tx, double T, double Short, double Long)> Histories =
        Gen.Select(Gen.Int[0, 60], Gen.Double[0, 1], Gen.Double[0.5, 80], Gen.Double[0, 100], Gen.Double[0, 100], (x, u, t, h, k) =>
            (x, x == 0 ? 0 : u * t, t, Math.Min(h, k), Math.Max(h, k)));

    [Fact]
    public void P_alive_is_a_probability_for_both_models() =>
        Gen.Select(BgNbdModels, ParetoNbdModels, Histories).Sample((bg, pareto, history) =>
        {
            Assert.InRange(bg.ProbabilityAlive(history.X, history.Tx, history.T), 0.0, 1.0);
            Assert.InRange(pareto.ProbabilityAlive(history.X, history.Tx, history.T), 0.0, 1.0);
        }, iter: 2000);

    [Fact]
    public void A_more_recent_last_purchase_never_makes_a_customer_less_likely_to_be_alive() =>
        Gen.Select(BgNbdModels, ParetoNbdModels, RepeatHistories).Sample((bg, pareto, h) =>
        {
            Assert.True(bg.ProbabilityAlive(h.X, h.Early, h.T) <= bg.ProbabilityAlive(h.X, h.Late, h.T) + 1e-12, "BG/NBD");
            Assert.True(pareto.ProbabilityAlive(h.X, h.Early, h.T) <= pareto.ProbabilityAlive(h.X, h.Late, h.T) + 1e-12, "Pareto/NBD");
        }, iter: 2000);

    [Fact]
    public void A_BG_NBD_customer_without_repeat_purchases_is_alive() =>
        Gen.Select(BgNbdModels, Gen.Double[0, 80]).Sample((model, t) => Assert.Equal(1.0, model.ProbabilityAlive(0, 0, t)), iter: 500);

    [Fact]
    public void Expected_transactions_never_fall_as_the_horizon_grows() =>
        Gen.Select(BgNbdModelsWithExpectations, ParetoNbdModels, Histories).Sample((bg, pareto, h) =>
        {
            AssertNonDecreasing(bg.ConditionalExpectedTransactions(h.X, h.Tx, h.T, h.Short), bg.ConditionalExpectedTransactions(h.X, h.Tx, h.T, h.Long), "BG/NBD conditional");
            AssertNonDecreasing(bg.ExpectedTransactions(h.Short), bg.ExpectedTransactions(h.Long), "BG/NBD");
            AssertNonDecreasing(pareto.ConditionalExpectedTransactions(h.X, h.Tx, h.T, h.Short), pareto.ConditionalExpectedTransactions(h.X, h.Tx, h.T, h.Long), "Pareto/NBD conditional");
            AssertNonDecreasing(pareto.ExpectedTransactions(h.Short), pareto.ExpectedTransactions(h.Long), "Pareto/NBD");
        }, iter: 1000);

    [Fact]
    public void The_probabilities_of_x_transactions_are_probabilities_that_never_add_up_past_one() =>
        Gen.Select(BgNbdModels, ParetoNbdModels, Gen.Double[0, 80]).Sample((bg, pareto, t) =>
        {
            foreach (var model in new IRepeatPurchaseModel[] { bg, pareto })
            {
                var probabilities = Enumerable.Range(0, 30).Select(x => model.ProbabilityOfTransactions(x, t)).ToList();
                Assert.All(probabilities, p => Assert.InRange(p, 0.0, 1.0));
                Assert.True(probabilities.Sum() <= 1 + 1e-9, $"{model}: P(X({t}) < 30) = {probabilities.Sum():R}");
            }
        }, iter: 300);

    [Fact]
    public void The_BG_NBD_gradient_matches_finite_differences() =>
        Gen.Select(BgNbdModels, Cohorts).Sample((model, cohort) =>
        {
            var numerical = FiniteDifferences.Gradient(p => BgNbd.LogLikelihood(cohort, new BgNbdModel(p[0], p[1], p[2], p[3])), [model.R, model.Alpha, model.A, model.B]);
            FiniteDifferences.AssertClose(numerical, BgNbd.Gradient(cohort, model), 1e-6);
        }, iter: 200);

    [Fact]
    public void The_Pareto_NBD_gradient_matches_finite_differences() =>
        Gen.Select(ParetoNbdModels, Cohorts).Sample((model, cohort) =>
        {
            var numerical = FiniteDifferences.Gradient(p => ParetoNbd.LogLikelihood(cohort, new ParetoNbdModel(p[0], p[1], p[2], p[3])), [model.R, model.Alpha, model.S, model.Beta]);
            FiniteDifferences.AssertClose(numerical, ParetoNbd.Gradient(cohort, model), 1e-6);
        }, iter: 200);

    [Fact]
    public void The_Gamma_Gamma_gradient_matches_finite_differences() =>
        Gen.Select(Shape, Shape, Gen.Double[0, 5].Select(Math.Exp), SpendCohorts).Sample((p, q, gamma, cohort) =>
        {
            var numerical = FiniteDifferences.Gradient(v => GammaGamma.LogLikelihood(cohort, new GammaGammaModel(v[0], v[1], v[2])), [p, q, gamma]);
            FiniteDifferences.AssertClose(numerical, GammaGamma.Gradient(cohort, new GammaGammaModel(p, q, gamma)), 1e-6);
        }, iter: 200);

    private static readonly Gen<CustomerGroups> Cohorts =
        Gen.Select(Gen.Int[0, 20], Gen.Double[0, 1], Gen.Double[1, 60], (x, u, t) => (x, x == 0 ? 0 : u * t, t))
            .Array[1, 30]
            .Select(histories => CustomerGroups.From(histories));

    private static readonly Gen<List<(int X, double MeanValue)>> SpendCohorts =
        Gen.Select(Gen.Int[1, 20], Gen.Double[0.5, 200], (x, mean) => (x, mean)).Array[1, 30].Select(c => c.ToList());

    private static void AssertNonDecreasing(double earlier, double later, string what) =>
        Assert.True(later >= earlier - (1e-12 * Math.Max(1, Math.Abs(earlier))), $"{what}: {earlier:R} then {later:R}");
}
