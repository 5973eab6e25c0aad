namespace CustomerJourney.Touchpoints;

/// <summary>Limits of the ingestion endpoints (configuration section "Ingestion").</summary>
public sealed class IngestionOptions
{
    public int MaxBatchItems { get; set; } = 10_000;

    public long MaxBatchBytes { get; set; } = 32 * 1024 * 1024;

    public long MaxTouchpointBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// How many of the ledger's transactions run at once in this instance (<see cref="LedgerAdmission"/>); 0, the default,
    /// means one fewer than the machine has cores, and at least one.
    /// </summary>
    public int MaxConcurrentWrites { get; set; }
}
