using CustomerJourney.Models.Churn;
using CustomerJourney.Models.Datasets;

namespace CustomerJourney.Specs.Models;

/// <summary>The CDNOW files under data/cdnow, read once per test run and shared by the model specs.</summary>
internal static class CdnowData
{
    private static readonly Lazy<string> Folder = new(FindFolder);

    private static readonly Lazy<List<CdnowSummaryRow>> PublishedSummaryRows =
        new(() => Cdnow.ReadSummary(PathOf("cdnow_customers_summary_with_transactions.csv")));

    private static readonly Lazy<List<CdnowPurchase>> SamplePurchaseRows = new(() => Cdnow.ReadSample(PathOf("CDNOW_sample.txt")));

    private static readonly Lazy<Dictionary<string, RfmSummary>> SampleSummaries =
        new(() => Cdnow.Summarise(SamplePurchases, Cdnow.CalibrationEnd));

    private static readonly Lazy<Dictionary<string, RfmSummary>> MasterSummaries =
        new(() => Cdnow.Summarise(Cdnow.ReadMaster(PathOf("CDNOW_master.txt")), Cdnow.CalibrationEnd));

    /// <summary>The published summary (ID, x, t_x, T, zbar rounded to 2 decimals) of the 2,357 sample customers.</summary>
    public static List<CdnowSummaryRow> PublishedSummary => PublishedSummaryRows.Value;

    /// <summary>The 6,919 purchase rows of the sample, keyed by sample id.</summary>
    public static List<CdnowPurchase> SamplePurchases => SamplePurchaseRows.Value;

    /// <summary>The sample's calibration summaries computed here from the raw purchases, keyed by sample id.</summary>
    public static Dictionary<string, RfmSummary> Sample => SampleSummaries.Value;

    /// <summary>The full cohort's (23,570 customers) calibration summaries, keyed by customer id.</summary>
    public static Dictionary<string, RfmSummary> Master => MasterSummaries.Value;

    /// <summary>The sample's purchase days in the holdout, 1997-10-01 to 1998-06-30.</summary>
    public static int HoldoutTransactions() =>
        SamplePurchases.GroupBy(p => p.CustomerId, StringComparer.Ordinal)
            .Sum(g => RfmSummary.TransactionDays(g.Select(p => (p.Day, p.Dollars)), Cdnow.CalibrationEnd, Cdnow.HoldoutEnd));

    public static CustomerGroups PublishedGroups() => CustomerGroups.From(PublishedSummary.Select(r => (r.X, r.Tx, r.T)));

    public static CustomerGroups SampleGroups() => CustomerGroups.From(Sample.Values);

    private static string PathOf(string file) => Path.Combine(Folder.Value, file);

    private static string FindFolder()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "CustomerJourney.sln")))
            {
                return Path.Combine(directory.FullName, "data", "cdnow");
            }
        }

        throw new InvalidOperationException($"Could not find the repository root (CustomerJourney.sln) above {AppContext.BaseDirectory}.");
    }
}
