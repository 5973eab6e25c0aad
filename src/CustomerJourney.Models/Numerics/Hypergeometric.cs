using System.Globalization;

namespace CustomerJourney.Models.Numerics;

/// <summary>
/// The Gauss hypergeometric function 2F1(a, b; c; z) by its power series Σ (a)_j (b)_j / ((c)_j j!) z^j, for the
/// parameter ranges the BG/NBD and Pareto/NBD formulas produce: a, b, c &gt; 0 and 0 ≤ z &lt; 1. MathNet has no 2F1.
/// </summary>
/// <remarks>
/// Terms are carried as a mantissa and a separate log scale, so large parameters (terms that grow for a while before
/// they shrink) neither overflow nor underflow; results come back as logarithms. The sum stops when a bound on the
/// whole remaining tail, not just the last term, is below the tolerance. A series that would need more than
/// <see cref="MaxTerms"/> terms (z very close to 1) throws <see cref="SeriesNotConvergedException"/>.
/// </remarks>
public static class Hypergeometric
{
    /// <summary>The most terms any one series may take: enough for z up to about 0.9999.</summary>
    public const int MaxTerms = 1_000_000;

    /// <summary>Relative tolerance on the sum (and on the tail bound).</summary>
    private const double Tolerance = 1e-15;

    // Terms are rescaled by 2^-600 when they pass 2^600, far from overflow and cheap to undo in log space.
    private const double Rescale = 2.4099198651028841e-181;
    private const double RescaleThreshold = 4.149515568880993e180;
    private static readonly double LogRescale = Math.Log(RescaleThreshold);

    /// <summary>ln 2F1(a, b; c; z) for a, b, c &gt; 0 and 0 ≤ z &lt; 1.</summary>
    public static double Log2F1(double a, double b, double c, double z)
    {
        if (!(a > 0 && b > 0 && c > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(c), $"2F1 needs a, b, c > 0; got a = {a}, b = {b}, c = {c}.");
        }

        if (!(z >= 0 && z < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(z), z, "2F1 is summed here only for 0 <= z < 1.");
        }

        if (z == 0)
        {
            return 0;
        }

        // The sum is kept as 1 + tail so that ln(1 + tail) keeps its digits when z is tiny; once terms grow past the
        // rescale threshold the 1 no longer matters and the sum is carried scaled.
        double term = 1, tail = 0, logScale = 0;
        var satisfied = 0;
        for (var j = 0; j < MaxTerms; j++)
        {
            var ratio = (a + j) * (b + j) / ((c + j) * (j + 1)) * z;
            term *= ratio;
            tail += term;
            if (tail > RescaleThreshold)
            {
                term *= Rescale;
                tail *= Rescale;
                logScale += LogRescale;
            }

            // Once the ratios are below 1 they tend to z; the larger of the current ratio and z bounds the next few,
            // and two consecutive passes guard against a ratio that is still turning.
            var bound = Math.Max(ratio, z);
            var sum = logScale == 0 ? 1 + tail : tail;
            if (bound < 1 && term * bound / (1 - bound) <= Tolerance * sum)
            {
                if (++satisfied == 2)
                {
                    return logScale == 0 ? LogSpace.Log1p(tail) : logScale + Math.Log(tail);
                }
            }
            else
            {
                satisfied = 0;
            }
        }

        throw NotConverged(a, b, c, z);
    }

    /// <summary>
    /// ln 2F1(a, b; a + 1; z) and its partial derivatives in a, b and z, for 0 &lt; b &lt; a + 1 and 0 ≤ z &lt; 1: the form
    /// in the Pareto/NBD likelihood (Fader &amp; Hardie 2005, "A Note on Deriving the Pareto/NBD Model", eqs. 19–20),
    /// where a = r+s+x and b is s+1 or r+x, so a + 1 − b is r+x or s+1, always positive.
    /// </summary>
    /// <remarks>
    /// Summed after Euler's transformation 2F1(a, b; c; z) = (1 − z)^(c−a−b) 2F1(c − a, c − b; c; z), which with c = a + 1
    /// gives (1 − z)^(1−b) 2F1(1, a + 1 − b; a + 1; z). With a + 1 − b &gt; 0 every term of the new series is positive and
    /// less than z times the one before, so it starts at 1 and only shrinks (no overflow, however large a or b), and
    /// the whole remaining tail is at most term·z/(1 − z).
    /// </remarks>
    public static HypergeometricValue Log2F1APlusOne(double a, double b, double z, bool withDerivatives)
    {
        if (!(a > 0 && b > 0 && b < a + 1))
        {
            throw new ArgumentOutOfRangeException(nameof(b), $"2F1(a, b; a+1; z) is summed here for 0 < b < a + 1; got a = {a}, b = {b}.");
        }

        if (!(z >= 0 && z < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(z), z, "2F1 is summed here only for 0 <= z < 1.");
        }

        var cPrime = a + 1 - b;
        var d = a + 1;
        double term = 1, tail = 0;
        double sumH1 = 0, sumH2 = 0, sumJ = 0;
        double h1 = 0, h2 = 0;
        var oneMinusZ = 1 - z;
        var converged = false;
        for (var j = 1; !converged && j < MaxTerms; j++)
        {
            // u is term_j / z, which keeps the z-derivative finite at z = 0.
            var u = term * (cPrime + j - 1) / (d + j - 1);
            term = u * z;
            tail += term;
            if (withDerivatives)
            {
                h1 += 1 / (cPrime + j - 1);
                h2 += 1 / (d + j - 1);
                sumH1 += term * h1;
                sumH2 += term * h2;
                sumJ += j * u;
            }

            // The tail of Σ term is at most term·z/(1−z); the derivative sums weigh terms by up to j (and log j), so
            // the bound is widened by j + 1/(1−z) to cover them too.
            converged = term * z / oneMinusZ * (j + (1 / oneMinusZ)) <= Tolerance * (1 + tail);
        }

        if (!converged)
        {
            throw NotConverged(a, b, a + 1, z);
        }

        var logOneMinusZ = LogSpace.Log1p(-z);
        var value = ((1 - b) * logOneMinusZ) + LogSpace.Log1p(tail);
        if (!withDerivatives)
        {
            return new HypergeometricValue(value, 0, 0, 0);
        }

        // ln S depends on c' = a + 1 − b and d = a + 1: d/dc' = Σ term·H1 / S, d/dd = −Σ term·H2 / S.
        var sum = 1 + tail;
        var dByCPrime = sumH1 / sum;
        var dByD = -sumH2 / sum;
        return new HypergeometricValue(
            value,
            ByA: dByCPrime + dByD,
            ByB: -logOneMinusZ - dByCPrime,
            ByZ: (-(1 - b) / oneMinusZ) + (sumJ / sum));
    }

    private static SeriesNotConvergedException NotConverged(double a, double b, double c, double z) =>
        new(string.Create(
            CultureInfo.InvariantCulture,
            $"The 2F1({a:G6}, {b:G6}; {c:G6}; {z:R}) series did not converge within {MaxTerms:N0} terms; z is too close to 1 for a power series."));
}

/// <summary>ln 2F1 and, when asked for, its partial derivatives in the series' a, b and z.</summary>
public readonly record struct HypergeometricValue(double Log, double ByA, double ByB, double ByZ);
