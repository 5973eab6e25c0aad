using System.Diagnostics;
using CustomerJourney.Complaints;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Demo;

/// <summary>
/// Loads the CDNOW demo history at start-up through the same ledger and personal-data seam as ingested
/// touchpoints. The ledger de-duplicates by (source, sourceId) and the generator is deterministic, so every
/// later start finds everything present and appends nothing.
/// </summary>
public sealed class DemoLoader(
    IConfiguration configuration,
    TouchpointLedger ledger,
    IPersonalDataProtector personalData,
    DemoKeys demoKeys,
    IHostEnvironment environment,
    ILogger<DemoLoader> logger) : IHostedService
{
    public const string EnabledKey = "Demo:Enabled";
    public const string DataFileKey = "Demo:DataFile";
    public const string DefaultDataFile = "data/cdnow/CDNOW_sample.txt";

    /// <summary>Recorded as the demo's user_name metadata.</summary>
    public const string Actor = "system:demo";

    // Large enough to keep round trips few, small enough that one transaction stays short.
    public const int ChunkSize = 2_000;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Read here rather than at registration, so a host can switch the demo off in its own configuration.
        if (!IsEnabled(configuration, environment))
        {
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var dataFile = FindDataFile();
        var rows = CdnowPurchaseLog.Read(dataFile);
        var customers = rows.Select(r => DemoTouchpoints.CustomerIdOf(r.SampleId)).ToHashSet(StringComparer.Ordinal);
        var cipher = await personalData.ForCustomersAsync(customers, forWriting: true, cancellationToken);
        // A demo customer erased earlier stays erased: the ledger refuses their touchpoints whatever is sealed.
        var touchpoints = DemoTouchpoints.Build(rows, (id, text) => cipher.IsErased(id) ? PersonalFields.Erased : cipher.Seal(id, text));

        var appended = 0;
        for (var start = 0; start < touchpoints.Count; start += ChunkSize)
        {
            var chunk = touchpoints.GetRange(start, Math.Min(ChunkSize, touchpoints.Count - start));
            var result = await ledger.RecordAsync(chunk, new LedgerWrite(Actor, "demo-load", cipher), cancellationToken);
            appended += result.Appended;
            foreach (var (index, broken) in result.Broken)
            {
                logger.LogWarning("Demo step {Kind} of {Complaint} refused: {Rule}", TouchpointCatalogue.KindOf(chunk[index]), ComplaintCase.CaseOf(chunk[index]), broken.Rule);
            }
        }

        logger.LogInformation(
            "Demo loaded from {DataFile}: {Appended} touchpoints appended, {AlreadyPresent} already present, in {ElapsedMs} ms",
            dataFile, appended, touchpoints.Count - appended, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);

        if (environment.IsDevelopment())
        {
            await demoKeys.EnsureAsync(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(dataFile)!, "..", "..")), cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Demo:Enabled, on by default in Development only: an empty store elsewhere stays empty unless asked.</summary>
    public static bool IsEnabled(IConfiguration configuration, IHostEnvironment environment) =>
        configuration.GetValue(EnabledKey, defaultValue: environment.IsDevelopment());

    private string FindDataFile()
    {
        if (configuration[DataFileKey] is { Length: > 0 } configured)
        {
            var path = Path.GetFullPath(configured);
            return File.Exists(path)
                ? path
                : throw new InvalidOperationException(
                    $"The demo data file configured in {DataFileKey} was not found at {path}. Point Demo__DataFile at " +
                    $"{DefaultDataFile} in the repository, or disable the demo with Demo__Enabled=false.");
        }

        // The service runs from bin/ or from the repository; both sit below the repository root.
        string[] origins = [AppContext.BaseDirectory, Directory.GetCurrentDirectory()];
        foreach (var origin in origins)
        {
            for (var directory = new DirectoryInfo(origin); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, DefaultDataFile);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new InvalidOperationException(
            $"The demo data file {DefaultDataFile} was not found in {string.Join(" or ", origins)} or any of their parent " +
            $"directories. Set Demo__DataFile to its path, or disable the demo with Demo__Enabled=false.");
    }
}
