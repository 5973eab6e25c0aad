using CustomerJourney.Models.Numerics;

namespace CustomerJourney.Specs.Models;

public sealed class LogSpaceSpecs
{
    // Reference values from mpmath 1.3 at 30 digits.
    [Theory]
    [InlineData(-0.01, -0.0100503358535014411835)]
    [InlineData(1e-10, 9.9999999995e-11)]
    [InlineData(0.5, 0.405465108108164381978)]
    [InlineData(-0.999, -6.90775527898213705205)]
    public void Log1p_is_accurate_to_the_last_digits(double x, double expected) =>
        Assert.True(Math.Abs(LogSpace.Log1p(x) - expected) <= 4e-16 * Math.Abs(expected));

    [Theory]
    [InlineData(-0.01, -0.00995016625083194642609)]
    [InlineData(1e-10, 1.00000000005e-10)]
    [InlineData(0.7, 1.01375270747047652162)]
    [InlineData(-5, -0.993262053000914532903)]
    [InlineData(60, 1.14200738981568428e26)]
    [InlineData(-50, -1.0)]
    public void Expm1_is_accurate_to_the_last_digits(double x, double expected) =>
        Assert.True(Math.Abs(LogSpace.Expm1(x) - expected) <= 4e-16 * Math.Abs(expected));

    [Fact]
    public void Sums_of_logs_neither_overflow_nor_lose_the_smaller_term()
    {
        Assert.Equal(1000 + Math.Log(2), LogSpace.AddExp(1000, 1000), 12);
        Assert.True(Math.Abs(LogSpace.AddExp(0, Math.Log(1e-20)) - 1e-20) <= 1e-34);
        Assert.Equal(5.0, LogSpace.AddExp(5, double.NegativeInfinity));
        Assert.Equal(Math.Log(1 - Math.Exp(-3.0)), LogSpace.Log1mExp(-3), 15);
        Assert.Equal(Math.Log(1e-10), LogSpace.Log1mExp(-1e-10), 6);
    }

    [Fact]
    public void The_s_equal_one_limit_of_the_pareto_expectation_is_continuous()
    {
        Assert.Equal(2.0, LogSpace.OneMinusExpOverRate(0, 2), 15);
        Assert.Equal(LogSpace.OneMinusExpOverRate(1e-7, 2), LogSpace.OneMinusExpOverRate(0, 2), 6);
        Assert.Equal((1 - Math.Exp(-1.0)) / 0.5, LogSpace.OneMinusExpOverRate(0.5, 2), 14);
    }
}
