using CustomerJourney.Complaints;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Specs.Complaints;

/// <summary>The promise clocks of a case, derived from its events, under a policy.</summary>
public sealed class SlaClockEvaluationSpecs
{
    private const string Id = "k-1";
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero); // a Monday

    private static readonly SlaPromises Calendar = new(TimeSpan.FromHours(24), TimeSpan.FromDays(5), TimeSpan.FromDays(3), CalendarHoursClock.Instance, "calendar");

    private static T At<T>(T step, double hours) where T : Touchpoint => step.As("c", T0.AddHours(hours));

    private static ComplaintCase Case(params Touchpoint[] steps) =>
        Spec.Complaint.Given([At(new ComplaintLogged { ComplaintId = Id, Category = "delivery", Severity = ComplaintSeverity.Low, Description = "d" }, 0), .. steps])!;

    private static PromiseClock Clock(ComplaintCase c, SlaPromise promise, double nowHours, int cycle = 0, SlaPromises? promises = null) =>
        SlaClocks.Evaluate(c, promises ?? Calendar, T0.AddHours(nowHours)).Single(k => k.Promise == promise && k.Cycle == cycle);

    [Fact]
    public void An_acknowledgement_inside_the_promise_meets_it()
    {
        var clock = Clock(Case(At(new ComplaintAcknowledged { ComplaintId = Id }, 23)), SlaPromise.Acknowledge, 100);

        Assert.Equal((PromiseState.Met, T0.AddHours(24)), (clock.State, clock.DueAt));
    }

    [Fact]
    public void A_late_acknowledgement_breaches_by_how_late_it_was()
    {
        var clock = Clock(Case(At(new ComplaintAcknowledged { ComplaintId = Id }, 30)), SlaPromise.Acknowledge, 100);

        Assert.Equal((PromiseState.Breached, TimeSpan.FromHours(6)), (clock.State, clock.OverdueBy));
    }

    [Fact]
    public void An_unanswered_complaint_runs_then_breaches_when_its_time_is_up()
    {
        Assert.Equal(PromiseState.Running, Clock(Case(), SlaPromise.Acknowledge, 23.9).State);
        Assert.Equal((PromiseState.Breached, TimeSpan.FromHours(1)), (Clock(Case(), SlaPromise.Acknowledge, 25).State, Clock(Case(), SlaPromise.Acknowledge, 25).OverdueBy));
    }

    [Fact]
    public void Waiting_on_the_customer_pauses_the_resolve_clock_and_moves_its_due_time()
    {
        var waiting = Case(At(new ComplaintAcknowledged { ComplaintId = Id }, 1), At(new ComplaintAwaitingCustomer { ComplaintId = Id, Reason = "photo" }, 10));
        var answered = Case(At(new ComplaintAcknowledged { ComplaintId = Id }, 1), At(new ComplaintAwaitingCustomer { ComplaintId = Id, Reason = "photo" }, 10),
            At(new CustomerResponded { ComplaintId = Id }, 58));

        var paused = Clock(waiting, SlaPromise.Resolve, 200);
        Assert.Equal((PromiseState.Paused, (DateTimeOffset?)null), (paused.State, paused.DueAt));
        Assert.Equal(TimeSpan.FromHours(10), paused.Counted);
        Assert.Equal(T0.AddDays(5).AddHours(48), Clock(answered, SlaPromise.Resolve, 100).DueAt);
    }

    [Fact]
    public void Reopening_starts_a_new_resolve_clock_and_withdraws_the_pending_follow_up()
    {
        var c = Case(At(new ComplaintAcknowledged { ComplaintId = Id }, 1), At(new ComplaintResolved { ComplaintId = Id, RootCause = "r", Summary = "s" }, 20),
            At(new ComplaintReopened { ComplaintId = Id, Reason = "again" }, 30));

        Assert.Equal(PromiseState.Met, Clock(c, SlaPromise.Resolve, 40).State);
        Assert.Equal(PromiseState.Withdrawn, Clock(c, SlaPromise.FollowUp, 200).State);
        var second = Clock(c, SlaPromise.Resolve, 40, cycle: 1);
        Assert.Equal((PromiseState.Running, T0.AddHours(30).AddDays(5)), (second.State, second.DueAt));
    }

    [Fact]
    public void Breaches_are_reported_once_per_promise_and_cycle()
    {
        var c = Case();
        var now = T0.AddHours(30);

        var first = SlaClocks.Breaches(c, Calendar, "standard", now);
        var recorded = first.Aggregate(c, (s, b) => ComplaintCase.Fold(s, b)!);

        var breach = Assert.Single(first);
        Assert.Equal((SlaPromise.Acknowledge, 0, T0.AddHours(24), TimeSpan.FromHours(6)), (breach.Promise, breach.Cycle, breach.DueAt, breach.OverdueBy));
        Assert.Empty(SlaClocks.Breaches(recorded, Calendar, "standard", now));
    }

    [Fact]
    public void The_promise_check_records_the_missed_promise_and_schedules_the_next_one_after_it()
    {
        var policies = SlaPolicies.From(new SlaPolicyOptions());
        var promises = policies.For(ComplaintSeverity.Low);
        var missed = T0 + promises.Acknowledge + TimeSpan.FromHours(1);

        var (breaches, next) = SlaClocks.Check(Case(), policies, missed);

        Assert.Equal(SlaPromise.Acknowledge, Assert.Single(breaches).Promise);
        Assert.Equal(T0 + promises.Resolve, next);
        var early = SlaClocks.Check(Case(), policies, T0.AddMinutes(1));
        Assert.Empty(early.Breaches);
        Assert.Equal(T0 + promises.Acknowledge, early.NextDue);
    }

    [Fact]
    public void The_next_check_is_the_earliest_running_promise()
    {
        var c = Case(At(new ComplaintAcknowledged { ComplaintId = Id }, 1));

        Assert.Equal(T0.AddDays(5), SlaClocks.NextDue(c, Calendar, T0.AddHours(2)));
        Assert.Equal(T0.AddHours(24), SlaClocks.NextDue(Case(), Calendar, T0.AddHours(2)));
    }

    [Fact]
    public void In_business_hours_a_friday_evening_complaint_is_due_on_monday()
    {
        var week = Enumerable.Range(1, 5).ToDictionary(d => (DayOfWeek)d, _ => (IReadOnlyList<OpeningWindow>)[new OpeningWindow(new TimeOnly(9, 0), new TimeOnly(17, 0))]);
        var business = Calendar with { Acknowledge = TimeSpan.FromHours(8), Clock = new BusinessHoursClock(new BusinessCalendar(TimeZoneInfo.Utc, week, new HashSet<DateOnly>())) };
        var friday = new ComplaintLogged { ComplaintId = Id, Category = "delivery", Severity = ComplaintSeverity.Low, Description = "d", CustomerId = "c", OccurredAt = T0.AddDays(4).AddHours(9) };
        var c = ComplaintCase.Fold(null, friday)!;

        Assert.Equal(T0.AddDays(7).AddHours(8), SlaClocks.Evaluate(c, business, friday.OccurredAt).Single(k => k.Promise == SlaPromise.Acknowledge).DueAt);
    }
}
