namespace CustomerJourney.Models.Numerics;

/// <summary>
/// A series did not reach its tolerance within its term cap. The arguments are outside the range the series is meant for;
/// returning a half-summed value would silently bias a likelihood or a forecast, so the caller is told instead.
/// </summary>
public sealed class SeriesNotConvergedException : ArithmeticException
{
    public SeriesNotConvergedException()
    {
    }

    public SeriesNotConvergedException(string message)
        : base(message)
    {
    }

    public SeriesNotConvergedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
