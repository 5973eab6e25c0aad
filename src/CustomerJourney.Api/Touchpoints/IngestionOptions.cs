namespace CustomerJourney.Touchpoints;

/// <summary>Limits of the ingestion endpoints (configuration section "Ingestion").</summary>
public sealed class IngestionOptions
{
    public int MaxBatchItems { get; set; } = 10_000;

    public long MaxBatchBytes { get; set; } = 32 * 1024 * 1024;

    public long MaxTouchpointBytes { get; set; } = 1024 * 1024;
}
