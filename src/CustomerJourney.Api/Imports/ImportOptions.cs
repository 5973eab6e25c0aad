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
    /// Off by default until the shared-host suite has run green with it on; the import benchmark turns it on.
    /// </summary>
    public bool HoldProjectionsWhileAppending { get; set; }

    /// <summary>For the fault test only: after claiming this chunk, wait to be killed between the claim and the bulk append.</summary>
    public int? HoldAfterClaimOfChunk { get; set; }
}
