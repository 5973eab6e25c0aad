using CustomerJourney.Models.Numerics;
using static MathNet.Numerics.SpecialFunctions;

namespace CustomerJourney.Models.Churn;

/// <summary>
/// The Pareto/NBD model (Schmittlein, Morrison &amp; Colombo 1987): while active a customer buys at a Poisson rate
/// λ ~ Gamma(r, α) and has an exponential lifetime with rate μ ~ Gamma(s, β). Formulas follow Fader &amp; Hardie (2005),
/// "A Note on Deriving the Pareto/NBD Model and Related Expressions" (cited as "note, eq. n").
/// </summary>
/// <param name="R">Shape of the purchase-rate distribution.</param>
/// <param name="Alpha">Scale (in the fitted time unit) of the purchase-rate distribution.</param>
/// <param name="S">Shape of the dropout-rate distribution.</param>
/// <param name="Beta">Scale (in the fitted time unit) of the dropout-rate distribution.</param>
public sealed record ParetoNbdModel(double R, double Alpha, double S, double Beta) : IRepeatPurchaseModel
{
    /// <summary>Note, eq. 18: ln of Γ(r+x) α^r β^s / Γ(r) · [(α+T)^−(r+x) (β+T)^−s + s/(r+s+x) A₀].</summary>
    public double LogLikelihood(int x, double tx, double t)
    {
        CustomerGroups.Validate(x, tx, t);
        var parts = ParetoNbd.Parts(this, x, tx, t, GammaLn(R + x) - GammaLn(R), 0, []);
        return parts.LogLikelihood;
    }

    /// <summary>Note, eqs. 36–37 (in logs): 1 / (1 + s/(r+s+x) (α+T)^(r+x) (β+T)^s A₀).</summary>
    public double ProbabilityAlive(int x, double tx, double t)
    {
        CustomerGroups.Validate(x, tx, t);
        var parts = ParetoNbd.Parts(this, x, tx, t, 0, 0, []);
        return 1 / (1 + Math.Exp(parts.LogDroppedOut - parts.LogActive));
    }

    /// <summary>Note, eq. 41: P(alive) · (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)], finite at s = 1.</summary>
    public double ConditionalExpectedTransactions(int x, double tx, double t, double horizon)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(horizon);
        var lengthInLogs = LogSpace.Log1p(horizon / (Beta + t));
        var expectedIfAlive = (R + x) / (Alpha + t) * (Beta + t) * LogSpace.OneMinusExpOverRate(S - 1, lengthInLogs);
        return expectedIfAlive * ProbabilityAlive(x, tx, t);
    }

    /// <summary>Note, eq. 27: E[X(t)] = rβ / (α(s−1)) · [1 − (β/(β+t))^(s−1)], finite at s = 1.</summary>
    public double ExpectedTransactions(double time)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(time);
        return R / Alpha * Beta * LogSpace.OneMinusExpOverRate(S - 1, LogSpace.Log1p(time / Beta));
    }

    /// <summary>
    /// P(X(t) = x) from Fader &amp; Hardie (2006), "Deriving an Expression for P(X(t) = x) Under the Pareto/NBD Model":
    /// NBD(x; t) (β/(β+t))^s, still active at t, plus α^r β^s B(r+x, s+1)/B(r, s) [B₁ − Σ_{i=0..x} (r+s)_i/i! t^i B₂(i)],
    /// dropped out before t, where for α ≥ β B₁ = 2F1(r+s, s+1; r+s+x+1; (α−β)/α) / α^(r+s) and
    /// B₂(i) = 2F1(r+s+i, s+1; r+s+x+1; (α−β)/(α+t)) / (α+t)^(r+s+i), and for α &lt; β the same with β for α and r+x for s+1.
    /// </summary>
    public double ProbabilityOfTransactions(int x, double time)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(x);
        ArgumentOutOfRangeException.ThrowIfNegative(time);
        if (time == 0)
        {
            return x == 0 ? 1 : 0;
        }

        var active = Math.Exp(NegativeBinomial.LogProbability(R, Alpha, x, time) - (S * LogSpace.Log1p(time / Beta)));

        // As in the likelihood, the larger of α and β goes in the denominators so that each 2F1 argument lies in [0, 1).
        var alphaLarger = Alpha >= Beta;
        var m = alphaLarger ? Alpha : Beta;
        var b = alphaLarger ? S + 1 : R + x;
        var c = R + S + x + 1;
        var gap = Math.Abs(Alpha - Beta);
        var logB1 = Hypergeometric.Log2F1(R + S, b, c, gap / m) - ((R + S) * Math.Log(m));

        var logGammaRs = GammaLn(R + S);
        var z = gap / (m + time);
        double Term(int i) => Math.Exp(
            GammaLn(R + S + i) - logGammaRs - GammaLn(i + 1.0) + (i == 0 ? 0 : i * Math.Log(time))
            + Hypergeometric.Log2F1(R + S + i, b, c, z) - ((R + S + i) * Math.Log(m + time)) - logB1);

        double head = 0;
        for (var i = 0; i <= x; i++)
        {
            head += Term(i);
        }

        var logWeight = (R * Math.Log(Alpha)) + (S * Math.Log(Beta)) + BetaLn(R + x, S + 1) - BetaLn(R, S);
        return active + (Math.Exp(logWeight + logB1) * TailShare(head, Term, x));
    }

    // The B₂ terms, over B₁, are positive and sum to 1 over all i (the note's B₁ is their series), so the bracket over B₁
    // is the tail i > x: 1 − head while head is below ½, where the subtraction loses at most a bit; beyond, the
    // subtraction would cancel (P(X(2) = 10) would keep 9 digits), so the tail terms are summed themselves, until they stop
    // counting or, if they shrink too slowly, by the subtraction after all.
    private static double TailShare(double head, Func<int, double> term, int x)
    {
        const int maxTailTerms = 2_000;
        if (head < 0.5)
        {
            return 1 - head;
        }

        double tail = 0;
        for (var i = x + 1; i <= x + maxTailTerms; i++)
        {
            var next = term(i);
            tail += next;
            if (next <= 1e-17 * tail)
            {
                return tail;
            }
        }

        return Math.Max(0, 1 - head);
    }
}

/// <summary>Total log-likelihood, its gradient and the maximum-likelihood fit of <see cref="ParetoNbdModel"/>.</summary>
public static class ParetoNbd
{
    private static readonly string[] Names = ["r", "alpha", "s", "beta"];

    /// <summary>The two terms of one customer's likelihood, in logs, and its total.</summary>
    /// <param name="LogActive">ln of (α+T)^−(r+x) (β+T)^−s: still active at T.</param>
    /// <param name="LogDroppedOut">ln of s/(r+s+x) A₀: dropped out between t_x and T (−∞ when t_x = T).</param>
    internal readonly record struct LikelihoodParts(double LogActive, double LogDroppedOut, double LogLikelihood);

    /// <summary>Σ over customers of the log-likelihood (note, eq. 18), each (x, t_x, T) group evaluated once.</summary>
    public static double LogLikelihood(CustomerGroups customers, ParetoNbdModel model) => Evaluate(customers, model, []);

    /// <summary>∂(total log-likelihood)/∂(r, α, s, β), analytically, through the 2F1 series' own derivatives.</summary>
    public static double[] Gradient(CustomerGroups customers, ParetoNbdModel model)
    {
        var gradient = new double[4];
        Evaluate(customers, model, gradient);
        return gradient;
    }

    /// <summary>
    /// Maximum-likelihood (r, α, s, β) from three starting points on log-parameters, by bounded BFGS with the
    /// analytic gradient. The highest likelihood wins (a converged start among near-ties); check <see cref="FitReport.Converged"/>.
    /// </summary>
    public static ModelFit<ParetoNbdModel> Fit(CustomerGroups customers, FitLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(customers);
        var (transactions, weeks) = customers.Totals();
        var rate = Math.Max(transactions, 1) / weeks;

        // Starts with the mean purchase rate r/α and the mean dropout rate s/β at one or two times the cohort's rough
        // rate Σx/ΣT, and shapes from 0.5 to 2.
        double[][] starts =
        [
            Logs(1, 1 / rate, 1, 1 / rate),
            Logs(0.5, 0.5 / rate, 0.5, 0.25 / rate),
            Logs(2, 1 / rate, 2, 2 / rate),
        ];
        var outcome = MaximumLikelihood.Maximise(
            MaximumLikelihood.OverLogParameters((p, gradient) => Evaluate(customers, new ParetoNbdModel(p[0], p[1], p[2], p[3]), gradient), customers.Customers),
            starts,
            Names,
            customers.Customers,
            limits);
        return new ModelFit<ParetoNbdModel>(FromLogs(outcome.Theta), outcome.Report);
    }

    /// <summary>
    /// One customer's likelihood in parts, plus (when <paramref name="gradient"/> has 4 slots) its gradient in
    /// (r, α, s, β). <paramref name="logGammaRatio"/> is ln Γ(r+x)/Γ(r) and <paramref name="diGammaDifference"/>
    /// ψ(r+x) − ψ(r), passed in because they depend on x only.
    /// </summary>
    internal static LikelihoodParts Parts(
        ParetoNbdModel model, int x, double tx, double t, double logGammaRatio, double diGammaDifference, Span<double> gradient)
    {
        var withGradient = gradient.Length == 4;
        Span<double> dEarly = stackalloc double[4];
        Span<double> dLate = stackalloc double[4];
        double logEarly = double.NaN, logLate = double.NaN;
        if (tx < t)
        {
            if (SeriesIsShort(model))
            {
                logEarly = LogF(model, x, tx, withGradient ? dEarly : []);
                logLate = LogF(model, x, t, withGradient ? dLate : []);
            }
            else
            {
                Span<double> integrated = stackalloc double[2];
                Span<double> d = stackalloc double[8];
                IntegratedLogF(model, x, [tx, t], integrated, withGradient ? d : []);
                (logEarly, logLate) = (integrated[0], integrated[1]);
                d[..4].CopyTo(dEarly);
                d[4..].CopyTo(dLate);
            }
        }

        var logs = new PartLogs(Math.Log(model.Alpha), Math.Log(model.Beta), Math.Log(model.Alpha + t), Math.Log(model.Beta + t),
            Math.Log(model.S) - Math.Log(model.R + model.S + x));
        return Parts(model, x, tx, t, logGammaRatio, diGammaDifference, logs, logEarly, dEarly, logLate, dLate, gradient);
    }

    // Logarithms a group's likelihood needs that depend on the model, x or T only, so a pass over many groups computes
    // each once: ln α, ln β, ln(α+T), ln(β+T) and ln s − ln(r+s+x).
    private readonly record struct PartLogs(double Alpha, double Beta, double AlphaT, double BetaT, double SOverA);

    // The likelihood from ln F at t_x (early) and at T (late), with their gradients, whichever way they were computed.
    private static LikelihoodParts Parts(
        ParetoNbdModel model, int x, double tx, double t, double logGammaRatio, double diGammaDifference, in PartLogs logs,
        double logEarly, ReadOnlySpan<double> dEarly, double logLate, ReadOnlySpan<double> dLate, Span<double> gradient)
    {
        var (r, alpha, s, beta) = model;
        var withGradient = gradient.Length == 4;
        var (logAlpha, logBeta, logAlphaT, logBetaT) = (logs.Alpha, logs.Beta, logs.AlphaT, logs.BetaT);
        var common = logGammaRatio + (r * logAlpha) + (s * logBeta);
        var active = (-(r + x) * logAlphaT) - (s * logBetaT);

        Span<double> dDropped = stackalloc double[4];
        var dropped = double.NegativeInfinity;
        if (tx < t)
        {
            dropped = LogDroppedOut(r, s, x, logs.SOverA, logEarly, dEarly, logLate, dLate, withGradient ? dDropped : []);
        }

        var total = LogSpace.AddExp(active, dropped);
        if (withGradient)
        {
            // d ln(e^u + e^v) = w_u du + w_v dv, with w the shares of the two terms.
            var wActive = Math.Exp(active - total);
            var wDropped = double.IsNegativeInfinity(dropped) ? 0 : Math.Exp(dropped - total);
            gradient[0] = diGammaDifference + logAlpha - (wActive * logAlphaT) + (wDropped * dDropped[0]);
            gradient[1] = (r / alpha) - (wActive * (r + x) / (alpha + t)) + (wDropped * dDropped[1]);
            gradient[2] = logBeta - (wActive * logBetaT) + (wDropped * dDropped[2]);
            gradient[3] = (s / beta) - (wActive * s / (beta + t)) + (wDropped * dDropped[3]);
        }

        return new LikelihoodParts(active, dropped, common + total);
    }

    // ln[s/(r+s+x) A₀] with A₀ = F(t_x) − F(T) (note, eqs. 19–20), from ln F at t_x and T; fills the gradient in (r, α, s, β)
    // when asked.
    private static double LogDroppedOut(
        double r, double s, int x, double logSOverA, double logEarly, ReadOnlySpan<double> dEarly, double logLate, ReadOnlySpan<double> dLate, Span<double> gradient)
    {
        var a = r + s + x;

        // A₀ = F(t_x)(1 − ρ) with ρ = F(T)/F(t_x) < 1, so the difference never cancels in a subtraction of logs.
        var ratio = Math.Exp(logLate - logEarly);
        if (!(ratio < 1))
        {
            return double.NegativeInfinity;
        }

        var logA0 = logEarly + LogSpace.Log1p(-ratio);
        if (gradient.Length == 4)
        {
            // d ln(F₁ − F₂) = (d ln F₁ − ρ d ln F₂) / (1 − ρ); then the s/(r+s+x) factor.
            for (var k = 0; k < 4; k++)
            {
                gradient[k] = (dEarly[k] - (ratio * dLate[k])) / (1 - ratio);
            }

            gradient[0] -= 1 / a;
            gradient[2] += (1 / s) - (1 / a);
        }

        return logSOverA + logA0;
    }

    // ln F(y), F(y) = 2F1(r+s+x, b'; r+s+x+1; z(y)) / (m+y)^(r+s+x), by the series, where, so that z lies in [0, 1): if
    // α ≥ β then m = α, b' = s+1, z(y) = (α−β)/(α+y); otherwise m = β, b' = r+x, z(y) = (β−α)/(β+y). F(y) is
    // (r+s+x) ∫_y^∞ (α+τ)^−(r+x) (β+τ)^−(s+1) dτ. Fills d with ∂ ln F/∂(r, α, s, β) when it has 4 slots.
    private static double LogF(ParetoNbdModel model, int x, double y, Span<double> d)
    {
        var (r, alpha, s, beta) = model;
        var a = r + s + x;
        var alphaLarger = alpha >= beta;
        var m = alphaLarger ? alpha : beta;
        var bPrime = alphaLarger ? s + 1 : r + x;
        var gap = Math.Abs(alpha - beta);
        var z = gap / (m + y);
        var h = Hypergeometric.Log2F1APlusOne(a, bPrime, z, d.Length == 4);
        var logMy = Math.Log(m + y);
        if (d.Length == 4)
        {
            // Chain rule through a = r+s+x, b' (s+1 or r+x), z and m (α or β).
            double dzByAlpha, dzByBeta;
            if (alphaLarger)
            {
                dzByAlpha = (beta + y) / ((alpha + y) * (alpha + y));
                dzByBeta = -1 / (alpha + y);
            }
            else
            {
                dzByAlpha = -1 / (beta + y);
                dzByBeta = (alpha + y) / ((beta + y) * (beta + y));
            }

            var byA = h.ByA - logMy;
            d[0] = byA + (alphaLarger ? 0 : h.ByB);
            d[1] = (h.ByZ * dzByAlpha) - (alphaLarger ? a / (m + y) : 0);
            d[2] = byA + (alphaLarger ? h.ByB : 0);
            d[3] = (h.ByZ * dzByBeta) - (alphaLarger ? 0 : a / (m + y));
        }

        return h.Log - (a * logMy);
    }

    /// <summary>
    /// Whether the 2F1 series is short at every y ≥ 0: its terms shrink at least as fast as z^j, and z is largest at
    /// y = 0, where 1 − z = min(α, β)/max(α, β). Beyond a ratio of 20 (a few hundred terms) <see cref="IntegratedLogF"/>
    /// takes over: when the dropout rates are nearly homogeneous the fit drives s and β up together, and the series then
    /// needs terms in proportion to β (a fit of a shifted CDNOW resample reached 10⁵ terms per point and never finished).
    /// </summary>
    internal static bool SeriesIsShort(ParetoNbdModel model) =>
        Math.Max(model.Alpha, model.Beta) <= SeriesRatioLimit * Math.Min(model.Alpha, model.Beta);

    private const double SeriesRatioLimit = 20;

    // 8-point Gauss–Legendre on [−1, 1], symmetric: nodes ±Node[i] with weights Weight[i].
    private static readonly double[] Node = [0.1834346424956498, 0.5255324099163290, 0.7966664774136267, 0.9602898564975363];
    private static readonly double[] Weight = [0.3626837833783620, 0.3137066458778873, 0.2223810344533745, 0.1012285362903763];

    /// <summary>
    /// ln F(y) up to a term that is the same for every y of this x (which cancels in ln(F(t_x) − F(T))), by quadrature:
    /// (r+s+x) ∫_y^Y g(τ) dτ with g(τ) = (α+τ)^−(r+x) (β+τ)^−(s+1) and Y the largest of <paramref name="ys"/> (ascending),
    /// summed down from Y in panels short enough that g changes by at most a factor e and stays two panel lengths from its
    /// poles at −α and −β, so 8 Gauss–Legendre points keep double precision however far apart α and β are. Fills
    /// <paramref name="d"/> (4 per y, when not empty) with ∂/∂(r, α, s, β) of the same.
    /// </summary>
    internal static void IntegratedLogF(ParetoNbdModel model, int x, ReadOnlySpan<double> ys, Span<double> logs, Span<double> d)
    {
        var (r, alpha, s, beta) = model;
        var withGradient = d.Length > 0;
        var a = r + s + x;
        var logA = Math.Log(a);
        var rx = r + x;
        var s1 = s + 1;
        var nearestPole = Math.Min(alpha, beta);

        // The integral from ys[k] to Y, held as its log and the g-weighted means of ∂ ln g/∂(r, α, s, β).
        var logS = double.NegativeInfinity;
        double m0 = 0, m1 = 0, m2 = 0, m3 = 0;
        for (var k = ys.Length - 1; k >= 0; k--)
        {
            if (k < ys.Length - 1)
            {
                for (var lo = ys[k]; lo < ys[k + 1];)
                {
                    var step = Math.Min(1 / ((rx / (alpha + lo)) + (s1 / (beta + lo))), 0.5 * (nearestPole + lo));
                    var hi = ys[k + 1] - lo <= step ? ys[k + 1] : lo + step;
                    var half = (hi - lo) / 2;
                    var mid = lo + half;

                    // g is decreasing, so its value at lo scales the panel's terms to at most 1.
                    var top = (-rx * Math.Log(alpha + lo)) - (s1 * Math.Log(beta + lo));
                    double sum = 0, p0 = 0, p1 = 0, p2 = 0, p3 = 0;
                    for (var i = 0; i < 8; i++)
                    {
                        var tau = mid + (half * (i < 4 ? -Node[i] : Node[i - 4]));
                        var logAlphaTau = Math.Log(alpha + tau);
                        var logBetaTau = Math.Log(beta + tau);
                        var w = Weight[i & 3] * Math.Exp((-rx * logAlphaTau) - (s1 * logBetaTau) - top);
                        sum += w;
                        if (withGradient)
                        {
                            p0 -= w * logAlphaTau;
                            p1 -= w * rx / (alpha + tau);
                            p2 -= w * logBetaTau;
                            p3 -= w * s1 / (beta + tau);
                        }
                    }

                    var logPanel = top + Math.Log(sum * half);
                    var logNew = LogSpace.AddExp(logS, logPanel);
                    var (kept, added) = (Math.Exp(logS - logNew), Math.Exp(logPanel - logNew));
                    if (withGradient)
                    {
                        m0 = (kept * m0) + (added * p0 / sum);
                        m1 = (kept * m1) + (added * p1 / sum);
                        m2 = (kept * m2) + (added * p2 / sum);
                        m3 = (kept * m3) + (added * p3 / sum);
                    }

                    logS = logNew;
                    lo = hi;
                }
            }

            logs[k] = logA + logS;
            if (withGradient)
            {
                // ln F = ln(r+s+x) + ln ∫ g, and ∂ ln ∫ g = the g-weighted mean of ∂ ln g.
                d[4 * k] = (1 / a) + m0;
                d[(4 * k) + 1] = m1;
                d[(4 * k) + 2] = (1 / a) + m2;
                d[(4 * k) + 3] = m3;
            }
        }
    }

    private static double[] Logs(double r, double alpha, double s, double beta) => [Math.Log(r), Math.Log(alpha), Math.Log(s), Math.Log(beta)];

    private static ParetoNbdModel FromLogs(ReadOnlySpan<double> theta) =>
        new(Math.Exp(theta[0]), Math.Exp(theta[1]), Math.Exp(theta[2]), Math.Exp(theta[3]));

    private static double Evaluate(CustomerGroups customers, ParetoNbdModel model, Span<double> gradient)
    {
        var withGradient = gradient.Length == 4;
        var distinct = customers.DistinctX;
        var logGammaRatio = new double[distinct.Length];
        var diGammaDifference = new double[distinct.Length];
        for (var k = 0; k < distinct.Length; k++)
        {
            logGammaRatio[k] = GammaLn(model.R + distinct[k]) - GammaLn(model.R);
            diGammaDifference[k] = withGradient ? DiGamma(model.R + distinct[k]) - DiGamma(model.R) : 0;
        }

        // ln F once per distinct (x, y) point rather than twice per group: the same values, far fewer series.
        var points = customers.PointY.Length;
        var logF = new double[points];
        var dF = withGradient ? new double[4 * points] : [];
        if (SeriesIsShort(model))
        {
            for (var p = 0; p < points; p++)
            {
                logF[p] = LogF(model, distinct[customers.PointXIndex[p]], customers.PointY[p], withGradient ? dF.AsSpan(4 * p, 4) : []);
            }
        }
        else
        {
            for (var k = 0; k < distinct.Length; k++)
            {
                var (from, to) = (customers.PointsOfX[k], customers.PointsOfX[k + 1]);
                IntegratedLogF(model, distinct[k], customers.PointY.AsSpan(from, to - from), logF.AsSpan(from, to - from),
                    withGradient ? dF.AsSpan(4 * from, 4 * (to - from)) : []);
            }
        }

        var (logAlpha, logBeta) = (Math.Log(model.Alpha), Math.Log(model.Beta));
        var logAlphaY = new double[points];
        var logBetaY = new double[points];
        for (var p = 0; p < points; p++)
        {
            logAlphaY[p] = Math.Log(model.Alpha + customers.PointY[p]);
            logBetaY[p] = Math.Log(model.Beta + customers.PointY[p]);
        }

        var logSOverA = new double[distinct.Length];
        for (var k = 0; k < distinct.Length; k++)
        {
            logSOverA[k] = Math.Log(model.S) - Math.Log(model.R + model.S + distinct[k]);
        }

        double total = 0;
        Span<double> one = stackalloc double[4];
        Span<double> sum = stackalloc double[4];
        for (var i = 0; i < customers.Groups; i++)
        {
            var k = customers.XIndex[i];
            double n = customers.Count[i];
            var (early, late) = (customers.TxPoint[i], customers.TPoint[i]);
            var logs = new PartLogs(logAlpha, logBeta, logAlphaY[late], logBetaY[late], logSOverA[k]);
            var parts = early < 0
                ? Parts(model, customers.X[i], customers.Tx[i], customers.T[i], logGammaRatio[k], diGammaDifference[k], logs,
                    double.NaN, [], double.NaN, [], withGradient ? one : [])
                : Parts(model, customers.X[i], customers.Tx[i], customers.T[i], logGammaRatio[k], diGammaDifference[k], logs,
                    logF[early], withGradient ? dF.AsSpan(4 * early, 4) : [], logF[late], withGradient ? dF.AsSpan(4 * late, 4) : [],
                    withGradient ? one : []);
            total += n * parts.LogLikelihood;
            if (withGradient)
            {
                for (var j = 0; j < 4; j++)
                {
                    sum[j] += n * one[j];
                }
            }
        }

        if (withGradient)
        {
            sum.CopyTo(gradient);
        }

        return total;
    }
}
