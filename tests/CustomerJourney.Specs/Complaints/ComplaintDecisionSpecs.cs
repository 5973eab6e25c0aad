using CustomerJourney.Complaints;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Specs.Complaints;

/// <summary>Given a case's events, when a step, then the step is appended or this rule refuses it.</summary>
public sealed class ComplaintDecisionSpecs
{
    private const string Customer = "cust-1";
    private const string Id = "k-1";
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    private static T At<T>(T step, int hours) where T : Touchpoint => step.As(Customer, T0.AddHours(hours), source: "crm");

    private static ComplaintLogged Logged(params string[] orders) =>
        At(new ComplaintLogged { ComplaintId = Id, Category = "delivery", Severity = ComplaintSeverity.Medium, Description = "late", OrderIds = orders }, 0);

    private static readonly Dictionary<string, Func<Touchpoint>> Commands = new()
    {
        ["log"] = () => Logged(),
        ["acknowledge"] = () => At(new ComplaintAcknowledged { ComplaintId = Id }, 10),
        ["escalate"] = () => At(new ComplaintEscalated { ComplaintId = Id, Reason = "asked for a manager" }, 10),
        ["apologize"] = () => At(new ApologyIssued { ComplaintId = Id, By = "ann", Wording = "sorry" }, 10),
        ["offer-remedy"] = () => At(new RemedyOffered { ComplaintId = Id, Remedy = Remedy.GoodwillCredit, Amount = 10, Currency = "USD" }, 10),
        ["accept-remedy"] = () => At(new RemedyAccepted { ComplaintId = Id }, 10),
        ["decline-remedy"] = () => At(new RemedyDeclined { ComplaintId = Id }, 10),
        ["await-customer"] = () => At(new ComplaintAwaitingCustomer { ComplaintId = Id, Reason = "photo" }, 10),
        ["customer-responded"] = () => At(new CustomerResponded { ComplaintId = Id }, 10),
        ["resolve"] = () => At(new ComplaintResolved { ComplaintId = Id, RootCause = "carrier", Summary = "resent" }, 10),
        ["follow-up-call"] = () => At(new FollowUpCallCompleted { ComplaintId = Id, Outcome = CallOutcome.Reached, Satisfied = true }, 10),
        ["close"] = () => At(new ComplaintClosed { ComplaintId = Id }, 10),
        ["reopen"] = () => At(new ComplaintReopened { ComplaintId = Id, Reason = "still broken" }, 10),
    };

    private static readonly Dictionary<string, string[]> States = new()
    {
        ["none"] = [],
        ["logged"] = ["log"],
        ["acknowledged"] = ["log", "acknowledge"],
        ["awaiting-customer"] = ["log", "acknowledge", "await-customer"],
        ["remedy-pending"] = ["log", "acknowledge", "offer-remedy"],
        ["escalated"] = ["log", "acknowledge", "escalate"],
        ["resolved"] = ["log", "acknowledge", "resolve"],
        ["reopened"] = ["log", "acknowledge", "resolve", "reopen"],
        ["closed"] = ["log", "acknowledge", "resolve", "close"],
    };

    private const string Ok = "appended";

    /// <summary>Every (state, step) pair and its outcome: "appended" or the rule that refuses it.</summary>
    private static readonly Dictionary<string, string[]> Outcomes = new()
    {
        //                       log               acknowledge             escalate             apologize  offer-remedy      accept-remedy        decline-remedy       await-customer               customer-responded       resolve               follow-up-call  close           reopen
        ["none"] = [Ok, "unknown-complaint", "unknown-complaint", "unknown-complaint", "unknown-complaint", "unknown-complaint", "unknown-complaint", "unknown-complaint", "unknown-complaint", "unknown-complaint", "unknown-complaint", "unknown-complaint", "unknown-complaint"],
        ["logged"] = ["already-logged", Ok, Ok, Ok, Ok, "no-remedy-pending", "no-remedy-pending", "not-acknowledged", "not-awaiting-customer", "not-acknowledged", "not-resolved", "not-resolved", "not-resolved"],
        ["acknowledged"] = ["already-logged", "already-acknowledged", Ok, Ok, Ok, "no-remedy-pending", "no-remedy-pending", Ok, "not-awaiting-customer", Ok, "not-resolved", "not-resolved", "not-resolved"],
        ["awaiting-customer"] = ["already-logged", "already-acknowledged", Ok, Ok, Ok, "no-remedy-pending", "no-remedy-pending", "already-awaiting-customer", Ok, "awaiting-customer", "not-resolved", "not-resolved", "not-resolved"],
        ["remedy-pending"] = ["already-logged", "already-acknowledged", Ok, Ok, "remedy-pending", Ok, Ok, Ok, "not-awaiting-customer", Ok, "not-resolved", "not-resolved", "not-resolved"],
        ["escalated"] = ["already-logged", "already-acknowledged", "already-escalated", Ok, Ok, "no-remedy-pending", "no-remedy-pending", Ok, "not-awaiting-customer", Ok, "not-resolved", "not-resolved", "not-resolved"],
        ["resolved"] = ["already-logged", "already-acknowledged", "not-open", Ok, "not-open", "no-remedy-pending", "no-remedy-pending", "not-open", "not-awaiting-customer", "already-resolved", Ok, Ok, Ok],
        ["reopened"] = ["already-logged", "already-acknowledged", Ok, Ok, Ok, "no-remedy-pending", "no-remedy-pending", Ok, "not-awaiting-customer", Ok, "not-resolved", "not-resolved", "not-resolved"],
        ["closed"] = ["already-logged", "case-closed", "case-closed", "case-closed", "case-closed", "case-closed", "case-closed", "case-closed", "case-closed", "case-closed", "case-closed", "case-closed", "case-closed"],
    };

    public static TheoryData<string, string, string> Pairs()
    {
        var data = new TheoryData<string, string, string>();
        var commands = Commands.Keys.ToList();
        foreach (var (state, outcomes) in Outcomes)
        {
            for (var i = 0; i < commands.Count; i++)
            {
                data.Add(state, commands[i], outcomes[i]);
            }
        }

        return data;
    }

    private static string Outcome(ComplaintCase? state, Touchpoint step, OrderPayments? payments = null)
    {
        try
        {
            var events = ComplaintDecisions.Decide(state, step, payments ?? OrderPayments.None);
            Assert.Equal([step], events);
            return Ok;
        }
        catch (ComplaintRuleException broken)
        {
            Assert.Equal(broken.Rule is "unknown-complaint" or "other-customer" or "before-logged" or "refund-exceeds-payment" ? 422 : 409, broken.Status);
            return broken.Rule;
        }
    }

    [Fact]
    public void The_table_names_an_outcome_for_every_state_and_step()
    {
        Assert.Equal(States.Keys.Order(), Outcomes.Keys.Order());
        Assert.All(Outcomes.Values, row => Assert.Equal(Commands.Count, row.Length));
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Each_step_in_each_state_is_appended_or_refused_by_its_rule(string state, string command, string expected)
    {
        var given = Spec.Complaint.Given(States[state].Select(c => Commands[c]()));

        Assert.Equal(expected, Outcome(given, Commands[command]()));
    }

    [Fact]
    public void A_step_for_another_customers_complaint_is_refused()
    {
        var step = Commands["acknowledge"]() with { CustomerId = "someone-else" };

        Assert.Equal("other-customer", Outcome(Spec.Complaint.Given([Logged()]), step));
    }

    [Fact]
    public void A_step_dated_before_the_complaint_was_logged_is_refused()
    {
        Assert.Equal("before-logged", Outcome(Spec.Complaint.Given([Logged()]), At(new ComplaintAcknowledged { ComplaintId = Id }, -1)));
    }

    private static RemedyOffered Refund(decimal amount) => At(new RemedyOffered { ComplaintId = Id, Remedy = Remedy.Refund, Amount = amount, Currency = "USD" }, 5);

    private static readonly OrderPayments Paid = new(
        [new OrderMoney("o-1", 30m, "USD"), new OrderMoney("o-2", 20m, "USD"), new OrderMoney("o-3", 99m, "USD")],
        [new OrderMoney("o-2", 5m, "USD")]);

    [Theory]
    [InlineData(45, true)]
    [InlineData(45.01, false)]
    public void A_refund_may_reach_what_was_paid_on_the_named_orders_less_returns(double amount, bool allowed)
    {
        var outcome = Outcome(Spec.Complaint.Given([Logged("o-1", "o-2")]), Refund((decimal)amount), Paid);

        Assert.Equal(allowed ? Ok : "refund-exceeds-payment", outcome);
    }

    [Fact]
    public void Refunds_already_offered_count_against_the_limit_unless_declined()
    {
        var first = Refund(40);
        var accepted = Spec.Complaint.Given([Logged("o-1", "o-2"), first, At(new RemedyAccepted { ComplaintId = Id }, 6)]);
        var declined = Spec.Complaint.Given([Logged("o-1", "o-2"), first, At(new RemedyDeclined { ComplaintId = Id }, 6)]);

        Assert.Equal("refund-exceeds-payment", Outcome(accepted, Refund(5.01m), Paid));
        Assert.Equal(Ok, Outcome(accepted, Refund(5m), Paid));
        Assert.Equal(Ok, Outcome(declined, Refund(45m), Paid));
    }

    [Fact]
    public void A_complaint_naming_no_orders_has_nothing_to_refund_but_may_get_other_remedies()
    {
        Assert.Equal("refund-exceeds-payment", Outcome(Spec.Complaint.Given([Logged()]), Refund(1), Paid));
        Assert.Equal(Ok, Outcome(Spec.Complaint.Given([Logged()]), Commands["offer-remedy"](), Paid));
    }

    [Fact]
    public void A_refund_in_another_currency_than_was_paid_is_refused()
    {
        var euros = Refund(10) with { Currency = "EUR" };

        Assert.Equal("refund-exceeds-payment", Outcome(Spec.Complaint.Given([Logged("o-1")]), euros, Paid));
    }

    [Fact]
    public void Reopening_starts_a_new_cycle_and_is_counted()
    {
        var state = Spec.Complaint.Given(States["reopened"].Select(c => Commands[c]()))!;

        Assert.Equal((ComplaintStatus.Acknowledged, 1, 2), (state.Status, state.Reopened, state.Cycles.Count));
        Assert.Null(state.CurrentCycle.ResolvedAt);
    }

    [Fact]
    public void Waiting_on_the_customer_is_a_pause_that_their_answer_ends()
    {
        var waiting = Spec.Complaint.Given(States["awaiting-customer"].Select(c => Commands[c]()))!;
        var answered = ComplaintCase.Fold(waiting, At(new CustomerResponded { ComplaintId = Id }, 30))!;

        Assert.Null(Assert.Single(waiting.Pauses).To);
        Assert.Equal(T0.AddHours(30), Assert.Single(answered.Pauses).To);
        Assert.Equal(ComplaintStatus.Acknowledged, answered.Status);
    }
}
