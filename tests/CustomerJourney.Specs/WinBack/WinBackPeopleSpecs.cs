using CustomerJourney.Churn;
using CustomerJourney.Complaints;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;
using CustomerJourney.WinBack;

namespace CustomerJourney.Specs.WinBack;

/// <summary>
/// Given a person seen under two customer ids ("a" founded the profile, "b" joined it), when win-back assesses, decides,
/// addresses or attributes, then it judges the person on both members and writes to them once.
/// </summary>
public sealed class WinBackPeopleSpecs
{
    private static readonly DateTimeOffset At = new(2010, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly ChurnOptions Churn = new();
    private static readonly WinBackOptions Options = new();
    private static readonly SlaPolicies Sla = SlaPolicies.From(new SlaPolicyOptions());
    private static readonly WinBackOffer Offer = new(OfferKind.DiscountPercent, 20m, "USD", 30);
    private const string Profile = "pf~a";

    private static string Joined(IEnumerable<string> ids) => string.Join(',', ids);

    private static T On<T>(T touchpoint, string customer, DateTimeOffset at) where T : Touchpoint =>
        touchpoint.As(customer, at, source: "test", channel: Channel.Web);

    private static PurchaseMade Purchase(string customer, DateTimeOffset at, string? code = null) =>
        On(new PurchaseMade { OrderId = Guid.NewGuid().ToString("N"), Amount = 20m, Currency = "USD", OfferCode = code }, customer, at);

    private static CustomerFacts Facts(string customer, IEnumerable<Touchpoint> history, bool erased = false, bool unreadable = false, params ComplaintCase[] cases) =>
        new(customer, history.Select(t => (Guid.NewGuid(), t)).ToList(), erased, cases, [], unreadable);

    /// <summary>"a" gave consent and bought twice, ten days apart; then silence: overdue at <see cref="At"/>.</summary>
    private static List<Touchpoint> Lapsed() =>
    [
        On(new ConsentGiven { Purpose = "marketing-email" }, "a", At.AddDays(-90)),
        Purchase("a", At.AddDays(-59)),
        Purchase("a", At.AddDays(-49)),
    ];

    private static ComplaintCase OpenCase(string customer) =>
        Spec.Complaint.Given(On(new ComplaintLogged { ComplaintId = "k-" + customer, Category = "c", Severity = ComplaintSeverity.Low, Description = "d" }, customer,
            At.AddDays(-3)))!;

    private static Candidate? Assess(CustomerFacts facts, IReadOnlySet<string>? running = null) =>
        WinBackRules.Assess(facts, new CandidateFilter(null, null, null, null), Channel.Email, null, At, running ?? new HashSet<string>(), Churn, Options, Sla);

    private static WinBackCampaign Campaign()
    {
        var planned = new WinBackCampaignPlanned("wb-1", "Spring", new CandidateFilter(null, null, null, null), Offer, Channel.Email, 0, 7, At, At, "user:mia");
        var member = new AudienceMember("a", AudienceGroup.Treatment, 100, 10, null, [FlagReasons.OverduePurchase], WinBackRules.OfferCode("wb-1", "a"), Profile, ["a", "b"]);
        return Spec.Campaign.Given(planned, new WinBackAudienceSelected("wb-1", At, null, [member], [], At))!;
    }

    [Fact]
    public void A_profiles_facts_are_all_its_members_facts_under_the_founders_id()
    {
        var b = Facts("b", [Purchase("b", At.AddDays(-20))], cases: OpenCase("b"));
        var person = CustomerFacts.OfProfile(Profile, [b, Facts("a", Lapsed())]);

        Assert.Equal(("a", Profile, "a,b"), (person.CustomerId, person.ProfileId, Joined(person.People())));
        Assert.Equal(4, person.History.Count);
        Assert.Equal(["a", "a", "a", "b"], person.History.Select(h => h.Touchpoint.CustomerId));
        Assert.Equal("k-b", Assert.Single(person.Cases).ComplaintId);
        Assert.False(person.Erased || person.Unreadable);
    }

    [Fact]
    public void A_profile_is_erased_or_unreadable_when_any_member_is()
    {
        Assert.True(CustomerFacts.OfProfile(Profile, [Facts("a", Lapsed()), Facts("b", [], erased: true)]).Erased);
        Assert.True(CustomerFacts.OfProfile(Profile, [Facts("a", Lapsed()), Facts("b", [], unreadable: true)]).Unreadable);
        Assert.Equal([ExclusionReasons.Unreadable], Assess(CustomerFacts.OfProfile(Profile, [Facts("a", Lapsed()), Facts("b", [], unreadable: true)]))!.Exclusions);
    }

    [Fact]
    public void A_founder_with_no_facts_of_its_own_still_names_the_person()
    {
        var person = CustomerFacts.OfProfile("pf~z", [Facts("a", Lapsed())]);
        Assert.Equal(("z", "a,z"), (person.CustomerId, Joined(person.People())));
    }

    [Fact]
    public void A_customer_read_alone_is_a_profile_of_one()
    {
        var alone = Facts("a", Lapsed());
        Assert.Equal(("pf~a", "a"), (alone.Profile(), Joined(alone.People())));
        var candidate = Assess(alone)!;
        Assert.Equal(("a", "pf~a", "a"), (candidate.CustomerId, candidate.ProfileId, Joined(candidate.Members)));
    }

    public static TheoryData<string> Exclusions => new(ExclusionReasons.Erased, ExclusionReasons.OpenComplaint, ExclusionReasons.NoConsent,
        ExclusionReasons.ContactedRecently, ExclusionReasons.InRunningCampaign);

    [Theory]
    [MemberData(nameof(Exclusions))]
    public void What_one_member_did_excludes_the_person(string reason)
    {
        var other = new List<Touchpoint> { On(new ContactDetailsChanged { Email = "b@example.com" }, "b", At.AddDays(-200)) };
        var running = new HashSet<string>();
        var erased = false;
        var cases = new List<ComplaintCase>();
        switch (reason)
        {
            case ExclusionReasons.Erased:
                erased = true;
                break;
            case ExclusionReasons.OpenComplaint:
                cases.Add(OpenCase("b"));
                break;
            case ExclusionReasons.NoConsent:
                // Later by business time than the founder's grant: the one consent rule over the union says no.
                other.Add(On(new ConsentWithdrawn { Purpose = "marketing-email" }, "b", At.AddDays(-1)));
                break;
            case ExclusionReasons.ContactedRecently:
                other.Add(On(new WinBackOfferSent { CampaignId = "earlier", OfferCode = "WB-1", Offer = Offer, DeliveryKey = "k" }, "b", At.AddDays(-29)));
                break;
            default:
                running.Add("b");
                break;
        }

        var founderAlone = Assess(CustomerFacts.OfProfile(Profile, [Facts("a", Lapsed())]), running)!;
        var person = Assess(CustomerFacts.OfProfile(Profile, [Facts("a", Lapsed()), Facts("b", other, erased, cases: [.. cases])]), running)!;

        Assert.Empty(founderAlone.Exclusions);
        Assert.Equal([reason], person.Exclusions);
        Assert.Equal(("a", "a,b"), (person.CustomerId, Joined(person.Members)));
    }

    [Fact]
    public void A_grant_by_one_member_later_than_anothers_withdrawal_stands_for_the_person()
    {
        var withdrew = new List<Touchpoint> { On(new ConsentWithdrawn { Purpose = "marketing-email" }, "b", At.AddDays(-120)) };
        Assert.Empty(Assess(CustomerFacts.OfProfile(Profile, [Facts("a", Lapsed()), Facts("b", withdrew)]))!.Exclusions);
    }

    [Fact]
    public void The_current_address_is_the_latest_by_business_time_across_members_with_the_member_who_gave_it()
    {
        ContactDetailsChanged Details(string customer, DateTimeOffset at, string? email = null, string? phone = null) =>
            On(new ContactDetailsChanged { Email = email, Phone = phone }, customer, at);
        object[] events =
        [
            Details("b", At.AddDays(-10), email: "b@example.com"),
            // Recorded later, but stated for an earlier instant: not the current address.
            Details("a", At.AddDays(-30), email: "a@example.com", phone: "+15550100"),
            Details("b", At.AddDays(-5), phone: null),
        ];

        Assert.Equal(("b", "b@example.com"), WinBackRules.CurrentAddress(events, Channel.Email));
        Assert.Equal(("a", "+15550100"), WinBackRules.CurrentAddress(events, Channel.Phone));
        Assert.Null(WinBackRules.CurrentAddress(events, Channel.App));
        Assert.Null(WinBackRules.CurrentAddress([.. events, Details("a", At, email: PersonalFields.Erased)], Channel.Email));
        Assert.Null(WinBackRules.CurrentAddress([], Channel.Email));
    }

    [Fact]
    public void The_offer_is_recorded_on_the_addressed_member_and_an_offer_on_any_member_decides_nothing_more()
    {
        var campaign = Campaign();
        var sent = Assert.IsType<WinBackOfferSent>(WinBackRules.DecideSend([.. Lapsed()], [], campaign, campaign.Members[0], true, At, recordOn: "b"));
        Assert.Equal(("b", WinBackRules.OfferCode("wb-1", "a")), (sent.CustomerId, sent.OfferCode));
        Assert.Null(WinBackRules.DecideSend([.. Lapsed(), sent], [], campaign, campaign.Members[0], true, At, recordOn: "a"));

        var suppressed = WinBackRules.DecideSend([.. Lapsed(), On(new ConsentWithdrawn { Purpose = "marketing-email" }, "b", At.AddDays(1))], [], campaign,
            campaign.Members[0], true, At.AddDays(2), recordOn: "b");
        Assert.Equal(("b", SuppressionReasons.ConsentWithdrawn), (suppressed!.CustomerId, Assert.IsType<WinBackOfferSuppressed>(suppressed).Reason));
        Assert.Equal(SuppressionReasons.OpenComplaint,
            Assert.IsType<WinBackOfferSuppressed>(WinBackRules.DecideSend([.. Lapsed()], [OpenCase("b")], campaign, campaign.Members[0], true, At)).Reason);
    }

    [Fact]
    public void A_purchase_by_another_member_reactivates_and_redeems_for_the_person_on_the_audience_members_stream()
    {
        var campaign = Campaign();
        var member = campaign.Members[0];
        var sent = WinBackRules.DecideSend([.. Lapsed()], [], campaign, member, true, At, recordOn: "b")!;
        var history = Lapsed().Append(sent).Append(Purchase("b", At.AddDays(4), member.OfferCode)).ToList();

        var outcomes = WinBackRules.Attribute(history, campaign, member);

        Assert.Equal([("a", typeof(CustomerReactivated)), ("a", typeof(WinBackOfferRedeemed))], outcomes.Select(o => (o.CustomerId, o.GetType())));
        Assert.Empty(WinBackRules.Attribute([.. history, .. outcomes], campaign, member));
    }

    [Fact]
    public void The_report_counts_an_offer_recorded_on_another_member_and_that_members_purchases_for_the_person()
    {
        var campaign = Campaign();
        var code = campaign.Members[0].OfferCode;
        Touchpoint[] outcomes =
        [
            On(new WinBackOfferSent { CampaignId = "wb-1", OfferCode = code, Offer = Offer, DeliveryKey = "k" }, "b", At),
            On(new CustomerReactivated { CampaignId = "wb-1", Group = AudienceGroup.Treatment, OrderId = "o1", Amount = 50m, Currency = "USD" }, "a", At.AddDays(2)),
        ];
        var personOf = new Dictionary<string, string> { ["a"] = "a", ["b"] = "a" };

        var report = WinBackReport.Measure(campaign, outcomes, [new MemberPurchase("b", 50m, "USD"), new MemberPurchase("a", 10m, "USD")], 5m, personOf);

        Assert.Equal((1, 1, 1), (report.Treatment.Assigned, report.Treatment.Sent, report.Treatment.Reactivated));
        Assert.Equal(60m, report.Treatment.Revenue["USD"]);
    }
}
