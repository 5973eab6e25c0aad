using CustomerJourney.Models.Churn;
using MathNet.Numerics.Distributions;

namespace CustomerJourney.Models.Evaluation;

/// <summary>One customer of an evaluated cohort.</summary>
/// <param name="Calibration">The summary the models were fitted on (x, t_x, T up to the calibration end, and the first purchase day).</param>
/// <param name="TransactionDays">Every calendar day with a purchase, before and after the calibration end; a day may repeat.</param>
public sealed record EvaluatedCustomer(RfmSummary Calibration, IReadOnlyCollection<DateOnly> TransactionDays);

/// <summary>A figure for each of the two transaction models.</summary>
public sealed record ModelPair<T>(T BgNbd, T ParetoNbd);

/// <summary>Repeat transactions of the whole cohort in the holdout period: actual, and expected given each customer's calibration history.</summary>
public sealed record HoldoutTotals(int Actual, double BgNbd, double ParetoNbd);

/// <summary>Customers with <paramref name="X"/> (or, when <paramref name="OrMore"/>, at least X) repeat transactions in calibration.</summary>
public sealed record FrequencyBin(int X, bool OrMore, int Actual, double BgNbd, double ParetoNbd);

/// <summary>Pearson's chi-square of a fit histogram; the degrees of freedom deduct the four fitted parameters.</summary>
public sealed record ChiSquareTest(double Statistic, int DegreesOfFreedom, double PValue);

/// <summary>The calibration-period histogram of repeat transactions and its goodness of fit (null when a bin expects no one).</summary>
public sealed record FrequencyFit(IReadOnlyList<FrequencyBin> Bins, ChiSquareTest? BgNbd, ChiSquareTest? ParetoNbd);

/// <summary>Mean holdout repeat transactions of the customers with calibration frequency X (or more): actual and conditional expected; null for an empty bin.</summary>
public sealed record ConditionalBin(int X, bool OrMore, int Customers, double? Actual, double? BgNbd, double? ParetoNbd);

/// <summary>Cumulative repeat transactions of the cohort by the end of one week.</summary>
/// <param name="Week">1 for the week starting on the cohort's first purchase day.</param>
/// <param name="Through">The last day the week covers (the holdout end for a last, shorter week).</param>
/// <param name="Time">Weeks from the cohort's first purchase day to the end of <paramref name="Through"/>: <paramref name="Week"/>, except for a last, shorter week.</param>
public sealed record TrackingWeek(int Week, DateOnly Through, double Time, int Actual, double BgNbd, double ParetoNbd);

/// <summary>The tracking plot's data: weeks from the cohort's first purchase day to the holdout end.</summary>
/// <param name="CalibrationEndTime">Where the calibration end falls on the weeks' time axis.</param>
public sealed record Tracking(DateOnly Start, double CalibrationEndTime, IReadOnlyList<TrackingWeek> Weeks);

/// <summary>How a fitted BG/NBD and Pareto/NBD model compare with what the cohort went on to do.</summary>
public sealed record ModelEvaluationResult(
    int Customers,
    DateOnly CalibrationEnd,
    DateOnly HoldoutEnd,
    double HoldoutWeeks,
    HoldoutTotals Holdout,
    ModelPair<double?> Correlation,
    FrequencyFit CalibrationFrequencies,
    IReadOnlyList<ConditionalBin> HoldoutByFrequency,
    Tracking Tracking);

/// <summary>
/// Pure: the checks Fader, Hardie &amp; Lee (2005) run on the CDNOW cohort, for any cohort and fit. Days are
/// calendar days and weeks are days / 7, as in <see cref="RfmSummary"/>; a customer's time runs from their first purchase
/// day, so at the calibration end it is their T and at the holdout end T plus the holdout length.
/// </summary>
public static class ModelEvaluation
{
    /// <summary>The histogram and the conditional expectations bin calibration frequencies 0–6 and "7+", as the paper's figures do.</summary>
    public const int Censor = 7;

    private const double DaysPerWeek = 7.0;

    // r, α and a, b (or s, β): the fit used them to match the histogram, so they cost as many degrees of freedom.
    private const int FittedParameters = 4;

    /// <exception cref="ArgumentException">No customers, a holdout end not after the calibration end, or a customer whose summary is not for this calibration end.</exception>
    public static ModelEvaluationResult Evaluate(
        IReadOnlyList<EvaluatedCustomer> customers, BgNbdModel bgNbd, ParetoNbdModel paretoNbd, DateOnly calibrationEnd, DateOnly holdoutEnd)
    {
        ArgumentNullException.ThrowIfNull(customers);
        ArgumentNullException.ThrowIfNull(bgNbd);
        ArgumentNullException.ThrowIfNull(paretoNbd);
        if (customers.Count == 0)
        {
            throw new ArgumentException("There are no customers to evaluate.", nameof(customers));
        }

        if (holdoutEnd <= calibrationEnd)
        {
            throw new ArgumentException($"The holdout end {holdoutEnd:yyyy-MM-dd} is not after the calibration end {calibrationEnd:yyyy-MM-dd}.", nameof(holdoutEnd));
        }

        foreach (var customer in customers)
        {
            var expectedT = (calibrationEnd.DayNumber - customer.Calibration.FirstPurchase.DayNumber) / DaysPerWeek;
            if (customer.Calibration.FirstPurchase > calibrationEnd || Math.Abs(customer.Calibration.T - expectedT) > 1e-9)
            {
                throw new ArgumentException(
                    $"A customer first bought on {customer.Calibration.FirstPurchase:yyyy-MM-dd} with T = {customer.Calibration.T}: not a calibration summary to {calibrationEnd:yyyy-MM-dd}.",
                    nameof(customers));
            }
        }

        IRepeatPurchaseModel[] models = [bgNbd, paretoNbd];
        var holdoutWeeks = (holdoutEnd.DayNumber - calibrationEnd.DayNumber) / DaysPerWeek;
        var holdout = HoldoutPerCustomer(customers, models, calibrationEnd, holdoutEnd, holdoutWeeks);
        var (bins, chiSquare) = CalibrationHistogram(customers, models);

        return new ModelEvaluationResult(
            customers.Count,
            calibrationEnd,
            holdoutEnd,
            holdoutWeeks,
            new HoldoutTotals(holdout.Actual.Sum(), holdout.Expected[0].Sum(), holdout.Expected[1].Sum()),
            new ModelPair<double?>(Pearson(holdout.Expected[0], holdout.Actual), Pearson(holdout.Expected[1], holdout.Actual)),
            new FrequencyFit(bins, chiSquare[0], chiSquare[1]),
            ByCalibrationFrequency(customers, holdout),
            TrackingOf(customers, models, calibrationEnd, holdoutEnd));
    }

    /// <summary>Per customer: holdout transaction days, and E[Y(holdout) | x, t_x, T] (paper eq. 10; Pareto/NBD note eq. 41) per model.</summary>
    private static (int[] Actual, double[][] Expected) HoldoutPerCustomer(
        IReadOnlyList<EvaluatedCustomer> customers, IRepeatPurchaseModel[] models, DateOnly calibrationEnd, DateOnly holdoutEnd, double holdoutWeeks)
    {
        var actual = new int[customers.Count];
        var expected = models.Select(_ => new double[customers.Count]).ToArray();
        var cache = new Dictionary<(int, double, double), double[]>();
        for (var i = 0; i < customers.Count; i++)
        {
            var (x, tx, t) = (customers[i].Calibration.X, customers[i].Calibration.Tx, customers[i].Calibration.T);
            actual[i] = customers[i].TransactionDays.Where(d => d > calibrationEnd && d <= holdoutEnd).Distinct().Count();
            if (!cache.TryGetValue((x, tx, t), out var forecasts))
            {
                forecasts = [.. models.Select(m => m.ConditionalExpectedTransactions(x, tx, t, holdoutWeeks))];
                cache[(x, tx, t)] = forecasts;
            }

            for (var m = 0; m < models.Length; m++)
            {
                expected[m][i] = forecasts[m];
            }
        }

        return (actual, expected);
    }

    /// <summary>
    /// The paper's Figure 2: customers by calibration repeat transactions, actual against Σ_i P(X(T_i) = x) (BG/NBD eq. 8; the
    /// Pareto/NBD's from Fader &amp; Hardie's note on P(X(t) = x)), the last bin taking the rest of each customer's probability.
    /// </summary>
    private static (List<FrequencyBin> Bins, ChiSquareTest?[] ChiSquare) CalibrationHistogram(IReadOnlyList<EvaluatedCustomer> customers, IRepeatPurchaseModel[] models)
    {
        var actual = new int[Censor + 1];
        var expected = models.Select(_ => new double[Censor + 1]).ToArray();
        var cache = new Dictionary<double, double[][]>();
        foreach (var customer in customers)
        {
            actual[Math.Min(customer.Calibration.X, Censor)]++;
            var t = customer.Calibration.T;
            if (!cache.TryGetValue(t, out var probabilities))
            {
                probabilities = [.. models.Select(m => Histogram(m, t))];
                cache[t] = probabilities;
            }

            for (var m = 0; m < models.Length; m++)
            {
                for (var x = 0; x <= Censor; x++)
                {
                    expected[m][x] += probabilities[m][x];
                }
            }
        }

        var bins = Enumerable.Range(0, Censor + 1).Select(x => new FrequencyBin(x, x == Censor, actual[x], expected[0][x], expected[1][x])).ToList();
        return (bins, [.. expected.Select(e => ChiSquare(actual, e))]);
    }

    private static double[] Histogram(IRepeatPurchaseModel model, double t)
    {
        var probabilities = new double[Censor + 1];
        for (var x = 0; x < Censor; x++)
        {
            probabilities[x] = model.ProbabilityOfTransactions(x, t);
        }

        probabilities[Censor] = Math.Max(0, 1 - probabilities.Take(Censor).Sum());
        return probabilities;
    }

    private static ChiSquareTest? ChiSquare(int[] actual, double[] expected)
    {
        if (expected.Any(e => !(e > 0) || !double.IsFinite(e)))
        {
            return null;
        }

        var statistic = actual.Zip(expected, (o, e) => (o - e) * (o - e) / e).Sum();
        var freedom = actual.Length - 1 - FittedParameters;
        return new ChiSquareTest(statistic, freedom, 1 - ChiSquared.CDF(freedom, statistic));
    }

    /// <summary>The paper's conditional-expectation plot: mean holdout transactions by calibration frequency, actual and expected.</summary>
    private static List<ConditionalBin> ByCalibrationFrequency(IReadOnlyList<EvaluatedCustomer> customers, (int[] Actual, double[][] Expected) holdout)
    {
        var bins = new List<ConditionalBin>();
        for (var x = 0; x <= Censor; x++)
        {
            var members = Enumerable.Range(0, customers.Count)
                .Where(i => x == Censor ? customers[i].Calibration.X >= Censor : customers[i].Calibration.X == x)
                .ToList();
            bins.Add(members.Count == 0
                ? new ConditionalBin(x, x == Censor, 0, null, null, null)
                : new ConditionalBin(x, x == Censor, members.Count,
                    members.Average(i => (double)holdout.Actual[i]), members.Average(i => holdout.Expected[0][i]), members.Average(i => holdout.Expected[1][i])));
        }

        return bins;
    }

    /// <summary>
    /// The paper's tracking plot: by the end of each week, the cohort's cumulative repeat transactions against
    /// Σ_i E[X(t − t_i)] over the customers already acquired (eq. 9; Pareto/NBD note eq. 27), t − t_i being the weeks from
    /// customer i's first purchase day to the week's last day.
    /// </summary>
    private static Tracking TrackingOf(IReadOnlyList<EvaluatedCustomer> customers, IRepeatPurchaseModel[] models, DateOnly calibrationEnd, DateOnly holdoutEnd)
    {
        var start = customers.Min(c => c.Calibration.FirstPurchase);
        var days = holdoutEnd.DayNumber - start.DayNumber + 1;

        // Cohorts acquired over a few months share few first-purchase days, and E[X] depends only on the days since the
        // first purchase: one evaluation per model and day offset serves every customer and week.
        var repeatsOnDay = new int[days];
        var acquiredOnDay = new int[days];
        foreach (var customer in customers)
        {
            var first = customer.Calibration.FirstPurchase;
            acquiredOnDay[first.DayNumber - start.DayNumber]++;
            foreach (var day in customer.TransactionDays.Where(d => d > first && d <= holdoutEnd).Distinct())
            {
                repeatsOnDay[day.DayNumber - start.DayNumber]++;
            }
        }

        var firstDays = Enumerable.Range(0, days).Where(d => acquiredOnDay[d] > 0).ToArray();
        var expectedByOffset = models.Select(m => Enumerable.Range(0, days).Select(offset => m.ExpectedTransactions(offset / DaysPerWeek)).ToArray()).ToArray();

        var weeks = new List<TrackingWeek>();
        var actual = 0;
        var counted = 0;
        for (var week = 1; counted < days; week++)
        {
            var last = Math.Min(week * 7, days) - 1;
            for (; counted <= last; counted++)
            {
                actual += repeatsOnDay[counted];
            }

            var expected = new double[models.Length];
            for (var m = 0; m < models.Length; m++)
            {
                expected[m] = firstDays.Where(d => d < last).Sum(d => acquiredOnDay[d] * expectedByOffset[m][last - d]);
            }

            weeks.Add(new TrackingWeek(week, start.AddDays(last), (last + 1) / DaysPerWeek, actual, expected[0], expected[1]));
        }

        return new Tracking(start, (calibrationEnd.DayNumber - start.DayNumber + 1) / DaysPerWeek, weeks);
    }

    /// <summary>Pearson's correlation of predicted and actual holdout transactions; null when either does not vary.</summary>
    private static double? Pearson(double[] predicted, int[] actual)
    {
        var n = predicted.Length;
        var meanPredicted = predicted.Average();
        var meanActual = actual.Average();
        double covariance = 0, varPredicted = 0, varActual = 0;
        for (var i = 0; i < n; i++)
        {
            var dp = predicted[i] - meanPredicted;
            var da = actual[i] - meanActual;
            covariance += dp * da;
            varPredicted += dp * dp;
            varActual += da * da;
        }

        return varPredicted > 0 && varActual > 0 ? covariance / Math.Sqrt(varPredicted * varActual) : null;
    }
}
