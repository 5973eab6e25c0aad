namespace CustomerJourney.Models;

/// <summary>A fitted model with the report of how its fit ended; check <see cref="Converged"/> before using it.</summary>
public sealed record ModelFit<TModel>(TModel Model, FitReport Report)
{
    public double LogLikelihood => Report.LogLikelihood;

    public bool Converged => Report.Converged;
}

/// <summary>How a maximum-likelihood fit ended.</summary>
/// <param name="Customers">How many customers the likelihood covered.</param>
/// <param name="LogLikelihood">The total log-likelihood at the reported parameters.</param>
/// <param name="Converged">
/// True only when the gradient met the tolerance at an interior point the optimiser reached by moving: false when it
/// stopped on a parameter bound, never left its start, or stopped (iteration cap, time budget, cancellation, failed line
/// search) short of tolerance.
/// </param>
/// <param name="Diagnosis">One sentence on why <paramref name="Converged"/> is what it is.</param>
/// <param name="GradientNorm">Largest |∂(mean log-likelihood)/∂(log parameter)| at the reported point.</param>
/// <param name="Iterations">Quasi-Newton iterations of the winning start (0 when the optimiser ended with an exception).</param>
/// <param name="Evaluations">Likelihood evaluations over all starts.</param>
/// <param name="Starts">How many starting points were tried.</param>
/// <param name="Reason">Why the fit stopped, as one of <see cref="FitStop"/>'s words: what a caller can branch on.</param>
public sealed record FitReport(
    int Customers,
    double LogLikelihood, bool Converged, string Diagnosis, double GradientNorm, int Iterations, int Evaluations, int Starts,
    string Reason = FitStop.Converged);

/// <summary>The reasons a fit stops, as the answer and the stored model spell them.</summary>
public static class FitStop
{
    public const string Converged = "converged";

    /// <summary>The optimiser used up <see cref="FitLimits.MaxIterations"/> without meeting the tolerance.</summary>
    public const string IterationLimit = "iteration limit";

    /// <summary>The fit ran out of <see cref="FitLimits.TimeBudget"/>; it reports the best point it had reached.</summary>
    public const string TimeBudget = "time budget";

    /// <summary>The caller cancelled (a request that went away); the best point so far is reported.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>The likelihood was infinite or not a number everywhere the optimiser looked.</summary>
    public const string NonFiniteLikelihood = "non-finite likelihood";

    /// <summary>The best point is on a parameter bound: the data do not pin that parameter down.</summary>
    public const string ParameterBound = "parameter bound";

    /// <summary>The optimiser never left its starting point.</summary>
    public const string NoProgress = "no progress";

    /// <summary>The optimiser stopped (a failed line search) with the gradient above the tolerance.</summary>
    public const string GradientAboveTolerance = "gradient above tolerance";
}

/// <summary>
/// How far one model's fit may go: a cap on quasi-Newton iterations per starting point, a budget of wall-clock time over
/// all its starting points, and the caller's cancellation. A fit that meets one of them stops and says so
/// (<see cref="FitReport.Reason"/>) instead of running on: no fit is an endless loop.
/// </summary>
public sealed record FitLimits(int MaxIterations, TimeSpan TimeBudget, CancellationToken Cancellation = default)
{
    /// <summary>1,000 iterations per start (the full CDNOW fits need under 100) and 60 s per model.</summary>
    public static FitLimits Default { get; } = new(1000, TimeSpan.FromSeconds(60));
}
