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

    public TimeZoneInfo Zone() => TimeZoneInfo.FindSystemTimeZoneById(TimeZone);
}
