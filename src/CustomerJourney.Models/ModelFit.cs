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
/// stopped on a parameter bound, never left its start, or stopped (iteration cap, failed line search) short of tolerance.
/// </param>
/// <param name="Diagnosis">One sentence on why <paramref name="Converged"/> is what it is.</param>
/// <param name="GradientNorm">Largest |∂(mean log-likelihood)/∂(log parameter)| at the reported point.</param>
/// <param name="Iterations">Quasi-Newton iterations of the winning start (0 when the optimiser ended with an exception).</param>
/// <param name="Evaluations">Likelihood evaluations over all starts.</param>
/// <param name="Starts">How many starting points were tried.</param>
public sealed record FitReport(
    int Customers,
    double LogLikelihood, bool Converged, string Diagnosis, double GradientNorm, int Iterations, int Evaluations, int Starts);
