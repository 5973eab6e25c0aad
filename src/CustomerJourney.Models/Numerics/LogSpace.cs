namespace CustomerJourney.Models.Numerics;

/// <summary>
/// Sums and differences of numbers held as logarithms. The likelihoods multiply gamma functions and powers that overflow
/// a double long before the answer does, so every model works with logs and combines terms here.
/// </summary>
public static class LogSpace
{
    /// <summary>log(e^a + e^b), exact for large and tiny terms alike.</summary>
    public static double AddExp(double a, double b)
    {
        if (double.IsNegativeInfinity(a))
        {
            return b;
        }

        if (double.IsNegativeInfinity(b))
        {
            return a;
        }

        return a >= b ? a + Log1p(Math.Exp(b - a)) : b + Log1p(Math.Exp(a - b));
    }

    /// <summary>log(1 − e^d) for d ≤ 0, switching form at −ln 2 so that neither branch loses digits (Mächler 2012).</summary>
    public static double Log1mExp(double d)
    {
        if (d > 0)
        {
            return double.NaN;
        }

        return d > -0.6931471805599453 ? Math.Log(-Expm1(d)) : Log1p(-Math.Exp(d));
    }

    /// <summary>log(1 + x), accurate to a few ulps near 0 where Math.Log(1 + x) loses digits.</summary>
    /// <remarks>
    /// Kahan's correction: with u = fl(1 + x), log(u)·x/(u − 1) cancels the rounding of 1 + x. .NET's double.LogP1 is
    /// Math.Log(x + 1), and MathNet's Expm1 keeps only a few Taylor terms (≈1e-11 relative error at −0.01), so both are
    /// written here.
    /// </remarks>
    public static double Log1p(double x)
    {
        var u = 1 + x;
        return u == 1 ? x : Math.Log(u) * x / (u - 1);
    }

    /// <summary>e^x − 1, accurate to a few ulps near 0 (Kahan's correction, as in <see cref="Log1p"/>).</summary>
    public static double Expm1(double x)
    {
        if (x > 50)
        {
            return Math.Exp(x);
        }

        if (x < -40)
        {
            return -1;
        }

        var u = Math.Exp(x);
        if (u == 1)
        {
            return x;
        }

        var um1 = u - 1;
        return um1 == -1 ? -1 : um1 * x / Math.Log(u);
    }

    /// <summary>(1 − e^(−k·L)) / k, with its limit L at k = 0: the integral of e^(−k·u) over [0, L].</summary>
    /// <remarks>The Pareto/NBD expectations divide by s − 1, which is 0 for s = 1; this keeps them finite and exact there.</remarks>
    public static double OneMinusExpOverRate(double k, double length)
    {
        var kl = k * length;
        return Math.Abs(kl) < 1e-8 ? length * (1 - (kl / 2)) : -Expm1(-kl) / k;
    }
}
