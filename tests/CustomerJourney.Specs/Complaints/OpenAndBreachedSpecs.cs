using CustomerJourney.Complaints;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Specs.Complaints;

/// <summary>
/// Given a case's steps, at a business instant: is it open, and which promises has it broken? The one meaning every
/// reader (decisions, the summary, win-back, the churn flag) uses. Promises: acknowledge 24 h, resolve 5 days, follow-up 3 days.
/// </summary>
public sealed class OpenAndBreachedSpecs
{
    private const string Id = "k-1";
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
    private static readonly SlaPromises Promises = new(TimeSpan.FromHours(24), TimeSpan.FromDays(5), TimeSpan.FromDays(3), CalendarHoursClock.Instance, "calendar");

    private static Touchpoint Step(string step)
    {
        // "ack:1" = acknowledged on day 1 (days after logging, which is day 0).
        var parts = step.Split(':');
        Touchpoint touchpoint = parts[0] switch
        {
            "ack" => new ComplaintAcknowledged { ComplaintId = Id },
            "wait" => new ComplaintAwaitingCustomer { ComplaintId = Id, Reason = "photo" },
            "answer" => new CustomerResponded { ComplaintId = Id },
            "resolve" => new ComplaintResolved { ComplaintId = Id, RootCause = "carrier", Summary = "resent" },
            "call" => new FollowUpCallCompleted { ComplaintId = Id, Outcome = CallOutcome.Reached, Satisfied = true },
            "close" => new ComplaintClosed { ComplaintId = Id },
            "reopen" => new ComplaintReopened { ComplaintId = Id, Reason = "still broken" },
            _ => throw new ArgumentException(step, nameof(step)),
        };
        return touchpoint.As("c", T0.AddDays(double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)), sourceId: step);
    }

    private static ComplaintCase Case(params string[] steps) =>
        Spec.Complaint.Given([
            new ComplaintLogged { ComplaintId = Id, Category = "delivery", Severity = ComplaintSeverity.Medium, Description = "d" }.As("c", T0, sourceId: "log"),
            .. steps.Select(Step)])!;

    /// <summary>Steps (all of them recorded), the day asked about, then: open? which promises broken (promise/cycle)?</summary>
    public static TheoryData<string, string[], double, bool, string[]> Cases => new()
    {
        { "not yet logged", [], -1, false, [] },
        { "logged, inside its promise", [], 0.5, true, [] },
        { "logged, past the acknowledge promise", [], 1.5, true, ["Acknowledge/0"] },
        { "acknowledged in time", ["ack:0.5"], 3, true, [] },
        { "acknowledged late: still a broken promise", ["ack:1.5"], 3, true, ["Acknowledge/0"] },
        { "acknowledged, past the resolve promise", ["ack:0.5"], 5.5, true, ["Resolve/0"] },
        { "waiting for the customer is open, and its clock is paused", ["ack:0.5", "wait:1"], 9, true, [] },
        { "resolved in time", ["ack:0.5", "resolve:2"], 3, false, [] },
        { "resolved late: not open, though a promise was broken", ["ack:0.5", "resolve:6"], 7, false, ["Resolve/0"] },
        { "closed", ["ack:0.5", "resolve:2", "close:3"], 4, false, [] },
        { "closed without the follow-up call: the promise is withdrawn", ["ack:0.5", "resolve:2", "close:3"], 9, false, [] },
        { "reopened: open again, with a new resolve promise", ["ack:0.5", "resolve:2", "reopen:3"], 4, true, [] },
        { "reopened, past its new resolve promise", ["ack:0.5", "resolve:2", "reopen:3"], 8.5, true, ["Resolve/1"] },
        { "reopened and resolved again", ["ack:0.5", "resolve:2", "reopen:3", "resolve:4"], 5, false, [] },
        // A past instant is judged by what had happened by then, not by steps recorded since.
        { "at a past instant, before the late resolution", ["ack:0.5", "resolve:6", "close:6.5"], 5.5, true, ["Resolve/0"] },
        { "at a past instant, before the acknowledgement", ["ack:1.5", "resolve:2", "close:3"], 1.2, true, ["Acknowledge/0"] },
        { "at a past instant, before a reopening", ["ack:0.5", "resolve:2", "reopen:3"], 2.5, false, [] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_case_is_open_from_logging_or_reopening_until_resolved_or_closed_and_breached_once_a_promise_was_missed(
        string name, string[] steps, double day, bool open, string[] broken)
    {
        var c = Case(steps);
        var at = T0.AddDays(day);

        Assert.True(open == c.IsOpenAt(at), name);
        Assert.Equal(broken, SlaClocks.BreachedAt(c, Promises, at).Select(k => $"{k.Promise}/{k.Cycle}"));
    }

    [Theory]
    [InlineData(new string[0], true)]
    [InlineData(new[] { "ack:0.5", "wait:1" }, true)]
    [InlineData(new[] { "ack:0.5", "resolve:2" }, false)]
    [InlineData(new[] { "ack:0.5", "resolve:2", "close:3" }, false)]
    [InlineData(new[] { "ack:0.5", "resolve:2", "reopen:3" }, true)]
    public void Open_on_everything_known_is_the_same_function_with_no_cut_off(string[] steps, bool open)
    {
        var c = Case(steps);

        Assert.Equal(open, c.IsOpen);
        Assert.Equal(open, c.IsOpenAt(DateTimeOffset.MaxValue));
    }

    [Fact]
    public void A_recorded_breach_changes_nothing_about_whether_the_case_is_breached()
    {
        var c = Case("ack:1.5");
        var recorded = ComplaintCase.Fold(c, new ComplaintSlaBreached(Id, "c", SlaPromise.Acknowledge, 0, "standard", T0.AddDays(1), T0.AddDays(1.1), TimeSpan.FromHours(2)))!;

        Assert.Equal(SlaClocks.BreachedAt(c, Promises, T0.AddDays(3)), SlaClocks.BreachedAt(recorded, Promises, T0.AddDays(3)));
    }
}
