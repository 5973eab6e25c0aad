using CustomerJourney.Touchpoints;
using JasperFx.Events;
using Marten.Events.Aggregation;

namespace CustomerJourney.Complaints;

// A complaint case lives on its own stream, "complaint/<complaintId>". Customer ids cannot contain '/', so the two
// kinds of stream never collide. The steps customers and staff take are touchpoints (business time, channel, source,
// source id), so the ingestion ledger de-duplicates them like any other, and the catalogue
// (Touchpoints/TouchpointCatalogue.cs) maps their `kind` strings onto these records. FollowUpCallCompleted stays with
// the touchpoints in Touchpoints/Events.cs: a call may follow up a survey answer as well as a case.
// Marten stores each event under an alias of its type name ("complaint_logged"), so moving a record between
// namespaces leaves stored events readable; renaming one would not.

/// <summary>A touchpoint that is a step of a complaint case.</summary>
public interface IComplaintStep
{
    string ComplaintId { get; }
}

public enum ComplaintSeverity
{
    Low,
    Medium,
    High,
    Critical,
}

public sealed record ComplaintLogged : Touchpoint, IComplaintStep
{
    public required string ComplaintId { get; init; }
    public required string Category { get; init; }
    public required ComplaintSeverity Severity { get; init; }
    [PersonalData] public required string Description { get; init; }
    public IReadOnlyList<string> OrderIds { get; init; } = [];
}

public sealed record ApologyIssued : Touchpoint, IComplaintStep
{
    public required string ComplaintId { get; init; }
    public required string By { get; init; }
    [PersonalData] public required string Wording { get; init; }
}

public enum Remedy
{
    Refund,
    Replacement,
    Discount,
    GoodwillCredit,
}

public sealed record RemedyOffered : Touchpoint, IComplaintStep
{
    public required string ComplaintId { get; init; }
    public required Remedy Remedy { get; init; }
    public required decimal Amount { get; init; }
    public required string Currency { get; init; }
}

/// <summary>Somebody on our side has read the complaint and told the customer so.</summary>
public sealed record ComplaintAcknowledged : Touchpoint, IComplaintStep
{
    public required string ComplaintId { get; init; }
    [PersonalData] public string? Reason { get; init; }
}

/// <summary>Handed to a supervisor, at any open step.</summary>
public sealed record ComplaintEscalated : Touchpoint, IComplaintStep
{
    public required string ComplaintId { get; init; }
    public string? To { get; init; }
    [PersonalData] public required string Reason { get; init; }
}

public sealed record RemedyAccepted : Touchpoint, IComplaintStep
{
    public required string ComplaintId { get; init; }
}

public sealed record RemedyDeclined : Touchpoint, IComplaintStep
{
    public required string ComplaintId { get; init; }
    [PersonalData] public string? Reason { get; init; }
}

/// <summary>We are waiting for the customer (a photo, a receipt, a call back): the promise clocks pause.</summary>
public sealed record ComplaintAwaitingCustomer : Touchpoint, IComplaintStep
{
    public required string ComplaintId { get; init; }
    [PersonalData] public required string Reason { get; init; }
}

/// <summary>The customer answered what we were waiting for: the clocks run again.</summary>
public sealed record CustomerResponded : Touchpoint, IComplaintStep
{
    public required string ComplaintId { get; init; }
}

public sealed record ComplaintResolved : Touchpoint, IComplaintStep
{
    public required string ComplaintId { get; init; }
    public required string RootCause { get; init; }
    [PersonalData] public required string Summary { get; init; }
}

public sealed record ComplaintClosed : Touchpoint, IComplaintStep
{
    public required string ComplaintId { get; init; }
    [PersonalData] public string? Reason { get; init; }
}

/// <summary>The customer says the resolution did not settle it: the case goes back on the open path.</summary>
public sealed record ComplaintReopened : Touchpoint, IComplaintStep
{
    public required string ComplaintId { get; init; }
    [PersonalData] public required string Reason { get; init; }
}

public enum SlaPromise
{
    Acknowledge,
    Resolve,
    FollowUp,
}

/// <summary>
/// A service promise was not kept. Appended by the service itself (not a touchpoint), once per promise and cycle:
/// cycle 0 is the first time round, cycle n the n-th reopening.
/// </summary>
public sealed record ComplaintSlaBreached(
    string ComplaintId,
    string CustomerId,
    SlaPromise Promise,
    int Cycle,
    string Policy,
    DateTimeOffset DueAt,
    DateTimeOffset DetectedAt,
    TimeSpan OverdueBy);

public enum ComplaintStatus
{
    Logged,
    Acknowledged,
    AwaitingCustomer,
    Resolved,
    Closed,
}

public enum RemedyAnswer
{
    Pending,
    Accepted,
    Declined,
}

public sealed record OfferedRemedy(Remedy Remedy, decimal Amount, string Currency, DateTimeOffset OfferedAt, RemedyAnswer Answer);

/// <summary>One pass along the open path: from logging (or a reopening) to resolution and its follow-up call.</summary>
public sealed record CaseCycle(DateTimeOffset OpenedAt, DateTimeOffset? ResolvedAt = null, DateTimeOffset? FollowUpAt = null);

public sealed record Pause(DateTimeOffset From, DateTimeOffset? To);

public sealed record RecordedBreach(SlaPromise Promise, int Cycle, string Policy, DateTimeOffset DueAt, TimeSpan OverdueBy);

/// <summary>
/// A complaint case: what its decisions read, and what supervisors and the metrics see. Folded from the case's own
/// stream by <see cref="Fold"/>, which both the inline projection and the decision specs use.
/// </summary>
public sealed record ComplaintCase
{
    public const string StreamPrefix = "complaint/";

    public static string StreamKey(string complaintId) => StreamPrefix + complaintId;

    /// <summary>The stream key, "complaint/&lt;complaintId&gt;".</summary>
    public string Id { get; init; } = "";
    public string ComplaintId { get; init; } = "";
    public string CustomerId { get; init; } = "";
    public string Category { get; init; } = "";
    public ComplaintSeverity Severity { get; init; }
    public Channel Channel { get; init; }
    public IReadOnlyList<string> OrderIds { get; init; } = [];
    public ComplaintStatus Status { get; init; }
    public DateTimeOffset LoggedAt { get; init; }
    public DateTimeOffset? AcknowledgedAt { get; init; }
    public DateTimeOffset? EscalatedAt { get; init; }
    public string? EscalatedTo { get; init; }
    public int Apologies { get; init; }
    public IReadOnlyList<OfferedRemedy> Remedies { get; init; } = [];
    public string? RootCause { get; init; }
    public IReadOnlyList<CaseCycle> Cycles { get; init; } = [];
    public int FollowUpCalls { get; init; }
    public bool? Satisfied { get; init; }
    public DateTimeOffset? ClosedAt { get; init; }
    public int Reopened { get; init; }
    public ComplaintStatus? StatusBeforeWaiting { get; init; }
    public IReadOnlyList<Pause> Pauses { get; init; } = [];
    public IReadOnlyList<RecordedBreach> Breaches { get; init; } = [];
    public DateTimeOffset LastStepAt { get; init; }
    public long Version { get; set; }

    /// <summary>Open on everything known: what the decisions read.</summary>
    public bool IsOpen => IsOpenAt(DateTimeOffset.MaxValue);

    /// <summary>
    /// The one meaning of an open complaint, judged by business time: logged (or reopened) by <paramref name="at"/>, and
    /// neither resolved nor closed by then. Waiting for the customer is still open. Decisions, the customer summary,
    /// win-back and the churn flag all ask this, so a closed or resolved case is never "open" to any of them.
    /// </summary>
    public bool IsOpenAt(DateTimeOffset at) =>
        LoggedAt <= at && !(ClosedAt <= at) && Cycles.LastOrDefault(c => c.OpenedAt <= at) is { } cycle && !(cycle.ResolvedAt <= at);

    public CaseCycle CurrentCycle => Cycles[^1];

    /// <summary>The remedy waiting for the customer's answer, if any.</summary>
    public OfferedRemedy? PendingRemedy => Remedies.LastOrDefault(r => r.Answer == RemedyAnswer.Pending);

    public static ComplaintCase? Fold(ComplaintCase? state, object @event) => (state, @event) switch
    {
        (null, ComplaintLogged e) => new ComplaintCase
        {
            Id = StreamKey(e.ComplaintId),
            ComplaintId = e.ComplaintId,
            CustomerId = e.CustomerId,
            Category = e.Category,
            Severity = e.Severity,
            Channel = e.Channel,
            OrderIds = e.OrderIds,
            Status = ComplaintStatus.Logged,
            LoggedAt = e.OccurredAt,
            Cycles = [new CaseCycle(e.OccurredAt)],
            LastStepAt = e.OccurredAt,
        },
        (null, _) => null,
        ({ } s, Touchpoint t) => Step(s, t) with { LastStepAt = Max(s.LastStepAt, t.OccurredAt) },
        ({ } s, ComplaintSlaBreached b) => s with { Breaches = [.. s.Breaches, new RecordedBreach(b.Promise, b.Cycle, b.Policy, b.DueAt, b.OverdueBy)] },
        ({ } s, _) => s,
    };

    private static ComplaintCase Step(ComplaintCase s, Touchpoint step) => step switch
    {
        ComplaintAcknowledged e => s with { Status = ComplaintStatus.Acknowledged, AcknowledgedAt = s.AcknowledgedAt ?? e.OccurredAt },
        ComplaintEscalated e => s with { EscalatedAt = e.OccurredAt, EscalatedTo = e.To },
        ApologyIssued => s with { Apologies = s.Apologies + 1 },
        RemedyOffered e => s with { Remedies = [.. s.Remedies, new OfferedRemedy(e.Remedy, e.Amount, e.Currency, e.OccurredAt, RemedyAnswer.Pending)] },
        RemedyAccepted => AnswerRemedy(s, RemedyAnswer.Accepted),
        RemedyDeclined => AnswerRemedy(s, RemedyAnswer.Declined),
        ComplaintAwaitingCustomer e => s with
        {
            StatusBeforeWaiting = s.Status,
            Status = ComplaintStatus.AwaitingCustomer,
            Pauses = [.. s.Pauses, new Pause(e.OccurredAt, null)],
        },
        CustomerResponded e => s with
        {
            Status = s.StatusBeforeWaiting ?? ComplaintStatus.Acknowledged,
            StatusBeforeWaiting = null,
            Pauses = [.. s.Pauses.Take(s.Pauses.Count - 1), s.Pauses[^1] with { To = e.OccurredAt }],
        },
        ComplaintResolved e => s with
        {
            Status = ComplaintStatus.Resolved,
            RootCause = e.RootCause,
            Cycles = [.. s.Cycles.Take(s.Cycles.Count - 1), s.CurrentCycle with { ResolvedAt = e.OccurredAt }],
        },
        FollowUpCallCompleted e => s with
        {
            FollowUpCalls = s.FollowUpCalls + 1,
            Satisfied = e.Satisfied ?? s.Satisfied,
            Cycles = [.. s.Cycles.Take(s.Cycles.Count - 1), s.CurrentCycle with { FollowUpAt = s.CurrentCycle.FollowUpAt ?? e.OccurredAt }],
        },
        ComplaintClosed e => s with { Status = ComplaintStatus.Closed, ClosedAt = e.OccurredAt },
        ComplaintReopened e => s with
        {
            Status = ComplaintStatus.Acknowledged,
            Reopened = s.Reopened + 1,
            Cycles = [.. s.Cycles, new CaseCycle(e.OccurredAt)],
        },
        _ => s,
    };

    private static ComplaintCase AnswerRemedy(ComplaintCase s, RemedyAnswer answer)
    {
        var index = s.Remedies.Count - 1 - s.Remedies.Reverse().TakeWhile(r => r.Answer != RemedyAnswer.Pending).Count();
        return index < 0 ? s : s with { Remedies = [.. s.Remedies.Select((r, i) => i == index ? r with { Answer = answer } : r)] };
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a >= b ? a : b;

    /// <summary>The step's complaint, when the touchpoint is a step of a complaint case.</summary>
    public static string? CaseOf(Touchpoint touchpoint) => touchpoint switch
    {
        IComplaintStep s => s.ComplaintId,
        FollowUpCallCompleted { ComplaintId: { } id } => id,
        _ => null,
    };
}

/// <summary>Keeps each case's document current in the same transaction as its steps; decisions read the stream itself.</summary>
public sealed class ComplaintCaseProjection : SingleStreamProjection<ComplaintCase, string>
{
    public override ComplaintCase? Evolve(ComplaintCase? snapshot, string id, IEvent e)
    {
        var next = ComplaintCase.Fold(snapshot, e.Data);
        if (next is not null)
        {
            next.Version = e.Version;
        }

        return next;
    }
}
