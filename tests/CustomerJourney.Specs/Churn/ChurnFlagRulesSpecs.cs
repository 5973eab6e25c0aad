using CustomerJourney.Churn;
using CustomerJourney.Complaints;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Specs.Churn;

/// <summary>Given a customer's touchpoints, when the flag rules run at a time, then these flags (with their reasons and evidence).</summary>
public sealed class ChurnFlagRulesSpecs
{
    private static readonly DateTimeOffset Start = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly FlagSettings Settings = new();

    /// <summary>The built-in promises in force: medium acknowledge 24 h, resolve 5 days, follow-up 3 days; critical 2 h / 24 h / 1 day.</summary>
    private static readonly SlaPolicies Sla = SlaPolicies.From(new SlaPolicyOptions());

    private static (Guid, Touchpoint) On<T>(T touchpoint, double days) where T : Touchpoint =>
        (Guid.NewGuid(), touchpoint.As("c-1", Start.AddDays(days), channel: Channel.Web));

    private static PurchaseMade Purchase(string order = "o", decimal amount = 10) => new() { OrderId = order, Amount = amount, Currency = "USD" };

    private static IReadOnlyList<ChurnFlag> Evaluate(double atDay, params (Guid, Touchpoint)[] history) =>
        ChurnFlagRules.Evaluate(history, null, Start.AddDays(atDay), Settings, TimeZoneInfo.Utc, Sla);

    [Fact]
    public void A_quiet_customer_has_no_flags()
    {
        Assert.Empty(Evaluate(20, On(Purchase(), 0), On(Purchase(), 10)));
    }

    [Fact]
    public void No_purchase_for_more_than_three_typical_gaps_is_overdue_with_the_last_purchase_as_evidence()
    {
        var last = On(Purchase(), 20);

        var flag = Assert.Single(Evaluate(51, On(Purchase(), 0), On(Purchase(), 10), last));

        Assert.Equal((FlagReasons.OverduePurchase, 3.1), (flag.Reason, flag.Figure));
        Assert.Equal([last.Item1], flag.EventIds);
        Assert.Empty(Evaluate(50, On(Purchase(), 0), On(Purchase(), 10), last));
    }

    private static (Guid, Touchpoint) Step(string step, string complaint = "k-1")
    {
        // "ack:2" = a step of the complaint on day 2.
        var parts = step.Split(':');
        Touchpoint touchpoint = parts[0] switch
        {
            "log" => new ComplaintLogged { ComplaintId = complaint, Category = "c", Severity = ComplaintSeverity.Medium, Description = "d" },
            "critical" => new ComplaintLogged { ComplaintId = complaint, Category = "c", Severity = ComplaintSeverity.Critical, Description = "d" },
            "ack" => new ComplaintAcknowledged { ComplaintId = complaint },
            "remedy" => new RemedyOffered { ComplaintId = complaint, Remedy = Remedy.Refund, Amount = 1, Currency = "USD" },
            "resolve" => new ComplaintResolved { ComplaintId = complaint, RootCause = "carrier", Summary = "resent" },
            "close" => new ComplaintClosed { ComplaintId = complaint },
            "reopen" => new ComplaintReopened { ComplaintId = complaint, Reason = "still broken" },
            _ => throw new ArgumentException(step, nameof(step)),
        };
        return On(touchpoint, double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>A complaint logged on day 1 (steps in record order), evaluated on a day: the flag's figure (hours past the promise), or null.</summary>
    public static TheoryData<string, string[], double, double?> ComplaintCases => new()
    {
        { "logged, inside its promise", ["log:1"], 1.9, null },
        { "logged, past the acknowledge promise", ["log:1"], 2.5, 12 },
        { "critical, past its 2 h promise", ["critical:1"], 1.25, 4 },
        { "acknowledged in time, inside the resolve promise", ["log:1", "ack:1.5"], 5.9, null },
        { "a remedy offered does not resolve the case", ["log:1", "ack:1.5", "remedy:3"], 6.5, 12 },
        { "breached, then resolved", ["log:1", "ack:3", "resolve:4"], 5, null },
        { "breached, then closed", ["log:1", "ack:3", "resolve:4", "close:4.5"], 9, null },
        { "reopened, past its new resolve promise", ["log:1", "ack:1.5", "resolve:2", "reopen:3"], 8.5, 12 },
        { "at a past instant the later resolution does not count yet", ["log:1", "ack:3", "resolve:4", "close:4.5"], 3.5, 24 },
    };

    [Theory]
    [MemberData(nameof(ComplaintCases))]
    public void An_open_complaint_that_broke_a_promise_is_unresolved_and_resolving_or_closing_it_clears_the_flag(string name, string[] steps, double day, double? figure)
    {
        var history = steps.Select(s => Step(s)).Prepend(On(Purchase(), 0)).ToArray();

        var flag = Evaluate(day, history).SingleOrDefault(f => f.Reason == FlagReasons.UnresolvedComplaint);

        Assert.True(figure == flag?.Figure, $"{name}: {flag?.Figure}");
        Assert.True(flag is null || flag.EventIds[0] == history[1].Item1, name);
    }

    [Fact]
    public void The_breach_the_complaint_timer_recorded_is_cited_beside_the_complaint()
    {
        var logged = Step("log:1");
        var breach = (Guid.NewGuid(), new ComplaintSlaBreached("k-1", "c-1", SlaPromise.Acknowledge, 0, "standard", Start.AddDays(2), Start.AddDays(2), TimeSpan.Zero));
        var other = (Guid.NewGuid(), new ComplaintSlaBreached("k-2", "c-1", SlaPromise.Acknowledge, 0, "standard", Start.AddDays(2), Start.AddDays(2), TimeSpan.Zero));

        var flag = ChurnFlagRules.Evaluate([On(Purchase(), 0), logged], null, Start.AddDays(3), Settings, TimeZoneInfo.Utc, Sla, [breach, other])
            .Single(f => f.Reason == FlagReasons.UnresolvedComplaint);

        Assert.Equal([logged.Item1, breach.Item1], flag.EventIds);
    }

    [Theory]
    [InlineData(null, 6, true)]
    [InlineData(null, 7, false)]
    [InlineData(2, null, true)]
    [InlineData(3, null, false)]
    public void A_detractor_or_very_unhappy_answer_without_a_follow_up_call_is_flagged(int? csat, int? nps, bool flagged)
    {
        var answer = On(new SurveyAnswered { Csat = csat, Nps = nps }, 2);

        var flags = Evaluate(3, On(Purchase(), 0), answer);
        var afterCall = Evaluate(4, On(Purchase(), 0), answer, On(new FollowUpCallCompleted { Outcome = CallOutcome.Reached, Satisfied = true }, 3));

        Assert.Equal(flagged, flags.Any(f => f.Reason == FlagReasons.UnhappyAnswer && f.EventIds[0] == answer.Item1));
        Assert.DoesNotContain(afterCall, f => f.Reason == FlagReasons.UnhappyAnswer);
    }

    [Fact]
    public void Withdrawn_marketing_consent_is_flagged_until_given_again()
    {
        var withdrawn = On(new ConsentWithdrawn { Purpose = "marketing-email" }, 2);

        Assert.Contains(Evaluate(3, On(Purchase(), 0), withdrawn), f => f.Reason == FlagReasons.ConsentWithdrawn);
        Assert.Empty(Evaluate(4, On(Purchase(), 0), withdrawn, On(new ConsentGiven { Purpose = "marketing-email" }, 3)));
    }

    [Fact]
    public void Returning_most_of_the_last_order_is_flagged_with_the_share()
    {
        var order = On(Purchase("o-9", 40), 1);
        var returned = On(new PurchaseReturned { OrderId = "o-9", Amount = 30, Currency = "USD", Reason = "r" }, 2);

        var flag = Assert.Single(Evaluate(3, order, returned));

        Assert.Equal((FlagReasons.LargeReturn, 0.75), (flag.Reason, flag.Figure));
        Assert.Equal([order.Item1, returned.Item1], flag.EventIds);
        Assert.Empty(Evaluate(3, order, On(new PurchaseReturned { OrderId = "o-9", Amount = 10, Currency = "USD", Reason = "r" }, 2)));
    }

    [Fact]
    public void Deciding_raises_new_reasons_clears_gone_ones_and_repeats_nothing()
    {
        var flags = new[] { new ChurnFlag(FlagReasons.ConsentWithdrawn, 0, "d", []), new ChurnFlag(FlagReasons.LargeReturn, 0.8, "d", []) };

        var first = ChurnFlagRules.Decide("c-1", new HashSet<string>(), flags, 10, null, Start);
        var again = ChurnFlagRules.Decide("c-1", ChurnFlagRules.Current(first), flags, 10, null, Start);
        var later = ChurnFlagRules.Decide("c-1", ChurnFlagRules.Current(first), flags[..1], 10, null, Start);

        Assert.Equal(2, first.OfType<ChurnFlagRaised>().Count());
        Assert.Empty(again);
        Assert.Equal(FlagReasons.LargeReturn, Assert.IsType<ChurnFlagCleared>(Assert.Single(later)).Reason);
    }
}
