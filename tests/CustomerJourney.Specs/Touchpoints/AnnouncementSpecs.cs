using System.Globalization;
using System.Text.Json;
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
