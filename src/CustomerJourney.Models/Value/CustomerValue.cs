using CustomerJourney.Models.Churn;
using CustomerJourney.Models.Numerics;
using CustomerJourney.Models.Spend;

namespace CustomerJourney.Models.Value;

/// <summary>
/// Expected customer value over a horizon from a transaction model and the Gamma–Gamma spend model, which Fader,
/// Hardie &amp; Lee (2005, "RFM and CLV") combine by multiplication because spend is assumed independent of the
/// transaction process. Times are in the models' unit (weeks for CDNOW); amounts in the currency of the spend data.
/// </summary>
public static class CustomerValue
{
    private const double DaysPerYear = 365.25;
    private const double DaysPerWeek = 7;

    /// <summary>Undiscounted: E[Y(horizon) | x, t_x, T] × E[M | x, z̄].</summary>
    public static double Expected(IRepeatPurchaseModel transactions, GammaGammaModel spend, RfmSummary customer, double horizon)
    {
        ArgumentNullException.ThrowIfNull(transactions);
        ArgumentNullException.ThrowIfNull(spend);
        ArgumentNullException.ThrowIfNull(customer);
        return transactions.ConditionalExpectedTransactions(customer.X, customer.Tx, customer.T, horizon)
            * spend.ConditionalExpectedSpend(customer.X, (double)customer.MeanRepeatValue);
    }

    /// <summary>
    /// Discounted: the horizon is cut into periods of <paramref name="periodLength"/> (the last may be shorter); the
    /// transactions expected in period k, E[Y(t_k)] − E[Y(t_(k−1))], are valued at the period's end t_k and discounted
    /// by (1 + <paramref name="ratePerUnit"/>)^(−t_k), t in the models' time unit. This is the discrete-time convention of
    /// Fader, Hardie &amp; Lee's CLV spreadsheets (and lifetimes' customer_lifetime_value, there monthly); with weekly
    /// periods and weekly data the error against continuous discounting is below half a week's discount.
    /// </summary>
    /// <param name="ratePerUnit">The discount rate per unit of model time, e.g. <see cref="WeeklyRate"/> of an annual rate.</param>
    public static double Discounted(
        IRepeatPurchaseModel transactions, GammaGammaModel spend, RfmSummary customer, double horizon, double ratePerUnit, double periodLength = 1)
    {
        ArgumentNullException.ThrowIfNull(transactions);
        ArgumentNullException.ThrowIfNull(spend);
        ArgumentNullException.ThrowIfNull(customer);
        ArgumentOutOfRangeException.ThrowIfNegative(horizon);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(periodLength);
        if (!(ratePerUnit > -1))
        {
            throw new ArgumentOutOfRangeException(nameof(ratePerUnit), ratePerUnit, "A discount rate must be above -1.");
        }

        var logDiscount = LogSpace.Log1p(ratePerUnit);
        double value = 0, previousEnd = 0, previousExpected = 0;
        while (previousEnd < horizon)
        {
            var end = Math.Min(previousEnd + periodLength, horizon);
            var expected = transactions.ConditionalExpectedTransactions(customer.X, customer.Tx, customer.T, end);
            value += (expected - previousExpected) * Math.Exp(-logDiscount * end);
            (previousEnd, previousExpected) = (end, expected);
        }

        return value * spend.ConditionalExpectedSpend(customer.X, (double)customer.MeanRepeatValue);
    }

    /// <summary>The weekly rate equivalent to an annual one under compounding: (1 + annual)^(7/365.25) − 1.</summary>
    public static double WeeklyRate(double annualRate)
    {
        if (!(annualRate > -1))
        {
            throw new ArgumentOutOfRangeException(nameof(annualRate), annualRate, "A discount rate must be above -1.");
        }

        return Math.Exp(LogSpace.Log1p(annualRate) * DaysPerWeek / DaysPerYear) - 1;
    }
}
