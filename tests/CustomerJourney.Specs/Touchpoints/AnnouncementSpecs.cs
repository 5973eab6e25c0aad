using System.Globalization;
using System.Text.Json;
using CsCheck;
using CustomerJourney.Churn;
using CustomerJourney.Complaints;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Specs.Touchpoints;

/// <summary>
/// Given what one ingest transaction recorded, then what the reactions hear of it: flags are evaluated only for customers
/// whose flag inputs changed, and identity resolution hears only of touchpoints that may link.
/// </summary>
public sealed class AnnouncementSpecs
{
    private static readonly DateTimeOffset Start = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly SlaPolicies Sla = SlaPolicies.From(new SlaPolicyOptions());

    /// <summary>Each catalogue kind's example, read by the intake as an ingest request reads it.</summary>
    private static Touchpoint Example(string kind, string customer = "c-1", double day = 0)
    {
        using var document = JsonDocument.Parse(TouchpointJson.Kind(kind, TouchpointExamples.DataFor(kind)).ToJsonString());
        var result = TouchpointIntake.Read(document.RootElement, customer, Start.AddYears(5), new PlaintextPersonalData());
        Assert.True(result.Accepted, kind);
        return result.Touchpoint! with { CustomerId = customer, OccurredAt = Start.AddDays(day) };
    }

    public static TheoryData<string> Kinds() => [.. TouchpointExamples.All.Select(e => e.Kind)];

    [Fact]
    public void Loyalty_points_and_a_support_contact_ask_for_no_reaction()
    {
        Assert.Empty(TouchpointLedger.Announcements([(Example("loyalty-points-earned"), Guid.NewGuid()), (Example("support-contact", "c-2"), Guid.NewGuid())]));
    }

    [Fact]
    public void A_survey_answer_asks_for_its_customers_flags_only()
    {
        var message = Assert.Single(TouchpointLedger.Announcements([(Example("survey-answered"), Guid.NewGuid()), (Example("loyalty-points-earned", "c-2"), Guid.NewGuid())]));

        Assert.Equal(["c-1"], Assert.IsType<TouchpointsRecorded>(message).CustomerIds);
    }

    [Fact]
    public void A_purchase_asks_for_flags_and_attribution_and_new_contact_details_for_identity_resolution()
    {
        var contact = Guid.NewGuid();
        var messages = TouchpointLedger.Announcements([
            (Example("purchase"), Guid.NewGuid()), (Example("purchase"), Guid.NewGuid()), (Example("contact-details-changed", "c-2"), contact),
        ]);

        Assert.Equal(["c-1"], Assert.Single(messages.OfType<TouchpointsRecorded>()).CustomerIds);
        Assert.Equal(["c-1"], Assert.Single(messages.OfType<PurchasesRecorded>()).CustomerIds);
        Assert.Equal([new AppendedTouchpoint("c-2", contact)], Assert.Single(messages.OfType<TouchpointsAppended>()).Touchpoints);
    }

    [Fact]
    public void A_complaint_step_on_its_cases_stream_asks_for_flags_but_not_for_identity_resolution()
    {
        var message = Assert.Single(TouchpointLedger.Announcements([(Example("complaint-logged"), null)]));

        Assert.Equal(["c-1"], Assert.IsType<TouchpointsRecorded>(message).CustomerIds);
    }

    /// <summary>
    /// The flag evaluation reads customers' streams by kind (<see cref="ChurnFlagRules.ReadsKind"/>): the kind must say what
    /// each touchpoint of it says, and a complaint step or a consent statement is always read.
    /// </summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public void What_the_flag_rules_read_is_decided_by_the_kind(string kind)
    {
        var example = Example(kind);

        Assert.Equal(ChurnFlagRules.ReadsInput(example), ChurnFlagRules.ReadsKind(example.GetType()));
        Assert.Equal(CustomerJourney.Journeys.Consent.PurposeOf(example) is not null, CustomerJourney.Journeys.Consent.IsStatement(example.GetType()));
        Assert.True(ComplaintCase.CaseOf(example) is null || ChurnFlagRules.ReadsKind(example.GetType()), kind);
    }

    /// <summary>
    /// The rule's other half: a kind the flag rules are said not to read changes no customer's flags, whatever their history
    /// and wherever in it the touchpoint falls. Each history below raises at least one flag of its own.
    /// </summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_kind_the_flag_rules_do_not_read_changes_no_flag(string kind)
    {
        if (ChurnFlagRules.ReadsInput(Example(kind)))
        {
            return;
        }

        foreach (var (name, history) in Histories())
        {
            var before = Evaluate(history);
            Assert.NotEmpty(before);
            foreach (var day in new[] { -1.0, 15, 25, 44 })
            {
                var after = Evaluate([.. history, (Guid.NewGuid(), Example(kind, day: day))]);
                Assert.True(Describe(before) == Describe(after), $"{kind} on day {day} changed the flags of '{name}': {Describe(before)} -> {Describe(after)}");
            }
        }
    }

    [Fact]
    public void A_consent_grant_and_a_happy_answer_are_announced_as_able_only_to_clear_their_flags()
    {
        var happy = (SurveyAnswered)Example("survey-answered") with { Csat = 5, Nps = 9 };
        var unhappy = happy with { CustomerId = "c-3", Nps = 2 };

        var message = Assert.Single(TouchpointLedger.Announcements([
            (Example("consent-given"), Guid.NewGuid()), (happy, Guid.NewGuid()), (Example("consent-given", "c-2"), Guid.NewGuid()),
            (Example("purchase", "c-2"), Guid.NewGuid()), (unhappy, Guid.NewGuid()),
        ]).OfType<TouchpointsRecorded>());

        Assert.Equal(["c-1", "c-2", "c-3"], message.CustomerIds);
        // c-2 bought and c-3 answered unhappily: either may raise a flag, so they are evaluated in full.
        var only = Assert.Single(message.MayOnlyClear!);
        Assert.Equal("c-1", only.Key);
        Assert.Equal([FlagReasons.ConsentWithdrawn, FlagReasons.UnhappyAnswer], only.Value);
    }

    [Fact]
    public void Requests_batched_together_keep_a_customer_clearing_only_if_every_request_says_so()
    {
        var evaluations = EvaluateFlagsWhenTouchpointsRecordedHandler.Handle([
            new TouchpointsRecorded(["c-1", "c-2", "c-3"], new Dictionary<string, IReadOnlyList<string>>
            {
                ["c-1"] = [FlagReasons.ConsentWithdrawn], ["c-2"] = [FlagReasons.ConsentWithdrawn],
            }),
            new TouchpointsRecorded(["c-1", "c-2"], new Dictionary<string, IReadOnlyList<string>> { ["c-1"] = [FlagReasons.UnhappyAnswer] }),
            new TouchpointsRecorded(["c-4"]),
        ]).ToList();

        var evaluation = Assert.Single(evaluations);
        Assert.Equal(["c-1", "c-2", "c-3", "c-4"], evaluation.CustomerIds);
        var only = Assert.Single(evaluation.MayOnlyClear!);
        Assert.Equal("c-1", only.Key);
        Assert.Equal([FlagReasons.ConsentWithdrawn, FlagReasons.UnhappyAnswer], only.Value);
        Assert.Null(Assert.Single(EvaluateFlagsWhenTouchpointsRecordedHandler.Handle([new TouchpointsRecorded(["c-1"])])).MayOnlyClear);
    }

    /// <summary>
    /// What <see cref="ChurnFlagRules.CanOnlyClear"/> claims, over generated histories (purchases, returns, answers, calls
    /// inside and outside a case, consent statements for marketing and other purposes, complaint steps): a touchpoint it
    /// names raises no flag, wherever it falls, and clears none but the one it names. Every generated touchpoint is tried,
    /// so one it wrongly called clear-only (a detractor's answer, a call on a case) fails here.
    /// </summary>
    [Fact]
    public void A_touchpoint_that_can_only_clear_a_flag_raises_none_and_clears_no_other()
    {
        var touchpoint = Gen.Select(Gen.Int[0, 11], Gen.Int[0, 100], Gen.Int[0, 10], Gen.Int[0, 11]).Select(Generated);
        Gen.Select(touchpoint.Array[0, 14], touchpoint).Sample((history, added) =>
        {
            if (ChurnFlagRules.CanOnlyClear(added) is not { } clears)
            {
                return;
            }

            var before = Evaluate([.. history.Select(t => (Guid.NewGuid(), t))]).Select(f => f.Reason).ToHashSet();
            var after = Evaluate([.. history.Select(t => (Guid.NewGuid(), t)), (Guid.NewGuid(), added)]).Select(f => f.Reason).ToHashSet();
            Assert.True(after.IsSubsetOf(before), $"{added} raised {string.Join(", ", after.Except(before))}");
            Assert.True(before.Except(after).All(r => r == clears), $"{added} cleared {string.Join(", ", before.Except(after))}, not only {clears}");
        }, iter: 3_000);
    }

    /// <summary>A touchpoint of customer c-1 from four numbers: its kind, its day (half days from day 0 to 50: the evaluation is on day 45), and two figures.</summary>
    private static Touchpoint Generated(int kind, int halfDays, int a, int b)
    {
        string[] purposes = ["marketing-email", "marketing-app", "service-updates"];
        Touchpoint touchpoint = kind switch
        {
            0 => new PurchaseMade { OrderId = $"o-{a % 3}", Amount = 10 + a, Currency = "USD" },
            1 => new PurchaseReturned { OrderId = $"o-{a % 3}", Amount = 5 + a, Currency = "USD", Reason = "r" },
            2 => new SurveyAnswered { Csat = a % 6 == 0 ? null : a % 6, Nps = b == 11 ? null : b },
            3 => new SurveyAnswered { Csat = 3 + (a % 3), Nps = 7 + (b % 4) },
            4 => new FollowUpCallCompleted { Outcome = CallOutcome.Reached },
            5 => new FollowUpCallCompleted { Outcome = CallOutcome.Reached, ComplaintId = $"k-{a % 2}" },
            6 or 7 => new ConsentGiven { Purpose = purposes[a % 3] },
            8 => new ConsentWithdrawn { Purpose = purposes[a % 3] },
            9 => new ComplaintLogged { ComplaintId = $"k-{a % 2}", Category = "c", Severity = ComplaintSeverity.Medium, Description = "d" },
            10 => new ComplaintAcknowledged { ComplaintId = $"k-{a % 2}" },
            _ => new ComplaintResolved { ComplaintId = $"k-{a % 2}", RootCause = "carrier", Summary = "resent" },
        };
        return touchpoint.As("c-1", Start.AddDays(halfDays / 2.0), channel: Channel.Web);
    }

    [Fact]
    public void Purchases_returns_answers_calls_complaint_steps_and_consent_are_inputs()
    {
        var inputs = TouchpointExamples.All.Select(e => e.Kind).Where(k => ChurnFlagRules.ReadsInput(Example(k))).ToHashSet();

        Assert.Equal(["support-contact", "loyalty-points-earned", "loyalty-points-redeemed", "contact-details-changed"],
            TouchpointExamples.All.Select(e => e.Kind).Where(k => !inputs.Contains(k)));
    }

    private static IReadOnlyList<ChurnFlag> Evaluate(IReadOnlyList<(Guid, Touchpoint)> history) =>
        ChurnFlagRules.Evaluate(history, null, Start.AddDays(45), new FlagSettings(), TimeZoneInfo.Utc, Sla);

    private static string Describe(IReadOnlyList<ChurnFlag> flags) =>
        string.Join("; ", flags.Select(f => $"{f.Reason} {f.Figure.ToString(CultureInfo.InvariantCulture)} [{string.Join(",", f.EventIds)}] {f.Detail}"));

    private static IEnumerable<(string Name, IReadOnlyList<(Guid, Touchpoint)> History)> Histories()
    {
        (Guid, Touchpoint) On(string kind, double day) => (Guid.NewGuid(), Example(kind, day: day));
        (Guid, Touchpoint) Purchase(double day, decimal amount = 10) =>
            (Guid.NewGuid(), Example("purchase", day: day) is PurchaseMade p ? p with { OrderId = $"o-{day}", Amount = amount } : throw new InvalidOperationException());

        yield return ("overdue", [Purchase(0), Purchase(5), Purchase(10)]);
        yield return ("open complaint past its promise", [Purchase(0), On("complaint-logged", 20)]);
        yield return ("detractor without a call", [Purchase(0), On("survey-answered", 30)]);
        yield return ("consent withdrawn", [On("consent-given", 1), On("consent-withdrawn", 2)]);
        yield return ("most of the last order returned", [Purchase(40, 10),
            (Guid.NewGuid(), Example("return", day: 41) is PurchaseReturned r ? r with { OrderId = "o-40" } : throw new InvalidOperationException())]);
    }
}
