namespace CustomerJourney.Specs.Models;

/// <summary>Numerical derivatives to check the analytic gradients against.</summary>
internal static class FiniteDifferences
{
    /// <summary>
    /// ∂f/∂p_k by central differences with relative steps h and h/2, combined by Richardson extrapolation so that the
    /// truncation error is O(h⁴) while the step stays large enough for rounding not to matter.
    /// </summary>
    public static double[] Gradient(Func<double[], double> f, double[] parameters, double relativeStep = 1e-3)
    {
        var gradient = new double[parameters.Length];
        for (var k = 0; k < parameters.Length; k++)
        {
            var wide = Central(f, parameters, k, relativeStep * parameters[k]);
            var narrow = Central(f, parameters, k, relativeStep * parameters[k] / 2);
            gradient[k] = ((4 * narrow) - wide) / 3;
        }

        return gradient;
    }

    /// <summary>Asserts that every component agrees to a relative tolerance, measured against the gradient's largest component.</summary>
    public static void AssertClose(double[] expected, double[] actual, double relativeTolerance)
    {
        var scale = Math.Max(expected.Max(Math.Abs), 1e-8);
        for (var k = 0; k < expected.Length; k++)
        {
            Assert.True(
                Math.Abs(expected[k] - actual[k]) <= relativeTolerance * scale,
                $"component {k}: numerical {expected[k]:R} vs analytic {actual[k]:R}");
        }
    }

    private static double Central(Func<double[], double> f, double[] parameters, int k, double h)
    {
        var up = (double[])parameters.Clone();
        var down = (double[])parameters.Clone();
        up[k] += h;
        down[k] -= h;
        return (f(up) - f(down)) / (2 * h);
    }
}
