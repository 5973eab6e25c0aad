using CustomerJourney.Models.Numerics;

namespace CustomerJourney.Specs.Models;

/// <summary>How the optimiser wrapper judges convergence, on objectives whose answer is known.</summary>
public sealed class MaximumLikelihoodSpecs
{
    private static readonly string[] Names = ["u", "v"];

    // Mean negative log-likelihood (θ₀ − 1)² + 2(θ₁ + 0.5)²: its optimum is at θ = (1, −0.5).
    private static double Bowl(ReadOnlySpan<double> theta, Span<double> gradient)
    {
        gradient[0] = 2 * (theta[0] - 1);
        gradient[1] = 4 * (theta[1] + 0.5);
        return ((theta[0] - 1) * (theta[0] - 1)) + (2 * (theta[1] + 0.5) * (theta[1] + 0.5));
    }

    [Fact]
    public void An_interior_optimum_reached_from_elsewhere_is_converged()
    {
        var outcome = MaximumLikelihood.Maximise(Bowl, [[3.0, 2.0], [-2.0, 0.0]], Names, customers: 10);

        Assert.True(outcome.Report.Converged, outcome.Report.Diagnosis);
        Assert.Equal(1.0, outcome.Theta[0], 6);
        Assert.Equal(-0.5, outcome.Theta[1], 6);
        Assert.Equal(0.0, outcome.Report.LogLikelihood, 9);
        Assert.Equal(2, outcome.Report.Starts);
    }

    [Fact]
    public void Stopping_at_the_start_is_not_convergence_even_at_the_optimum()
    {
        var outcome = MaximumLikelihood.Maximise(Bowl, [[1.0, -0.5]], Names, customers: 10);

        Assert.False(outcome.Report.Converged);
        Assert.Contains("starting point", outcome.Report.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void An_optimum_beyond_a_bound_is_not_convergence()
    {
        // The slope keeps falling as θ₀ grows, so the optimiser ends on the upper bound.
        static double Slope(ReadOnlySpan<double> theta, Span<double> gradient)
        {
            gradient[0] = -1;
            gradient[1] = 2 * theta[1];
            return -theta[0] + (theta[1] * theta[1]);
        }

        var outcome = MaximumLikelihood.Maximise(Slope, [[0.0, 1.0]], Names, customers: 10);

        Assert.False(outcome.Report.Converged);
        Assert.Contains("bound", outcome.Report.Diagnosis, StringComparison.Ordinal);
        Assert.Contains("u", outcome.Report.Diagnosis, StringComparison.Ordinal);
        Assert.Equal(MaximumLikelihood.UpperLog, outcome.Theta[0], 9);
    }

    [Fact]
    public void Stopping_short_of_the_gradient_tolerance_is_not_convergence()
    {
        // |θ₀| + θ₁² has a kink at its optimum: the gradient never falls below 1 in θ₀, so no stop meets the tolerance.
        static double Kink(ReadOnlySpan<double> theta, Span<double> gradient)
        {
            gradient[0] = theta[0] >= 0 ? 1 : -1;
            gradient[1] = 2 * theta[1];
            return Math.Abs(theta[0]) + (theta[1] * theta[1]);
        }

        var outcome = MaximumLikelihood.Maximise(Kink, [[0.3, 0.7]], Names, customers: 10);

        Assert.False(outcome.Report.Converged);
        Assert.Contains("above the tolerance", outcome.Report.Diagnosis, StringComparison.Ordinal);
    }

    [Fact]
    public void A_likelihood_that_cannot_be_evaluated_anywhere_is_reported_as_such()
    {
        static double Broken(ReadOnlySpan<double> theta, Span<double> gradient) =>
            throw new SeriesNotConvergedException("always");

        var outcome = MaximumLikelihood.Maximise(Broken, [[0.0, 0.0]], Names, customers: 10);

        Assert.False(outcome.Report.Converged);
        Assert.Contains("could not be evaluated", outcome.Report.Diagnosis, StringComparison.Ordinal);
    }
}
