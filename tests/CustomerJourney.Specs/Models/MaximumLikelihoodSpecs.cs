using CustomerJourney.Models;
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
        Assert.Equal(FitStop.Converged, outcome.Report.Reason);
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
        Assert.Equal(FitStop.NoProgress, outcome.Report.Reason);
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
        Assert.Equal(FitStop.ParameterBound, outcome.Report.Reason);
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
        // It circles the kink until the iteration cap: that is the reason it gives.
        Assert.Equal(FitStop.IterationLimit, outcome.Report.Reason);
    }

    [Fact]
    public void A_likelihood_that_cannot_be_evaluated_anywhere_is_reported_as_such()
    {
        static double Broken(ReadOnlySpan<double> theta, Span<double> gradient) =>
            throw new SeriesNotConvergedException("always");

        var outcome = MaximumLikelihood.Maximise(Broken, [[0.0, 0.0]], Names, customers: 10);

        Assert.False(outcome.Report.Converged);
        Assert.Contains("could not be evaluated", outcome.Report.Diagnosis, StringComparison.Ordinal);
        Assert.Equal(FitStop.NonFiniteLikelihood, outcome.Report.Reason);
    }

    // A valley that narrows without end: (θ₀ − θ₁²)² + 10⁻⁶ θ₁⁴, whose optimum at 0 the quasi-Newton steps approach ever
    // more slowly along the curved floor, so a handful of iterations never meets the tolerance.
    private static double CurvedValley(ReadOnlySpan<double> theta, Span<double> gradient)
    {
        var (u, v) = (theta[0], theta[1]);
        var floor = u - (v * v);
        gradient[0] = 2 * floor;
        gradient[1] = (-4 * v * floor) + (4e-6 * v * v * v);
        return (floor * floor) + (1e-6 * v * v * v * v);
    }

    [Fact]
    public void A_likelihood_that_does_not_converge_stops_at_the_iteration_cap_and_says_so()
    {
        var outcome = MaximumLikelihood.Maximise(CurvedValley, [[9.0, 3.0]], Names, customers: 10, new FitLimits(3, TimeSpan.FromMinutes(1)));

        Assert.False(outcome.Report.Converged);
        Assert.Equal(FitStop.IterationLimit, outcome.Report.Reason);
        Assert.InRange(outcome.Report.Iterations, 0, 3);
    }

    [Fact]
    public void A_spent_time_budget_stops_the_fit_before_it_evaluates_again()
    {
        var evaluations = 0;
        double Counted(ReadOnlySpan<double> theta, Span<double> gradient)
        {
            evaluations++;
            return Bowl(theta, gradient);
        }

        var outcome = MaximumLikelihood.Maximise(Counted, [[3.0, 2.0]], Names, customers: 10, new FitLimits(1000, TimeSpan.Zero));

        Assert.False(outcome.Report.Converged);
        Assert.Equal(FitStop.TimeBudget, outcome.Report.Reason);
        Assert.Contains("time budget", outcome.Report.Diagnosis, StringComparison.Ordinal);
        Assert.Equal(0, outcome.Report.Evaluations);
        Assert.Equal(0, evaluations);
    }

    [Fact]
    public void Cancelling_stops_the_fit_at_its_next_evaluation_and_reports_the_best_point_so_far()
    {
        using var caller = new CancellationTokenSource();
        var evaluations = 0;
        double CancelledOnTheThird(ReadOnlySpan<double> theta, Span<double> gradient)
        {
            if (++evaluations == 3)
            {
                caller.Cancel();
            }

            return CurvedValley(theta, gradient);
        }

        var outcome = MaximumLikelihood.Maximise(CancelledOnTheThird, [[9.0, 3.0]], Names, customers: 10, new FitLimits(1000, TimeSpan.FromMinutes(1), caller.Token));

        Assert.False(outcome.Report.Converged);
        Assert.Equal(FitStop.Cancelled, outcome.Report.Reason);
        Assert.Equal(3, outcome.Report.Evaluations);
        Assert.True(double.IsFinite(outcome.Report.LogLikelihood));
    }

    [Fact]
    public void A_start_cut_short_makes_the_whole_fit_unconverged_even_when_another_start_converged()
    {
        using var caller = new CancellationTokenSource();
        var onTheFarStart = 0;
        double Bowl2(ReadOnlySpan<double> theta, Span<double> gradient)
        {
            // Only the start at (−11, 10) cancels, at its first evaluation; the other start may well converge.
            if (theta[0] < -8 && Interlocked.Increment(ref onTheFarStart) == 1)
            {
                caller.Cancel();
            }

            return Bowl(theta, gradient);
        }

        var outcome = MaximumLikelihood.Maximise(Bowl2, [[3.0, 2.0], [-11.0, 10.0]], Names, customers: 10, new FitLimits(1000, TimeSpan.FromMinutes(1), caller.Token));

        Assert.False(outcome.Report.Converged);
        Assert.Equal(FitStop.Cancelled, outcome.Report.Reason);
    }
}
