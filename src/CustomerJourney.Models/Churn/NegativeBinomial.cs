using CustomerJourney.Models.Numerics;
using static MathNet.Numerics.SpecialFunctions;

namespace CustomerJourney.Models.Churn;

/// <summary>
/// The NBD both models share while a customer is active: Poisson purchases at rate λ ~ Gamma(r, α) over a time t give
/// x purchases with probability Γ(r+x)/(Γ(r) x!) (α/(α+t))^r (t/(α+t))^x (Fader, Hardie &amp; Lee 2005, eq. 3).
/// </summary>
internal static class NegativeBinomial
{
    /// <summary>ln P(x purchases in t) for t &gt; 0.</summary>
    /// <remarks>For x = 0 only the last term is left, taken alone because GammaLn(1) is not exactly 0.</remarks>
    public static double LogProbability(double r, double alpha, int x, double t) =>
        x == 0
            ? -r * LogSpace.Log1p(t / alpha)
            : GammaLn(r + x) - GammaLn(r) - GammaLn(x + 1.0) - (r * LogSpace.Log1p(t / alpha)) - (x * LogSpace.Log1p(alpha / t));

    /// <summary>
    /// P(at least x purchases in t) = 1 − (α/(α+t))^r Σ_{j&lt;x} Γ(r+j)/(Γ(r) j!) (t/(α+t))^j, which is the regularized
    /// incomplete beta I_{t/(α+t)}(x, r); evaluated as the latter, a small tail does not vanish in the subtraction.
    /// </summary>
    public static double AtLeast(double r, double alpha, int x, double t) =>
        x == 0 ? 1 : BetaRegularized(x, r, t / (alpha + t));
}
