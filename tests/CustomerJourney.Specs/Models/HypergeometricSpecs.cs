using CustomerJourney.Models.Numerics;

namespace CustomerJourney.Specs.Models;

public sealed class HypergeometricSpecs
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(0.999)]
    public void The_series_matches_closed_forms(double z)
    {
        // 2F1(1, 1; 2; z) = −ln(1 − z)/z; 2F1(a, b; b; z) = (1 − z)^−a; 2F1(1/2, 1/2; 3/2; z²) = asin(z)/z.
        var logOfLog = z == 0 ? 0 : Math.Log(-Math.Log(1 - z) / z);
        Assert.Equal(logOfLog, Hypergeometric.Log2F1(1, 1, 2, z), 12);
        Assert.Equal(-2.5 * Math.Log(1 - z), Hypergeometric.Log2F1(2.5, 3.7, 3.7, z), 11);
        var root = Math.Sqrt(z);
        Assert.Equal(z == 0 ? 0 : Math.Log(Math.Asin(root) / root), Hypergeometric.Log2F1(0.5, 0.5, 1.5, z), 12);
    }

    [Fact]
    public void Large_parameters_whose_terms_grow_before_they_shrink_neither_overflow_nor_lose_the_sum()
    {
        // 2F1(a, b; b; z) = (1 − z)^−a even when a = 900 makes the terms pass 1e300 on the way.
        Assert.Equal(-900 * Math.Log(1 - 0.8), Hypergeometric.Log2F1(900, 40, 40, 0.8), 8);
    }

    [Theory]
    [InlineData(1.2, 1.6, 0.09)]
    [InlineData(30.5, 0.8, 0.5)]
    [InlineData(25, 0.7, 0.95)]
    [InlineData(2, 2.9, 0.95)]
    [InlineData(3, 3.5, 0.0)]
    public void The_special_form_with_c_equal_a_plus_one_agrees_with_the_general_series(double a, double b, double z)
    {
        Assert.Equal(Hypergeometric.Log2F1(a, b, a + 1, z), Hypergeometric.Log2F1APlusOne(a, b, z, withDerivatives: false).Log, 11);
    }

    [Theory]
    [InlineData(1.2, 1.6, 0.09)]
    [InlineData(30.5, 0.8, 0.5)]
    [InlineData(25, 0.7, 0.95)]
    [InlineData(2, 2.9, 0.95)]
    [InlineData(3, 3.9, 0.001)]
    public void The_special_forms_derivatives_match_finite_differences(double a, double b, double z)
    {
        var analytic = Hypergeometric.Log2F1APlusOne(a, b, z, withDerivatives: true);
        var numerical = FiniteDifferences.Gradient(p => Hypergeometric.Log2F1APlusOne(p[0], p[1], p[2], false).Log, [a, b, z]);

        FiniteDifferences.AssertClose(numerical, [analytic.ByA, analytic.ByB, analytic.ByZ], 1e-7);
    }

    [Fact]
    public void The_derivative_in_z_is_finite_at_zero()
    {
        // d/dz ln 2F1(a, b; a+1; z) at 0 is ab/(a+1).
        Assert.Equal(3.0 * 2 / 4, Hypergeometric.Log2F1APlusOne(3, 2, 0, withDerivatives: true).ByZ, 12);
    }

    [Fact]
    public void A_series_too_close_to_one_fails_clearly_instead_of_returning_a_partial_sum()
    {
        var error = Assert.Throws<SeriesNotConvergedException>(() => Hypergeometric.Log2F1APlusOne(2, 1.5, 1 - 1e-9, withDerivatives: false));
        Assert.Contains("did not converge", error.Message, StringComparison.Ordinal);
        Assert.Throws<SeriesNotConvergedException>(() => Hypergeometric.Log2F1(0.5, 0.5, 0.5, 1 - 1e-9));
    }

    [Fact]
    public void Arguments_outside_the_summed_range_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Hypergeometric.Log2F1(1, 1, 2, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Hypergeometric.Log2F1(1, 1, 2, -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Hypergeometric.Log2F1(1, 1, -0.5, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Hypergeometric.Log2F1APlusOne(1, 0, 0.5, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => Hypergeometric.Log2F1APlusOne(1, 2, 0.5, false));
    }
}
