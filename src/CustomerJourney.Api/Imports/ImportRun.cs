using CustomerJourney.Touchpoints;

namespace CustomerJourney.Imports;

/// <summary>Where an import stands while it appends; what comes after (catching up) is read live by <see cref="GetImportEndpoint"/>.</summary>
public static class ImportStates
{
    public const string Importing = "importing";

    /// <summary>Every item was read and appended, refused or recognised as a duplicate.</summary>
    public const string Appended = "appended";

    /// <summary>The process that ran it died; the next import (or a re-run of the command) recovers its last chunk.</summary>
    public const string Interrupted = "interrupted";
}

/// <summary>A refused item: its 0-based position among the file's items, and why.</summary>
public sealed record ImportRejection(long Index, ProblemDetailsBody Problem);

/// <summary>
/// One import of a history: who runs it, the counts so far, the first refused items. Updated in the transaction that
/// closes each chunk, so the counts are those of committed chunks.
/// </summary>
public sealed class ImportRun
{
    /// <summary>"import:&lt;name&gt;" for the command (a re-run resumes it), a fresh id for each HTTP import.</summary>
    public string Id { get; set; } = "";

    /// <summary>Kept as Marten's user_name on every event the import appends.</summary>
    public string RecordedBy { get; set; } = "";

    public string State { get; set; } = ImportStates.Importing;
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset? AppendedAt { get; set; }
    public long Items { get; set; }
    public long Appended { get; set; }

    /// <summary>Of <see cref="Appended"/>: through Marten's COPY bulk append (new customers); the rest took the ledger's normal path.</summary>
    public long BulkAppended { get; set; }

    public long Duplicates { get; set; }
    public long RejectedCount { get; set; }

    /// <summary>The first refused items (at most Imports:MaxListedRejections); <see cref="RejectedCount"/> counts them all.</summary>
    public List<ImportRejection> Rejected { get; set; } = [];

    /// <summary>The event store's highest sequence when the import had appended everything: what projections must reach.</summary>
    public long HighWater { get; set; }
}
