using System.Diagnostics;
using System.Globalization;
using System.Text;
using CustomerJourney.Models;
using CustomerJourney.Models.Churn;
using CustomerJourney.Models.Datasets;
using CustomerJourney.Models.Spend;

namespace ChurnFit;

/// <summary>
/// Fits BG/NBD, Pareto/NBD and Gamma–Gamma to the CDNOW sample, the full cohort (calibration to 1997-09-30), 100,000 and
/// 1,000,000 customers resampled from it, and 1,000,000 resampled with each customer's history moved up to 12 weeks
/// earlier (the cohort on which a Pareto/NBD fit once ran for more than 10 minutes), and prints, per data set and model:
/// customers, distinct (x, t_x, T) groups, median fit time, log-likelihood, parameters and how the fit ended; then the
/// time to score one customer. Writes the same text to bench/results/churn-fit.txt. Every fit runs under the models'
/// default limits (FitLimits.Default), so a fit that cannot finish says so instead of hanging the benchmark.
/// Run in Release: dotnet run -c Release --project bench/ChurnFit [-- repeats].
/// </summary>
public static class Program
{
    private const double HoldoutWeeks = 39;

    public static void Main(string[] args)
    {
        var repeats = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        var root = RepositoryRoot();
        var data = Path.Combine(root, "data", "cdnow");
        var output = new StringBuilder();
        void Line(string text = "")
        {
            Console.WriteLine(text);
            output.AppendLine(text);
        }

        Line($"ChurnFit: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {Configuration()}, median of {repeats} fits");
        Line();
        Line($"{"data",-8} {"model",-11} {"customers",9} {"groups",7} {"fit ms",8} {"log-lik",12}  {"parameters",-52} converged");

        var sample = Cdnow.Summarise(Cdnow.ReadSample(Path.Combine(data, "CDNOW_sample.txt")), Cdnow.CalibrationEnd).Values.ToList();
        var master = Cdnow.Summarise(Cdnow.ReadMaster(Path.Combine(data, "CDNOW_master.txt")), Cdnow.CalibrationEnd).Values.ToList();
        var fitted = new Dictionary<string, (BgNbdModel BgNbd, ParetoNbdModel Pareto, GammaGammaModel Spend)>(StringComparer.Ordinal);
        // 100,000 customers: the full cohort resampled with replacement (seeded). The likelihoods are summed over the
        // distinct (x, t_x, T) groups, so the fit's cost follows the groups, and this shows what a larger customer count adds.
        var random = new Random(100_000);
        var large = Enumerable.Range(0, 100_000).Select(_ => master[random.Next(master.Count)]).ToList();
        var million = Resample(master, 1_000_000, shiftWeeks: 0);
        var shifted = Resample(master, 1_000_000, shiftWeeks: 12);
        foreach (var (name, customers) in new[] { ("sample", sample), ("master", master), ("100k", large), ("1M", million), ("1M-shift", shifted) })
        {
            var grouping = Stopwatch.StartNew();
            var groups = CustomerGroups.From(customers);
            Line($"{name}: {groups.Customers:N0} customers grouped into {groups.Groups:N0} (x, t_x, T) groups in {grouping.Elapsed.TotalMilliseconds:F0} ms");
            var spendData = customers.Select(c => (c.X, (double)c.MeanRepeatValue)).ToList();
            var bg = Time(() => BgNbd.Fit(groups), repeats);
            Line(Row(name, "BG/NBD", groups.Customers, groups.Groups.ToString(CultureInfo.InvariantCulture), bg.Milliseconds, bg.Fit.Report,
                $"r={bg.Fit.Model.R:F4} alpha={bg.Fit.Model.Alpha:F4} a={bg.Fit.Model.A:F4} b={bg.Fit.Model.B:F4}"));
            var pareto = Time(() => ParetoNbd.Fit(groups), repeats);
            Line(Row(name, "Pareto/NBD", groups.Customers, groups.Groups.ToString(CultureInfo.InvariantCulture), pareto.Milliseconds, pareto.Fit.Report,
                $"r={pareto.Fit.Model.R:F4} alpha={pareto.Fit.Model.Alpha:F4} s={pareto.Fit.Model.S:F4} beta={pareto.Fit.Model.Beta:F4}"));
            var spend = Time(() => GammaGamma.Fit(spendData), repeats);
            Line(Row(name, "Gamma-Gamma", spend.Fit.Report.Customers, "-", spend.Milliseconds, spend.Fit.Report,
                $"p={spend.Fit.Model.P:F4} q={spend.Fit.Model.Q:F4} gamma={spend.Fit.Model.Gamma:F4}"));
            fitted[name] = (bg.Fit.Model, pareto.Fit.Model, spend.Fit.Model);
        }

        Line();
        Line("Scoring one customer: P(alive) + expected transactions in the next 39 weeks + conditional expected spend,");
        Line($"averaged over {master.Count:N0} full-cohort customers, repeated:");
        var (bgModel, paretoModel, spendModel) = fitted["master"];
        Line($"  BG/NBD + Gamma-Gamma      {ScoreMicroseconds(bgModel, spendModel, master),8:F3} us per customer");
        Line($"  Pareto/NBD + Gamma-Gamma  {ScoreMicroseconds(paretoModel, spendModel, master),8:F3} us per customer");

        var results = Path.Combine(root, "bench", "results");
        Directory.CreateDirectory(results);
        File.WriteAllText(Path.Combine(results, "churn-fit.txt"), output.ToString());
    }

    // Customers drawn with replacement (seeded). With a shift, each drawn customer's whole history moves a whole number
    // of days, up to shiftWeeks, earlier, so T grows by it and x and t_x stay: the same customers acquired over a longer
    // stretch, which multiplies the distinct (x, t_x, T) groups. This is the cohort of the Pareto/NBD fit that had not
    // finished after 10 minutes (100,000 customers drawn this way with the seed 100,000 give its 33,789 groups).
    private static List<RfmSummary> Resample(List<RfmSummary> cohort, int customers, int shiftWeeks)
    {
        var random = new Random(customers + shiftWeeks);
        return [.. Enumerable.Range(0, customers).Select(_ =>
        {
            var customer = cohort[random.Next(cohort.Count)];
            return shiftWeeks == 0 ? customer : customer with { T = customer.T + (random.Next(0, (7 * shiftWeeks) + 1) / 7.0) };
        })];
    }

    private static string Row(string data, string model, int customers, string groups, double milliseconds, FitReport report, string parameters) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"{data,-8} {model,-11} {customers,9:N0} {groups,7} {milliseconds,8:F1} {report.LogLikelihood,12:F3}  {parameters,-52} {(report.Converged ? "yes" : $"NO ({report.Reason}): {report.Diagnosis}")}");

    // The first run warms the JIT and is not counted; the median of the rest is reported.
    private static (ModelFit<T> Fit, double Milliseconds) Time<T>(Func<ModelFit<T>> fit, int repeats)
    {
        var result = fit();
        var times = new List<double>();
        for (var i = 0; i < repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            result = fit();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        return (result, times[times.Count / 2]);
    }

    private static double ScoreMicroseconds(IRepeatPurchaseModel model, GammaGammaModel spend, List<RfmSummary> customers)
    {
        double sink = 0;
        void Pass()
        {
            foreach (var c in customers)
            {
                sink += model.ProbabilityAlive(c.X, c.Tx, c.T)
                    + model.ConditionalExpectedTransactions(c.X, c.Tx, c.T, HoldoutWeeks)
                    + spend.ConditionalExpectedSpend(c.X, (double)c.MeanRepeatValue);
            }
        }

        Pass();
        const int passes = 20;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < passes; i++)
        {
            Pass();
        }

        var microseconds = watch.Elapsed.TotalMicroseconds / (passes * (double)customers.Count);
        return double.IsFinite(sink) ? microseconds : double.NaN;
    }

    private static string Configuration()
    {
#if DEBUG
        return "Debug build (numbers are not representative)";
#else
        return "Release build";
#endif
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "CustomerJourney.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"Could not find the repository root (CustomerJourney.sln) above {AppContext.BaseDirectory}.");
    }
}
