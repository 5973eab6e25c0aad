using CustomerJourney.Models.Numerics;
using static MathNet.Numerics.SpecialFunctions;

namespace CustomerJourney.Models.Churn;

/// <summary>
/// The BG/NBD model (Fader, Hardie &amp; Lee 2005, "Counting Your Customers the Easy Way"): while active a customer buys
/// at a Poisson rate λ ~ Gamma(r, α); after each purchase they drop out with probability p ~ Beta(a, b).
/// </summary>
/// <param name="R">Shape of the purchase-rate distribution.</param>
/// <param name="Alpha">Scale (in the fitted time unit) of the purchase-rate distribution.</param>
/// <param name="A">First shape of the dropout-probability distribution.</param>
/// <param name="B">Second shape of the dropout-probability distribution.</param>
public sealed record BgNbdModel(double R, double Alpha, double A, double B) : IRepeatPurchaseModel
{
    /// <summary>Paper eq. 6 (section 7 for its log form): ln Γ(r+x)/Γ(r) + r ln α + ln B(a, b+x)/B(a, b) + ln[(α+T)^−(r+x) + δ(x&gt;0) a/(b+x−1) (α+t_x)^−(r+x)].</summary>
    public double LogLikelihood(int x, double tx, double t)
    {
        CustomerGroups.Validate(x, tx, t);
        var common = GammaLn(R + x) - GammaLn(R) + (R * Math.Log(Alpha))
            + GammaLn(A + B) - GammaLn(B) + GammaLn(B + x) - GammaLn(A + B + x);
        var stillActive = -(R + x) * Math.Log(Alpha + t);
        return x == 0
            ? common + stillActive
            : common + LogSpace.AddExp(stillActive, Math.Log(A) - Math.Log(B + x - 1) - ((R + x) * Math.Log(Alpha + tx)));
    }

    /// <summary>
    /// P(alive | x, t_x, T) = 1 / (1 + δ(x&gt;0) a/(b+x−1) ((α+T)/(α+t_x))^(r+x)) (Fader, Hardie &amp; Lee 2008, "Computing
    /// P(alive) Using the BG/NBD Model"): exactly 1 for x = 0, because a BG/NBD customer can only drop out right after a
    /// purchase.
    /// </summary>
    public double ProbabilityAlive(int x, double tx, double t)
    {
        CustomerGroups.Validate(x, tx, t);
        return x == 0 ? 1 : 1 / (1 + Math.Exp(LogOddsDead(x, tx, t)));
    }

    /// <summary>Paper eq. 10: E[Y(t) | x, t_x, T].</summary>
    /// <remarks>Needs a + b + x − 1 &gt; 0, which fails only for x = 0 with a + b ≤ 1.</remarks>
    public double ConditionalExpectedTransactions(int x, double tx, double t, double horizon)
    {
        CustomerGroups.Validate(x, tx, t);
        ArgumentOutOfRangeException.ThrowIfNegative(horizon);
        if (horizon == 0)
        {
            return 0;
        }

        var expectedIfAlive = AwayFromOne(A, a => ExpectedIfAlive(a, x, t, horizon));
        return expectedIfAlive * ProbabilityAlive(x, tx, t);
    }

    /// <summary>Paper eq. 9: E[X(t)] = (a+b−1)/(a−1) [1 − (α/(α+t))^r 2F1(r, b; a+b−1; t/(α+t))].</summary>
    /// <remarks>Needs a + b &gt; 1 (the 2F1 series' c &gt; 0); the CDNOW fit has a + b ≈ 3.2.</remarks>
    public double ExpectedTransactions(double time)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(time);
        return time == 0 ? 0 : AwayFromOne(A, a => ExpectedIfAlive(a, 0, 0, time));
    }

    /// <summary>
    /// Paper eq. 8: P(X(t) = x) = B(a, b+x)/B(a, b) NBD(x; t) + δ(x&gt;0) B(a+1, b+x−1)/B(a, b) P(NBD(t) ≥ x): still active
    /// after x purchases, or dropped out right after the x-th of at least x the purchase process would have made.
    /// </summary>
    public double ProbabilityOfTransactions(int x, double time)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(x);
        ArgumentOutOfRangeException.ThrowIfNegative(time);
        if (time == 0)
        {
            return x == 0 ? 1 : 0;
        }

        var logBetaAB = BetaLn(A, B);
        var active = Math.Exp(BetaLn(A, B + x) - logBetaAB + NegativeBinomial.LogProbability(R, Alpha, x, time));
        return x == 0
            ? active
            : active + (Math.Exp(BetaLn(A + 1, B + x - 1) - logBetaAB) * NegativeBinomial.AtLeast(R, Alpha, x, time));
    }

    // ln of a/(b+x−1) ((α+T)/(α+t_x))^(r+x): the odds that a customer with this history has dropped out.
    private double LogOddsDead(int x, double tx, double t) =>
        Math.Log(A) - Math.Log(B + x - 1) + ((R + x) * (Math.Log(Alpha + t) - Math.Log(Alpha + tx)));

    // Eq. 10 without its P(alive) denominator: eq. 9 with r, b and a+b−1 raised by x and the clock started at T.
    private double ExpectedIfAlive(double a, int x, double t, double horizon)
    {
        var z = horizon / (Alpha + t + horizon);
        var logPower = -(R + x) * LogSpace.Log1p(horizon / (Alpha + t));
        var log2F1 = Hypergeometric.Log2F1(R + x, B + x, a + B + x - 1, z);
        return (a + B + x - 1) / (a - 1) * -LogSpace.Expm1(logPower + log2F1);
    }

    // The formulas divide 0 by 0 at a = 1 (a removable singularity); there, average the values either side, which
    // cancels the first-order error and keeps about ten digits.
    private static double AwayFromOne(double a, Func<double, double> f)
    {
        const double step = 1e-6;
        return Math.Abs(a - 1) >= step ? f(a) : (f(1 - step) + f(1 + step)) / 2;
    }
}

/// <summary>Total log-likelihood, its gradient and the maximum-likelihood fit of <see cref="BgNbdModel"/>.</summary>
public static class BgNbd
{
    private static readonly string[] Names = ["r", "alpha", "a", "b"];

    /// <summary>Σ over customers of the log-likelihood (eq. 6), each (x, t_x, T) group evaluated once.</summary>
    public static double LogLikelihood(CustomerGroups customers, BgNbdModel model) => Evaluate(customers, model, []);

    /// <summary>∂(total log-likelihood)/∂(r, α, a, b), analytically.</summary>
    public static double[] Gradient(CustomerGroups customers, BgNbdModel model)
    {
        var gradient = new double[4];
        Evaluate(customers, model, gradient);
        return gradient;
    }

    /// <summary>
    /// Maximum-likelihood (r, α, a, b) from three starting points on log-parameters, by bounded BFGS with the
    /// analytic gradient. The highest likelihood wins (a converged start among near-ties); check <see cref="FitReport.Converged"/>.
    /// </summary>
    public static ModelFit<BgNbdModel> Fit(CustomerGroups customers, FitLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(customers);
        var (transactions, weeks) = customers.Totals();
        var rate = Math.Max(transactions, 1) / weeks;

        // Starts spread over the shapes seen in practice, with the mean purchase rate r/α within a factor of two of the
        // cohort's rough rate Σx/ΣT.
        double[][] starts =
        [
            Logs(1, 1 / rate, 1, 1),
            Logs(0.25, 0.5 / rate, 0.5, 2),
            Logs(3, 1.5 / rate, 2, 6),
        ];
        var outcome = MaximumLikelihood.Maximise(
            MaximumLikelihood.OverLogParameters((p, gradient) => Evaluate(customers, new BgNbdModel(p[0], p[1], p[2], p[3]), gradient), customers.Customers),
            starts,
            Names,
            customers.Customers,
            limits);
        return new ModelFit<BgNbdModel>(FromLogs(outcome.Theta), outcome.Report);
    }

    private static double[] Logs(double r, double alpha, double a, double b) => [Math.Log(r), Math.Log(alpha), Math.Log(a), Math.Log(b)];

    private static BgNbdModel FromLogs(ReadOnlySpan<double> theta) =>
        new(Math.Exp(theta[0]), Math.Exp(theta[1]), Math.Exp(theta[2]), Math.Exp(theta[3]));

    // One pass over the groups. Gamma-function terms depend on x only, so they are computed once per distinct x.
    private static double Evaluate(CustomerGroups customers, BgNbdModel model, Span<double> gradient)
    {
        var (r, alpha, a, b) = model;
        var withGradient = gradient.Length == 4;
        var distinct = customers.DistinctX;
        var byX = new double[distinct.Length];
        var byXdr = withGradient ? new double[distinct.Length] : [];
        var byXda = withGradient ? new double[distinct.Length] : [];
        var byXdb = withGradient ? new double[distinct.Length] : [];
        var logAlpha = Math.Log(alpha);
        var constant = (r * logAlpha) + GammaLn(a + b) - GammaLn(b) - GammaLn(r);
        for (var k = 0; k < distinct.Length; k++)
        {
            var x = distinct[k];
            byX[k] = constant + GammaLn(r + x) + GammaLn(b + x) - GammaLn(a + b + x);
            if (withGradient)
            {
                byXdr[k] = DiGamma(r + x) - DiGamma(r) + logAlpha;
                byXda[k] = DiGamma(a + b) - DiGamma(a + b + x);
                byXdb[k] = DiGamma(a + b) - DiGamma(b) + DiGamma(b + x) - DiGamma(a + b + x);
            }
        }

        double total = 0, dr = 0, dAlpha = 0, da = 0, db = 0;
        var logA = Math.Log(a);
        for (var i = 0; i < customers.Groups; i++)
        {
            var x = customers.X[i];
            var k = customers.XIndex[i];
            double n = customers.Count[i];
            var rx = r + x;
            var logAlphaT = Math.Log(alpha + customers.T[i]);
            var stillActive = -rx * logAlphaT;
            if (x == 0)
            {
                total += n * (byX[k] + stillActive);
                if (withGradient)
                {
                    dr += n * (byXdr[k] - logAlphaT);
                    dAlpha += n * ((r / alpha) - (rx / (alpha + customers.T[i])));
                    da += n * byXda[k];
                    db += n * byXdb[k];
                }

                continue;
            }

            var logAlphaTx = Math.Log(alpha + customers.Tx[i]);
            var droppedOut = logA - Math.Log(b + x - 1) - (rx * logAlphaTx);
            var log = LogSpace.AddExp(stillActive, droppedOut);
            total += n * (byX[k] + log);
            if (withGradient)
            {
                // Weights of the two terms inside the log: d ln(e^u + e^v) = w_u du + w_v dv.
                var wActive = Math.Exp(stillActive - log);
                var wDropped = Math.Exp(droppedOut - log);
                dr += n * (byXdr[k] - (wActive * logAlphaT) - (wDropped * logAlphaTx));
                dAlpha += n * ((r / alpha) - (wActive * rx / (alpha + customers.T[i])) - (wDropped * rx / (alpha + customers.Tx[i])));
                da += n * (byXda[k] + (wDropped / a));
                db += n * (byXdb[k] - (wDropped / (b + x - 1)));
            }
        }

        if (withGradient)
        {
            gradient[0] = dr;
            gradient[1] = dAlpha;
            gradient[2] = da;
            gradient[3] = db;
        }

        return total;
    }
}
