using CustomerJourney.Complaints;
using CustomerJourney.Journeys;
using CustomerJourney.Touchpoints;
using CustomerJourney.WinBack;

namespace CustomerJourney.Tests.Support;

/// <summary>
/// Given past events, the state the aggregate's own fold leaves (in record order): <c>Spec.Complaint.Given(logged, acknowledged)</c>.
/// The spec then calls the decider or rule on that state (when) and asserts on what it answers (then).
/// </summary>
public sealed record Spec<TState, TEvent>(Func<TState> Initial, Func<TState, TEvent, TState> Apply)
{
    public TState Given(params IEnumerable<TEvent> events) => events.Aggregate(Initial(), Apply);
}

/// <summary>The folds the specs start from, and how a spec stamps a touchpoint as the intake would store it.</summary>
public static class Spec
{
    /// <summary>A complaint case: null until it is logged.</summary>
    public static Spec<ComplaintCase?, object> Complaint { get; } = new(() => null, ComplaintCase.Fold);

    /// <summary>A win-back campaign: null until it is planned.</summary>
    public static Spec<WinBackCampaign?, object> Campaign { get; } = new(() => null, WinBackCampaign.Fold);

    /// <summary>A customer's summary, through the projection's own fold.</summary>
    public static Spec<CustomerSummary, Touchpoint> Summary(string customerId) =>
        new(() => new CustomerSummary { Id = customerId }, CustomerSummaryProjection.Fold);

    /// <summary>The touchpoint as the intake stores it: its customer, business time, source and source id (a fresh one unless given).</summary>
    public static T As<T>(this T touchpoint, string customer, DateTimeOffset at, string source = "s", string? sourceId = null, Channel? channel = null)
        where T : Touchpoint =>
        touchpoint with
        {
            CustomerId = customer,
            OccurredAt = at,
            Source = source,
            SourceId = sourceId ?? Guid.NewGuid().ToString("N"),
            Channel = channel ?? touchpoint.Channel,
        };
}
