using System.Diagnostics;
using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

namespace CustomerJourney.Models.Numerics;

/// <summary>
/// Maximises a log-likelihood over log-parameters (so every parameter stays positive) from several starting points with
/// MathNet's bounded BFGS, then judges convergence itself from the gradient rather than from the optimiser's exit code.
/// </summary>
internal static class MaximumLikelihood
{
    /// <summary>Mean negative log-likelihood per customer at log-parameters θ, writing ∂/∂θ into gradient.</summary>
    internal delegate double Objective(ReadOnlySpan<double> theta, Span<double> gradient);

    /// <summary>Bounds on each log-parameter: e^±11.5 ≈ 1e-5 … 1e5, wide for weekly or daily time units alike.</summary>
    internal const double LowerLog = -11.5;

    internal const double UpperLog = 11.5;

    /// <summary>Largest |∂(mean LL)/∂θ| accepted as a stationary point.</summary>
    internal const double GradientTolerance = 1e-6;

    internal sealed record Outcome(double[] Theta, double MeanNegativeLogLikelihood, FitReport Report);

    /// <summary>A total log-likelihood at natural parameters, writing its gradient in those parameters.</summary>
    internal delegate double TotalLogLikelihood(double[] parameters, double[] gradient);

    /// <summary>
    /// The objective the optimiser minimises, from a total log-likelihood over natural parameters: the mean negative
    /// log-likelihood over log-parameters θ, whose gradient follows by the chain rule ∂/∂θ = p · ∂/∂p.
    /// </summary>
    internal static Objective OverLogParameters(TotalLogLikelihood logLikelihood, int customers) => (theta, gradient) =>
    {
        var parameters = new double[theta.Length];
        for (var i = 0; i < theta.Length; i++)
        {
            parameters[i] = Math.Exp(theta[i]);
        }

        var natural = new double[theta.Length];
        var value = logLikelihood(parameters, natural);
        for (var i = 0; i < theta.Length; i++)
        {
            gradient[i] = -natural[i] * parameters[i] / customers;
        }

        return -value / customers;
    };

    internal static Outcome Maximise(
        Objective objective, IReadOnlyList<double[]> starts, IReadOnlyList<string> names, int customers, FitLimits? limits = null)
    {
        var budget = new Budget(limits ?? FitLimits.Default);

        // The starts are independent, so they run side by side (two cores halve a fit) and the winner is the one a
        // sequential run would pick: outcomes keep the starts' order.
        var outcomes = new Outcome[starts.Count];
        var counts = new int[starts.Count];
        Parallel.For(0, starts.Count, i => outcomes[i] = FromStart(objective, starts[i], names, customers, budget, out counts[i]));
        var evaluations = counts.Sum();

        // The highest likelihood wins. A converged start within rounding of it is preferred, so one start that stopped a
        // hair higher without meeting the tolerance does not hide a good optimum; but a start that found a clearly
        // higher likelihood (say on a bound) wins even unconverged, since the interior optimum is then only local.
        var best = outcomes.MinBy(o => o.MeanNegativeLogLikelihood)!;
        var bestConverged = outcomes.Where(o => o.Report.Converged).MinBy(o => o.MeanNegativeLogLikelihood);
        if (bestConverged is not null && bestConverged.MeanNegativeLogLikelihood - best.MeanNegativeLogLikelihood <= 1e-9)
        {
            best = bestConverged;
        }
        else if (bestConverged is not null)
        {
            var local = string.Create(CultureInfo.InvariantCulture, $"; another start converged to a lower log-likelihood, {bestConverged.Report.LogLikelihood:F3}");
            best = best with { Report = best.Report with { Diagnosis = best.Report.Diagnosis + local } };
        }

        // A search cut short anywhere is not a finished search: another start might have gone higher.
        if (outcomes.FirstOrDefault(o => o.Report.Reason is FitStop.Cancelled or FitStop.TimeBudget) is { } cut && best != cut)
        {
            best = best with { Report = best.Report with { Converged = false, Reason = cut.Report.Reason, Diagnosis = cut.Report.Diagnosis } };
        }

        return best with { Report = best.Report with { Evaluations = evaluations, Starts = starts.Count } };
    }

    private static Outcome FromStart(
        Objective objective, double[] start, IReadOnlyList<string> names, int customers, Budget budget, out int evaluations)
    {
        var n = start.Length;
        var bestTheta = (double[])start.Clone();
        var bestValue = double.PositiveInfinity;
        var count = 0;

        // The optimiser can throw (iteration cap, failed line search, a spent budget) and then reports nothing: remember
        // the best point it evaluated, so a stop short of tolerance still reports where it got to.
        (double, Vector<double>) Evaluate(Vector<double> point)
        {
            budget.ThrowIfSpent();
            count++;
            var theta = point.ToArray();
            var gradient = new double[n];
            double value;
            try
            {
                value = objective(theta, gradient);
            }
            catch (SeriesNotConvergedException)
            {
                value = double.PositiveInfinity;
            }

            if (!double.IsFinite(value) || gradient.Any(g => !double.IsFinite(g)))
            {
                // A region the likelihood cannot be evaluated in: a huge value makes the line search step back.
                return (double.MaxValue / 4, Vector<double>.Build.Dense(n, 0));
            }

            if (value < bestValue)
            {
                bestValue = value;
                bestTheta = theta;
            }

            // On a bound, MathNet's own tolerances (far tighter than ours) can keep it stepping along the bound for thousands
            // of evaluations when the likelihood keeps rising beyond it (Pareto/NBD with s and β heading to infinity together).
            // A point on a bound cannot converge anyway, so once nothing but the bound holds it there, this start is done.
            if (value <= bestValue && StationaryOnBound(theta, gradient))
            {
                throw new StationaryOnBoundException();
            }

            return (value, Vector<double>.Build.DenseOfArray(gradient));
        }

        var iterations = 0;
        string? stopped = null;
        string? reason = null;
        try
        {
            var minimizer = new BfgsBMinimizer(1e-10, 1e-12, 1e-15, budget.Limits.MaxIterations);
            var result = minimizer.FindMinimum(
                ObjectiveFunction.Gradient(Evaluate),
                Vector<double>.Build.Dense(n, LowerLog),
                Vector<double>.Build.Dense(n, UpperLog),
                Vector<double>.Build.DenseOfArray(start));
            iterations = result.Iterations;
        }
        catch (MaximumIterationsException e)
        {
            (stopped, reason) = (e.Message, FitStop.IterationLimit);
        }
        catch (Exception e) when (Find<StationaryOnBoundException>(e) is { } bound)
        {
            stopped = bound.Message;
        }
        catch (Exception e) when (Find<BudgetSpentException>(e) is { } spent)
        {
            (stopped, reason) = (spent.Message, spent.Reason);
        }
        catch (InnerOptimizationException e)
        {
            stopped = e.Message;
        }
        catch (EvaluationException e)
        {
            stopped = e.Message;
        }

        evaluations = count;
        return Judge(objective, start, bestTheta, bestValue, names, customers, iterations, stopped, reason, count);
    }

    // MathNet may wrap what the objective threw; our own stops are found wherever they sit in the chain.
    private static T? Find<T>(Exception? e)
        where T : Exception
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }

        return null;
    }

    // At least one coordinate on a bound, and every component of the gradient that could still move the point (not one
    // pushing against its bound) within the tolerance.
    private static bool StationaryOnBound(double[] theta, double[] gradient)
    {
        var onBound = false;
        for (var i = 0; i < theta.Length; i++)
        {
            var atLower = theta[i] <= LowerLog;
            var atUpper = theta[i] >= UpperLog;
            onBound |= atLower || atUpper;
            var held = (atLower && gradient[i] > 0) || (atUpper && gradient[i] < 0);
            if (!held && Math.Abs(gradient[i]) > GradientTolerance)
            {
                return false;
            }
        }

        return onBound;
    }

    private static Outcome Judge(
        Objective objective, double[] start, double[] theta, double value, IReadOnlyList<string> names, int customers, int iterations,
        string? stopped, string? reason, int evaluations)
    {
        var gradient = new double[theta.Length];
        if (double.IsFinite(value))
        {
            value = objective(theta, gradient);
        }

        var gradientNorm = gradient.Max(Math.Abs);
        var onBound = Enumerable.Range(0, theta.Length)
            .Where(i => theta[i] <= LowerLog + 1e-6 || theta[i] >= UpperLog - 1e-6)
            .Select(i => names[i])
            .ToList();
        var moved = theta.Zip(start).Any(p => Math.Abs(p.First - p.Second) > 1e-9);

        string diagnosis;
        bool converged;
        if (reason is FitStop.Cancelled or FitStop.TimeBudget)
        {
            // Whatever the gradient says there, the search was cut short.
            (converged, diagnosis) = (false, string.Create(
                CultureInfo.InvariantCulture,
                $"{stopped}, after {evaluations} likelihood evaluations{(double.IsFinite(value) ? $", with gradient {gradientNorm:G3} at the best point reached" : "")}"));
        }
        else if (!double.IsFinite(value))
        {
            (converged, diagnosis, reason) = (false, "the likelihood could not be evaluated at any point the optimiser tried", FitStop.NonFiniteLikelihood);
        }
        else if (onBound.Count > 0)
        {
            (converged, diagnosis, reason) = (false, $"stopped on the bound e^±{UpperLog} of {string.Join(", ", onBound)}: the data do not pin it down", FitStop.ParameterBound);
        }
        else if (!moved)
        {
            (converged, diagnosis, reason) = (false, "never left its starting point", FitStop.NoProgress);
        }
        else if (gradientNorm > GradientTolerance)
        {
            (converged, diagnosis) = (false, string.Create(
                CultureInfo.InvariantCulture,
                $"stopped with gradient {gradientNorm:G3} above the tolerance {GradientTolerance:G1}{(stopped is null ? "" : $" ({stopped})")}"));
            reason ??= FitStop.GradientAboveTolerance;
        }
        else
        {
            // MathNet may end with a failed line search (or its iteration cap) right at the optimum; the gradient test is what counts.
            (converged, diagnosis, reason) = (true, string.Create(
                CultureInfo.InvariantCulture,
                $"gradient {gradientNorm:G3} within tolerance {(stopped is null ? $"after {iterations} iterations" : $"where the optimiser stopped ({stopped})")}"),
                FitStop.Converged);
        }

        var report = new FitReport(customers, -value * customers, converged, diagnosis, gradientNorm, iterations, 0, 0, reason);
        return new Outcome(theta, value, report);
    }

    /// <summary>The fit's limits, shared by its starts: cancellation and the time budget are checked before every evaluation.</summary>
    private sealed class Budget(FitLimits limits)
    {
        private readonly long started = Stopwatch.GetTimestamp();

        public FitLimits Limits => limits;

        public void ThrowIfSpent()
        {
            if (limits.Cancellation.IsCancellationRequested)
            {
                throw new BudgetSpentException(FitStop.Cancelled, "cancelled by the caller");
            }

            if (Stopwatch.GetElapsedTime(started) > limits.TimeBudget)
            {
                throw new BudgetSpentException(
                    FitStop.TimeBudget, string.Create(CultureInfo.InvariantCulture, $"stopped by its time budget of {limits.TimeBudget.TotalSeconds:G4} s"));
            }
        }
    }

    private sealed class StationaryOnBoundException() : Exception("stationary on a parameter bound");

    private sealed class BudgetSpentException(string reason, string message) : Exception(message)
    {
        public string Reason { get; } = reason;
    }
}
