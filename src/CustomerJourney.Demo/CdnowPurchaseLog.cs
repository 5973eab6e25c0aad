using System.Globalization;

namespace CustomerJourney.Demo;

/// <summary>One row of the CDNOW sample: a customer's purchase of some CDs on one day (data/cdnow/README.md).</summary>
/// <param name="MasterId">The customer's id in the full cohort, zero-padded as in the file ("00004").</param>
/// <param name="SampleId">The customer's id in the 1/10 sample, zero-padded as in the file ("0001").</param>
/// <param name="Date">The purchase day; the data set has no time of day.</param>
/// <param name="NumberOfCds">How many CDs were bought, at least 1.</param>
/// <param name="DollarValue">What they cost in US dollars, two decimals (a few rows are 0.00).</param>
public sealed record CdnowPurchase(string MasterId, string SampleId, DateOnly Date, int NumberOfCds, decimal DollarValue);

/// <summary>
/// Reads <c>CDNOW_sample.txt</c>: no header, CRLF, leading spaces, five whitespace-separated columns
/// (master id, sample id, yyyymmdd, number of CDs, dollar value). A malformed line stops the read with its
/// line number, because a demo built on silently skipped rows would no longer match the published data.
/// </summary>
public static class CdnowPurchaseLog
{
    private const string DateFormat = "yyyyMMdd";

    /// <summary>Reads the file; rows come back in file order.</summary>
    public static List<CdnowPurchase> Read(string path) => Parse(File.ReadLines(path), path);

    /// <summary>Parses the lines of the file; <paramref name="origin"/> names them in error messages.</summary>
    public static List<CdnowPurchase> Parse(IEnumerable<string> lines, string origin = "CDNOW sample")
    {
        var rows = new List<CdnowPurchase>();
        var lineNumber = 0;
        foreach (var line in lines)
        {
            lineNumber++;

            // Blank lines carry no row (an editor may leave one at the end); anything else must be a full row.
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            rows.Add(ParseLine(line, lineNumber, origin));
        }

        return rows;
    }

    private static CdnowPurchase ParseLine(string line, int lineNumber, string origin)
    {
        var columns = line.Split((char[])[' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
        if (columns.Length != 5)
        {
            throw Malformed(origin, lineNumber, line, $"expected 5 whitespace-separated columns, found {columns.Length}");
        }

        var (masterId, sampleId, dateText, cdsText, dollarText) = (columns[0], columns[1], columns[2], columns[3], columns[4]);
        if (!masterId.All(char.IsAsciiDigit))
        {
            throw Malformed(origin, lineNumber, line, $"master id '{masterId}' is not a number");
        }

        if (!sampleId.All(char.IsAsciiDigit))
        {
            throw Malformed(origin, lineNumber, line, $"sample id '{sampleId}' is not a number");
        }

        if (!DateOnly.TryParseExact(dateText, DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            throw Malformed(origin, lineNumber, line, $"date '{dateText}' is not a yyyymmdd date");
        }

        if (!int.TryParse(cdsText, NumberStyles.None, CultureInfo.InvariantCulture, out var cds) || cds < 1)
        {
            throw Malformed(origin, lineNumber, line, $"number of CDs '{cdsText}' is not a whole number of at least 1");
        }

        if (!decimal.TryParse(dollarText, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var dollars) ||
            decimal.Round(dollars, 2) != dollars)
        {
            throw Malformed(origin, lineNumber, line, $"dollar value '{dollarText}' is not a non-negative amount with at most 2 decimals");
        }

        return new CdnowPurchase(masterId, sampleId, date, cds, dollars);
    }

    private static FormatException Malformed(string origin, int lineNumber, string line, string problem) =>
        new($"{origin}, line {lineNumber}: {problem}. The line was: \"{line.Trim()}\"");
}
