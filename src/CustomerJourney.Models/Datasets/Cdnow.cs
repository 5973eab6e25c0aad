using System.Globalization;
using CustomerJourney.Models.Churn;

namespace CustomerJourney.Models.Datasets;

/// <summary>One CDNOW purchase row: a customer bought some CDs on one day (data/cdnow/README.md).</summary>
public sealed record CdnowPurchase(string CustomerId, DateOnly Day, int Cds, decimal Dollars);

/// <summary>One row of a published CDNOW calibration summary: <c>ID,x,t_x,T,zbar</c>, rounded to 2 decimals.</summary>
public sealed record CdnowSummaryRow(string Id, int X, double Tx, double T, double MeanRepeatValue);

/// <summary>
/// Readers for the CDNOW files the papers fit (Fader, Hardie &amp; Lee 2005), kept with the models because they are the
/// models' reference data: the tests and the benchmark reproduce the published fits from them. A malformed line stops
/// the read with its line number, since a fit on silently skipped rows would no longer match the published figures.
/// </summary>
public static class Cdnow
{
    /// <summary>The papers' calibration end: 39 weeks from 1997-01-01, inclusive.</summary>
    public static readonly DateOnly CalibrationEnd = new(1997, 9, 30);

    /// <summary>The end of the 39-week holdout, inclusive.</summary>
    public static readonly DateOnly HoldoutEnd = new(1998, 6, 30);

    /// <summary><c>CDNOW_sample.txt</c>: no header, five columns (master id, sample id, yyyymmdd, CDs, dollars); the id is the sample id.</summary>
    public static List<CdnowPurchase> ReadSample(string path) =>
        ReadPurchases(path, columns: 5, idColumn: 1, hasHeader: false);

    /// <summary><c>CDNOW_master.txt</c>: a header line, then four columns (customer id, yyyymmdd, CDs, dollars).</summary>
    public static List<CdnowPurchase> ReadMaster(string path) =>
        ReadPurchases(path, columns: 4, idColumn: 0, hasHeader: true);

    /// <summary><c>cdnow_customers_summary_with_transactions.csv</c>: header <c>ID,x,t_x,T,zbar</c>.</summary>
    public static List<CdnowSummaryRow> ReadSummary(string path)
    {
        var rows = new List<CdnowSummaryRow>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (lineNumber == 1 || string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var cells = line.Trim().Split(',');
            if (cells.Length != 5 ||
                !int.TryParse(cells[1], NumberStyles.None, CultureInfo.InvariantCulture, out var x) ||
                !TryNumber(cells[2], out var tx) || !TryNumber(cells[3], out var t) || !TryNumber(cells[4], out var zbar))
            {
                throw Malformed(path, lineNumber, line, "expected ID,x,t_x,T,zbar with a whole x and decimal numbers");
            }

            rows.Add(new CdnowSummaryRow(cells[0], x, tx, t, zbar));
        }

        return rows;
    }

    /// <summary>Each customer's calibration summary (<see cref="RfmSummary.FromPurchases(IEnumerable{ValueTuple{DateOnly, decimal}}, DateOnly)"/>), keyed by id.</summary>
    public static Dictionary<string, RfmSummary> Summarise(IEnumerable<CdnowPurchase> purchases, DateOnly calibrationEnd) =>
        purchases
            .GroupBy(p => p.CustomerId, StringComparer.Ordinal)
            .ToDictionary(
                g => g.Key,
                g => RfmSummary.FromPurchases(g.Select(p => (p.Day, p.Dollars)), calibrationEnd),
                StringComparer.Ordinal);

    private static List<CdnowPurchase> ReadPurchases(string path, int columns, int idColumn, bool hasHeader)
    {
        var rows = new List<CdnowPurchase>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if ((hasHeader && lineNumber == 1) || string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var cells = line.Split((char[])[' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (cells.Length != columns)
            {
                throw Malformed(path, lineNumber, line, $"expected {columns} whitespace-separated columns, found {cells.Length}");
            }

            var (date, cds, dollars) = (cells[columns - 3], cells[columns - 2], cells[columns - 1]);
            if (!DateOnly.TryParseExact(date, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ||
                !int.TryParse(cds, NumberStyles.None, CultureInfo.InvariantCulture, out var count) ||
                !decimal.TryParse(dollars, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
            {
                throw Malformed(path, lineNumber, line, "expected a yyyymmdd date, a whole number of CDs and a dollar amount");
            }

            rows.Add(new CdnowPurchase(cells[idColumn], day, count, amount));
        }

        return rows;
    }

    private static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value);

    private static FormatException Malformed(string path, int lineNumber, string line, string problem) =>
        new($"{Path.GetFileName(path)}, line {lineNumber}: {problem}. The line was: \"{line.Trim()}\"");
}
