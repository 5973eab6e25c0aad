using CustomerJourney.Models.Numerics;
using static MathNet.Numerics.SpecialFunctions;

namespace CustomerJourney.Models.Spend;

/// <summary>
/// The Gamma–Gamma model of spend per transaction (Fader, Hardie &amp; Lee 2005, "RFM and CLV: Using Iso-Value Curves",
/// and Fader &amp; Hardie 2013, "The Gamma-Gamma Model of Monetary Value"): each transaction's value is Gamma(p, ν), and
/// ν varies over customers as Gamma(q, γ). It assumes spend is independent of the transaction process.
/// </summary>
/// <param name="P">Shape of a transaction's value given the customer.</param>
/// <param name="Q">Shape of the customer-level rate ν.</param>
/// <param name="Gamma">Scale of the customer-level rate ν (in currency units).</param>
public sealed record GammaGammaModel(double P, double Q, double Gamma)
{
    /// <summary>
    /// Log-density of a customer's mean repeat-transaction value z̄ over x transactions (Fader &amp; Hardie 2013, eq. 1a):
    /// Γ(px+q)/(Γ(px)Γ(q)) · γ^q x^(px) z̄^(px−1) / (γ + x z̄)^(px+q).
    /// </summary>
    public double LogLikelihood(int x, double meanValue)
    {
        GammaGamma.Validate(x, meanValue);
        var total = x * meanValue;
        return GammaLn((P * x) + Q) - GammaLn(P * x) - GammaLn(Q) + (Q * Math.Log(Gamma))
            + (((P * x) - 1) * Math.Log(total)) + Math.Log(x) - (((P * x) + Q) * Math.Log(Gamma + total));
    }

    /// <summary>
    /// E[M | x, z̄] = p(γ + x z̄)/(px + q − 1) (Fader &amp; Hardie 2013, eq. 5): a weighted mean of the population
    /// mean pγ/(q − 1) and the customer's own z̄, leaning on z̄ as x grows. With x = 0 it is the population mean.
    /// </summary>
    public double ConditionalExpectedSpend(int x, double meanValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(x);
        ArgumentOutOfRangeException.ThrowIfNegative(meanValue);
        var denominator = (P * x) + Q - 1;
        if (!(denominator > 0))
        {
            throw new InvalidOperationException($"The expected spend is infinite when px + q <= 1 (p = {P}, q = {Q}, x = {x}).");
        }

        return P * (Gamma + (x * meanValue)) / denominator;
    }

    /// <summary>The population mean spend per transaction, pγ/(q − 1); infinite when q ≤ 1.</summary>
    public double ExpectedSpend() => ConditionalExpectedSpend(0, 0);
}

/// <summary>Total log-likelihood, its gradient and the maximum-likelihood fit of <see cref="GammaGammaModel"/>.</summary>
public static class GammaGamma
{
    private static readonly string[] Names = ["p", "q", "gamma"];

    /// <summary>Σ of <see cref="GammaGammaModel.LogLikelihood"/> over customers given as (x, z̄).</summary>
    public static double LogLikelihood(IReadOnlyList<(int X, double MeanValue)> customers, GammaGammaModel model) =>
        Evaluate(Prepare(customers), model, []);

    /// <summary>∂(total log-likelihood)/∂(p, q, γ), analytically.</summary>
    public static double[] Gradient(IReadOnlyList<(int X, double MeanValue)> customers, GammaGammaModel model)
    {
        var gradient = new double[3];
        Evaluate(Prepare(customers), model, gradient);
        return gradient;
    }

    /// <summary>
    /// Maximum-likelihood (p, q, γ) on customers with at least one repeat transaction and a positive mean value (the
    /// density lives on z̄ &gt; 0; a customer whose repeat purchases were all free carries no usable spend), from three
    /// starting points on log-parameters by bounded BFGS with the analytic gradient; the highest likelihood wins.
    /// </summary>
    /// <remarks><see cref="FitReport.Customers"/> says how many customers that left.</remarks>
    public static ModelFit<GammaGammaModel> Fit(IEnumerable<(int X, double MeanValue)> customers, FitLimits? limits = null)
    {
        var used = customers.Where(c => c.X > 0 && c.MeanValue > 0).ToList();
        if (used.Count == 0)
        {
            throw new ArgumentException("No customer has a repeat transaction with a positive value.", nameof(customers));
        }

        var data = Prepare(used);
        var meanSpend = used.Average(c => c.MeanValue);

        // Each start puts the population mean pγ/(q−1) at the observed mean spend.
        double[][] starts =
        [
            Logs(1, 2, meanSpend),
            Logs(5, 3, 2 * meanSpend / 5),
            Logs(0.5, 5, 8 * meanSpend),
        ];
        var outcome = MaximumLikelihood.Maximise(
            MaximumLikelihood.OverLogParameters((p, gradient) => Evaluate(data, new GammaGammaModel(p[0], p[1], p[2]), gradient), data.Count),
            starts,
            Names,
            data.Count,
            limits);
        return new ModelFit<GammaGammaModel>(FromLogs(outcome.Theta), outcome.Report);
    }

    internal static void Validate(int x, double meanValue)
    {
        if (x < 1 || !(meanValue > 0) || !double.IsFinite(meanValue))
        {
            throw new ArgumentException($"The spend model needs x >= 1 and a positive mean value; got x = {x}, mean = {meanValue}.");
        }
    }

    private static double[] Logs(double p, double q, double gamma) => [Math.Log(p), Math.Log(q), Math.Log(gamma)];

    private static GammaGammaModel FromLogs(ReadOnlySpan<double> theta) => new(Math.Exp(theta[0]), Math.Exp(theta[1]), Math.Exp(theta[2]));

    // Customers with the data-only terms precomputed: ln(x z̄) and ln x do not depend on the parameters.
    private sealed record Prepared(int[] X, double[] Total, double[] LogTotal, double LogXSum, int[] DistinctX, int[] XIndex)
    {
        public int Count => X.Length;
    }

    private static Prepared Prepare(IEnumerable<(int X, double MeanValue)> customers)
    {
        var list = customers.ToList();
        foreach (var (x, mean) in list)
        {
            Validate(x, mean);
        }

        var distinct = list.Select(c => c.X).Distinct().Order().ToArray();
        var position = distinct.Select((x, i) => (x, i)).ToDictionary(p => p.x, p => p.i);
        return new Prepared(
            [.. list.Select(c => c.X)],
            [.. list.Select(c => c.X * c.MeanValue)],
            [.. list.Select(c => Math.Log(c.X * c.MeanValue))],
            list.Sum(c => Math.Log(c.X)),
            distinct,
            [.. list.Select(c => position[c.X])]);
    }

    private static double Evaluate(Prepared data, GammaGammaModel model, Span<double> gradient)
    {
        var (p, q, gamma) = model;
        var withGradient = gradient.Length == 3;

        // ln Γ(px+q) − ln Γ(px) and its digamma counterparts depend on x only.
        var byX = new double[data.DistinctX.Length];
        var byXdp = new double[data.DistinctX.Length];
        var psiSum = new double[data.DistinctX.Length];
        for (var k = 0; k < data.DistinctX.Length; k++)
        {
            var px = p * data.DistinctX[k];
            byX[k] = GammaLn(px + q) - GammaLn(px);
            if (withGradient)
            {
                psiSum[k] = DiGamma(px + q);
                byXdp[k] = data.DistinctX[k] * (psiSum[k] - DiGamma(px));
            }
        }

        var logGamma = Math.Log(gamma);
        double total = data.Count * ((q * logGamma) - GammaLn(q));
        total += data.LogXSum;
        double dp = 0, dq = 0, dGamma = 0;
        var psiQ = withGradient ? DiGamma(q) : 0;
        for (var i = 0; i < data.Count; i++)
        {
            var k = data.XIndex[i];
            var px = p * data.X[i];
            var logGammaTotal = Math.Log(gamma + data.Total[i]);
            total += byX[k] + ((px - 1) * data.LogTotal[i]) - ((px + q) * logGammaTotal);
            if (withGradient)
            {
                dp += byXdp[k] + (data.X[i] * (data.LogTotal[i] - logGammaTotal));
                dq += psiSum[k] - psiQ + logGamma - logGammaTotal;
                dGamma += (q / gamma) - ((px + q) / (gamma + data.Total[i]));
            }
        }

        if (withGradient)
        {
            gradient[0] = dp;
            gradient[1] = dq;
            gradient[2] = dGamma;
        }

        return total;
    }
}
