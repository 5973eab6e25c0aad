using JasperFx.Events;
using Marten.Events.Aggregation;

namespace CustomerJourney.Churn;

public sealed record CurrentFlag(string Reason, double Figure, string Detail, IReadOnlyList<Guid> EventIds, DateTimeOffset RaisedAt);

/// <summary>One raise ("raised") or clear ("cleared") of a flag, as recorded on the customer's stream.</summary>
public sealed record FlagChange(string Change, string Reason, DateTimeOffset At, double? Figure, string? Detail, IReadOnlyList<Guid>? EventIds);

/// <summary>A customer's standing flags and every raise and clear that led to them.</summary>
public sealed record CustomerFlagHistory(IReadOnlyList<CurrentFlag> Current, IReadOnlyList<FlagChange> History)
{
    public static CustomerFlagHistory From(string customerId, IEnumerable<object> customerEvents)
    {
        var events = customerEvents.ToList();
        var history = events.Select(e => e switch
        {
            ChurnFlagRaised r => new FlagChange("raised", r.Reason, r.RaisedAt, r.Figure, r.Detail, r.EventIds),
            ChurnFlagCleared c => new FlagChange("cleared", c.Reason, c.ClearedAt, null, null, null),
            _ => null,
        }).OfType<FlagChange>().ToList();
        return new CustomerFlagHistory(ChurnFlagsView.Of(customerId, events).Flags, history);
    }
}

/// <summary>A customer's standing flags and value at risk, for the ranked list.</summary>
public sealed class ChurnFlagsView
{
    public string Id { get; set; } = "";
    public List<CurrentFlag> Flags { get; set; } = [];
    public double ValueAtRisk { get; set; }
    public Guid? ModelId { get; set; }
    public int FlagCount { get; set; }

    /// <summary>The customer's flags folded from their stream's events.</summary>
    public static ChurnFlagsView Of(string customerId, IEnumerable<object> events) => events.Aggregate(new ChurnFlagsView { Id = customerId }, Fold);

    public static ChurnFlagsView Fold(ChurnFlagsView view, object e)
    {
        switch (e)
        {
            case ChurnFlagRaised raised:
                view.Flags.RemoveAll(f => f.Reason == raised.Reason);
                view.Flags.Add(new CurrentFlag(raised.Reason, raised.Figure, raised.Detail, raised.EventIds, raised.RaisedAt));
                // Listed by reason, not by when each was raised: two evaluations racing (an append's and a fit's sweep)
                // raise in either order, and the answer must not depend on which won.
                view.Flags.Sort((x, y) => FlagReasons.Rank(x.Reason).CompareTo(FlagReasons.Rank(y.Reason)));
                (view.ValueAtRisk, view.ModelId) = (raised.ValueAtRisk, raised.ModelId);
                break;
            case ChurnFlagCleared cleared:
                view.Flags.RemoveAll(f => f.Reason == cleared.Reason);
                break;
        }

        view.FlagCount = view.Flags.Count;
        return view;
    }
}

/// <summary>Inline: the list answers right after an evaluation.</summary>
public sealed partial class ChurnFlagsViewProjection : SingleStreamProjection<ChurnFlagsView, string>
{
    /// <summary>
    /// Only a raise or a clear moves the view: named, so a transaction appending neither (every ingested batch) neither
    /// loads nor rewrites its customers' views (Marten applies an <c>Evolve</c> without them to every stream appended).
    /// </summary>
    public ChurnFlagsViewProjection()
    {
        IncludeType<ChurnFlagRaised>();
        IncludeType<ChurnFlagCleared>();
    }

    public override ChurnFlagsView? Evolve(ChurnFlagsView? snapshot, string id, IEvent e) => e.Data is ChurnFlagRaised or ChurnFlagCleared
        ? ChurnFlagsView.Fold(snapshot ?? new ChurnFlagsView { Id = id }, e.Data)
        : snapshot;
}
