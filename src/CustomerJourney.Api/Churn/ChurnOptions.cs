using CustomerJourney.Models;

namespace CustomerJourney.Churn;

/// <summary>Configuration section "Churn".</summary>
public sealed class ChurnOptions
{
    /// <summary>Annual rate for discounted customer value (converted to a weekly rate under compounding).</summary>
    public double AnnualDiscountRate { get; set; } = 0.10;

    /// <summary>The time zone whose calendar days count as transactions (several purchases on one day are one).</summary>
    public string TimeZone { get; set; } = "UTC";

    public string DefaultCurrency { get; set; } = "USD";

    public FlagSettings Flags { get; set; } = new();

    /// <summary>The most quasi-Newton iterations a model's fit may take from each starting point (the CDNOW fits need under 100).</summary>
    public int FitMaxIterations { get; set; } = Models.FitLimits.Default.MaxIterations;

    /// <summary>
    /// The wall-clock time each of the three model fits may take. Three of them stay inside the 30 s request timeout
    /// (<c>Limits:RequestTimeout</c>); a fit that runs out answers with what it reached, <c>converged: false</c> and the reason.
    /// </summary>
    public TimeSpan FitTimeBudget { get; set; } = TimeSpan.FromSeconds(8);

    /// <summary>How often a running fit job looks for its cancellation and writes its progress when it changed.</summary>
    public TimeSpan FitJobPoll { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>A running fit job writes its status at least this often, as a sign of life.</summary>
    public TimeSpan FitJobHeartbeat { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A job loading or fitting without a sign of life for this long was interrupted (its service stopped): it is marked failed.</summary>
    public TimeSpan FitJobStaleAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The limits of one fit, stopped early by <paramref name="cancellation"/> (the request's).</summary>
    public FitLimits LimitsOfAFit(CancellationToken cancellation) => new(FitMaxIterations, FitTimeBudget, cancellation);

    public TimeZoneInfo Zone() => TimeZoneInfo.FindSystemTimeZoneById(TimeZone);
}
