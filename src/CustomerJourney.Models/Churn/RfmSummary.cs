namespace CustomerJourney.Models.Churn;

/// <summary>
/// A customer's calibration-period summary in the notation of Fader, Hardie &amp; Lee (2005): what the BG/NBD,
/// Pareto/NBD and Gamma–Gamma models read. Times are in weeks from the customer's first purchase.
/// </summary>
/// <param name="X">Repeat transactions in the calibration period: purchase days after the first, up to the end.</param>
/// <param name="Tx">Recency t_x: weeks from the first purchase to the last repeat transaction (0 when X = 0).</param>
/// <param name="T">Weeks from the first purchase to the end of calibration.</param>
/// <param name="MeanRepeatValue">Mean spend per repeat transaction day (0 when X = 0): the Gamma–Gamma model's z̄.</param>
/// <param name="FirstPurchase">The day of the first (trial) purchase.</param>
public sealed record RfmSummary(int X, double Tx, double T, decimal MeanRepeatValue, DateOnly FirstPurchase)
{
    private const double DaysPerWeek = 7.0;

    /// <summary>
    /// Summarises purchases up to and including <paramref name="calibrationEnd"/> by the conventions of the published
    /// CDNOW summaries (data/cdnow/README.md): purchases on one calendar day are one transaction whose value is the
    /// day's total, and the first day is the trial, not a repeat.
    /// </summary>
    /// <exception cref="ArgumentException">No purchase on or before the calibration end: the customer is not yet in the cohort.</exception>
    public static RfmSummary FromPurchases(IEnumerable<(DateOnly Day, decimal Amount)> purchases, DateOnly calibrationEnd)
    {
        var days = new SortedDictionary<DateOnly, decimal>();
        foreach (var (day, amount) in purchases)
        {
            if (day > calibrationEnd)
            {
                continue;
            }

            days[day] = days.GetValueOrDefault(day) + amount;
        }

        if (days.Count == 0)
        {
            throw new ArgumentException(
                $"The customer made no purchase on or before the calibration end {calibrationEnd:yyyy-MM-dd}.", nameof(purchases));
        }

        var first = days.Keys.First();
        var x = days.Count - 1;
        var last = days.Keys.Last();
        var repeatTotal = days.Skip(1).Sum(d => d.Value);
        return new RfmSummary(
            x,
            x == 0 ? 0 : (last.DayNumber - first.DayNumber) / DaysPerWeek,
            (calibrationEnd.DayNumber - first.DayNumber) / DaysPerWeek,
            x == 0 ? 0 : repeatTotal / x,
            first);
    }

    /// <summary>
    /// As <see cref="FromPurchases(IEnumerable{ValueTuple{DateOnly, decimal}}, DateOnly)"/> for timestamped purchases:
    /// each is placed on its calendar day in <paramref name="zone"/> (the business's day, not UTC's), purchases after
    /// the <paramref name="calibrationEnd"/> instant are left out, and T runs to that instant's calendar day.
    /// </summary>
    public static RfmSummary FromPurchases(
        IEnumerable<(DateTimeOffset At, decimal Amount)> purchases, DateTimeOffset calibrationEnd, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var endDay = DayIn(calibrationEnd, zone);
        return FromPurchases(purchases.Where(p => p.At <= calibrationEnd).Select(p => (DayIn(p.At, zone), p.Amount)), endDay);
    }

    /// <summary>
    /// Transaction days strictly after <paramref name="after"/> and up to <paramref name="through"/> (inclusive), e.g. a
    /// customer's holdout-period transactions; same-day purchases count once, as in calibration.
    /// </summary>
    public static int TransactionDays(IEnumerable<(DateOnly Day, decimal Amount)> purchases, DateOnly after, DateOnly through) =>
        purchases.Select(p => p.Day).Where(d => d > after && d <= through).Distinct().Count();

    /// <summary>The calendar day of <paramref name="instant"/> in <paramref name="zone"/>: the day a purchase counts on.</summary>
    public static DateOnly DayIn(DateTimeOffset instant, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        return DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, zone).DateTime);
    }
}
