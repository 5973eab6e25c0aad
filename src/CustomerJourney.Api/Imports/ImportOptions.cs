namespace CustomerJourney.Imports;

/// <summary>Limits of history imports (configuration section "Imports").</summary>
public sealed class ImportOptions
{
    /// <summary>An import's body may be far larger than a batch: it is streamed, never held whole.</summary>
    public long MaxImportBytes { get; set; } = 64L * 1024 * 1024 * 1024;

    /// <summary>Items per chunk: one claim, one COPY bulk append, one commit; a resumed import starts at the first unfinished chunk.</summary>
    public int ChunkSize { get; set; } = 10_000;

    public int MaxListedRejections { get; set; } = 1_000;

    /// <summary>
    /// Hold this node's async projections while an import appends (they catch up after): see <see cref="ProjectionsAside"/>.
    /// On by default: the import then appends at the speed its benchmark measures. Off, they project the history as it is
    /// copied, on the same cores, and are never further behind than that.
    /// </summary>
    public bool HoldProjectionsWhileAppending { get; set; } = true;

    /// <summary>For tests only: after claiming this chunk, wait between the claim and the bulk append until killed or cancelled.</summary>
    public int? HoldAfterClaimOfChunk { get; set; }
}
