using CustomerJourney.Access;
using CustomerJourney.Churn;
using CustomerJourney.Complaints;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;
using CustomerJourney.WinBack;

namespace CustomerJourney.Specs.WinBack;

/// <summary>Given a customer's events, when the campaign assesses, decides or attributes, then these outcomes.</summary>
public sealed class WinBackRulesSpecs
{
    private static readonly DateTimeOffset At = new(2010, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly ChurnOptions Churn = new();
    private static readonly WinBackOptions Options = new();
    private static readonly WinBackOffer Offer = new(OfferKind.DiscountPercent, 20m, "USD", 30);

    private static T On<T>(T touchpoint, string customer, DateTimeOffset at) where T : Touchpoint =>
        touchpoint.As(customer, at, source: "test", channel: Channel.Web);

    private static PurchaseMade Purchase(string customer, DateTimeOffset at, decimal amount = 20m, string? code = null) =>
        On(new PurchaseMade { OrderId = Guid.NewGuid().ToString("N"), Amount = amount, Currency = "USD", OfferCode = code }, customer, at);

    /// <summary>Two purchases ten days apart, then silence: overdue at <see cref="At"/>. Consent given before.</summary>
    private static List<Touchpoint> Lapsed(string customer) =>
    [
        On(new ConsentGiven { Purpose = "marketing-email" }, customer, At.AddDays(-90)),
        Purchase(customer, At.AddDays(-59)),
        Purchase(customer, At.AddDays(-49)),
    ];

    private static readonly SlaPolicies Sla = SlaPolicies.From(new SlaPolicyOptions());

    private static CustomerFacts Facts(string customer, IEnumerable<Touchpoint> history, bool erased = false, params ComplaintCase[] cases) =>
        new(customer, history.Select(t => (Guid.NewGuid(), t)).ToList(), erased, cases, []);

    /// <summary>A complaint case of customer "a" logged at <paramref name="loggedAt"/>; acknowledged and resolved, then closed, at the given times.</summary>
    private static ComplaintCase Case(DateTimeOffset loggedAt, DateTimeOffset? closedAt = null, DateTimeOffset? resolvedAt = null)
    {
        var steps = new List<Touchpoint> { On(new ComplaintLogged { ComplaintId = "k", Category = "c", Severity = ComplaintSeverity.Low, Description = "d" }, "a", loggedAt) };
        if ((resolvedAt ?? closedAt) is { } resolved)
        {
            steps.Add(On(new ComplaintAcknowledged { ComplaintId = "k" }, "a", resolved));
            steps.Add(On(new ComplaintResolved { ComplaintId = "k", RootCause = "r", Summary = "s" }, "a", resolved));
        }

        if (closedAt is { } closed)
        {
            steps.Add(On(new ComplaintClosed { ComplaintId = "k" }, "a", closed));
        }

        return Spec.Complaint.Given(steps)!;
    }

    private static Candidate? Assess(CustomerFacts facts, IReadOnlySet<string>? running = null, CandidateFilter? filter = null) =>
        WinBackRules.Assess(facts, filter ?? new CandidateFilter(null, null, null, null), Channel.Email, null, At, running ?? new HashSet<string>(), Churn, Options, Sla);

    [Fact]
    public void A_lapsed_customer_with_consent_is_an_eligible_candidate_with_the_flag_that_made_them_one()
    {
        var candidate = Assess(Facts("a", Lapsed("a")))!;
        Assert.Empty(candidate.Exclusions);
        Assert.Equal([FlagReasons.OverduePurchase], candidate.Flags.Select(f => f.Reason));
    }

    [Fact]
    public void A_customer_with_no_flag_is_no_candidate_at_all()
    {
        var history = Lapsed("a").Append(Purchase("a", At.AddDays(-5))).ToList();
        Assert.Null(Assess(Facts("a", history)));
    }

    public static TheoryData<string> Exclusions => new(ExclusionReasons.Erased, ExclusionReasons.OpenComplaint, ExclusionReasons.NoConsent,
        ExclusionReasons.ContactedRecently, ExclusionReasons.InRunningCampaign);

    [Theory]
    [MemberData(nameof(Exclusions))]
    public void Each_exclusion_is_named(string reason)
    {
        var history = Lapsed("a");
        var erased = false;
        var cases = new List<ComplaintCase>();
        var running = new HashSet<string>();
        switch (reason)
        {
            case ExclusionReasons.Erased:
                erased = true;
                break;
            case ExclusionReasons.OpenComplaint:
                cases.Add(Case(At.AddDays(-10)));
                break;
            case ExclusionReasons.NoConsent:
                history.Add(On(new ConsentWithdrawn { Purpose = "marketing-email" }, "a", At.AddDays(-1)));
                break;
            case ExclusionReasons.ContactedRecently:
                history.Add(On(new WinBackOfferSent { CampaignId = "earlier", OfferCode = "WB-1", Offer = Offer, DeliveryKey = "k" }, "a", At.AddDays(-29)));
                break;
            default:
                running.Add("a");
                break;
        }

        var candidate = Assess(Facts("a", history, erased, [.. cases]), running)!;
        Assert.Contains(reason, candidate.Exclusions);
    }

    [Fact]
    public void Exclusions_are_measured_at_the_campaigns_instant()
    {
        var history = Lapsed("a");
        history.Add(On(new WinBackOfferSent { CampaignId = "earlier", OfferCode = "WB-1", Offer = Offer, DeliveryKey = "k" }, "a", At.AddDays(-31)));
        history.Add(On(new ConsentWithdrawn { Purpose = "marketing-email" }, "a", At.AddDays(10)));
        var candidate = Assess(Facts("a", history, cases: [Case(At.AddDays(-20), closedAt: At.AddDays(-1)), Case(At.AddDays(1))]))!;
        Assert.Empty(candidate.Exclusions);
    }

    [Fact]
    public void A_resolved_complaint_is_not_open_so_it_neither_excludes_nor_suppresses()
    {
        var resolved = Case(At.AddDays(-20), resolvedAt: At.AddDays(-2));

        Assert.Empty(Assess(Facts("a", Lapsed("a"), cases: resolved))!.Exclusions);
        Assert.IsType<WinBackOfferSent>(DecideSend(Lapsed("a"), cases: resolved));
    }

    [Fact]
    public void Consent_for_another_channel_does_not_count()
    {
        var history = Lapsed("a");
        var candidate = WinBackRules.Assess(Facts("a", history), new CandidateFilter(null, null, null, null), Channel.App, null, At, new HashSet<string>(), Churn, Options, Sla)!;
        Assert.Equal([ExclusionReasons.NoConsent], candidate.Exclusions);
    }

    [Fact]
    public void Segments_and_the_value_filter_narrow_the_candidates()
    {
        Assert.NotNull(Assess(Facts("a", Lapsed("a")), filter: new CandidateFilter(null, null, null, "repeat-buyer")));
        Assert.Null(Assess(Facts("a", Lapsed("a")), filter: new CandidateFilter(null, null, null, "one-time-buyer")));
        Assert.NotNull(Assess(Facts("a", Lapsed("a")), filter: new CandidateFilter(null, null, null, FlagReasons.OverduePurchase)));
        Assert.Null(Assess(Facts("a", Lapsed("a")), filter: new CandidateFilter(null, 1, null, null)));
        // Without a model there is no P(alive) to compare.
        Assert.Null(Assess(Facts("a", Lapsed("a")), filter: new CandidateFilter(null, null, 0.5, null)));
    }

    [Fact]
    public void The_split_is_seeded_stable_under_reordering_and_sized_by_the_share()
    {
        var ids = Enumerable.Range(1, 200).Select(i => $"c{i}").ToList();
        var control = WinBackRules.ControlGroup(ids, 0.1, seed: 42);
        Assert.Equal(20, control.Count);
        Assert.Equal(control, WinBackRules.ControlGroup(Enumerable.Reverse(ids), 0.1, seed: 42));
        Assert.NotEqual(control, WinBackRules.ControlGroup(ids, 0.1, seed: 43));
        Assert.Empty(WinBackRules.ControlGroup(ids, 0, seed: 42));
    }

    private static WinBackCampaign Campaign(DateTimeOffset? at = null, Channel channel = Channel.Email)
    {
        var planned = new WinBackCampaignPlanned("wb-1", "Spring", new CandidateFilter(null, null, null, null), Offer, channel, 0.5, 7, at ?? At, At, "user:mia");
        var member = new AudienceMember("a", AudienceGroup.Treatment, 100, 10, null, [FlagReasons.OverduePurchase], WinBackRules.OfferCode("wb-1", "a"));
        var control = new AudienceMember("b", AudienceGroup.Control, 100, 10, null, [FlagReasons.OverduePurchase], WinBackRules.OfferCode("wb-1", "b"));
        return Spec.Campaign.Given(planned, new WinBackAudienceSelected("wb-1", at ?? At, null, [member, control], [], At))!;
    }

    private static Touchpoint? DecideSend(IEnumerable<object> events, bool hasAddress = true, DateTimeOffset? now = null, params ComplaintCase[] cases)
    {
        var campaign = Campaign();
        return WinBackRules.DecideSend(events.ToList(), cases, campaign, campaign.Members[0], hasAddress, now ?? At.AddDays(1));
    }

    [Fact]
    public void A_consenting_customer_is_sent_the_offer_with_a_stable_code_and_delivery_key()
    {
        var sent = Assert.IsType<WinBackOfferSent>(DecideSend(Lapsed("a")));
        Assert.Equal((WinBackRules.OfferCode("wb-1", "a"), $"{WinBackRules.OfferCode("wb-1", "a")}.wb-1@winback.customerjourney", At),
            (sent.OfferCode, sent.DeliveryKey, sent.OccurredAt));
        Assert.Equal(sent.OfferCode, Assert.IsType<WinBackOfferSent>(DecideSend(Lapsed("a"))).OfferCode);
    }

    [Fact]
    public void A_send_already_decided_decides_nothing()
    {
        var first = DecideSend(Lapsed("a"))!;
        Assert.Null(DecideSend(Lapsed("a").Append(first)));
    }

    [Fact]
    public void Consent_withdrawn_after_selection_suppresses_the_send()
    {
        var history = Lapsed("a").Append(On(new ConsentWithdrawn { Purpose = "marketing-email" }, "a", At.AddDays(20)));
        Assert.Equal(SuppressionReasons.ConsentWithdrawn, Assert.IsType<WinBackOfferSuppressed>(DecideSend(history)).Reason);
    }

    [Fact]
    public void Erasure_an_open_complaint_or_no_address_suppress_the_send()
    {
        Assert.Equal(SuppressionReasons.Erased,
            Assert.IsType<WinBackOfferSuppressed>(DecideSend(Lapsed("a").Append<object>(new CustomerErased("a", At, "user:dpo")))).Reason);
        Assert.Equal(SuppressionReasons.OpenComplaint, Assert.IsType<WinBackOfferSuppressed>(DecideSend(Lapsed("a"), cases: Case(At.AddDays(-1)))).Reason);
        Assert.Equal(SuppressionReasons.NoAddress, Assert.IsType<WinBackOfferSuppressed>(DecideSend(Lapsed("a"), hasAddress: false)).Reason);
    }

    [Fact]
    public void A_live_campaigns_offer_that_could_only_go_out_after_expiry_is_suppressed()
    {
        var live = Campaign() with { At = null };
        var late = WinBackRules.DecideSend(Lapsed("a"), [], live, live.Members[0], true, At.AddDays(31));
        Assert.Equal(SuppressionReasons.OfferExpired, Assert.IsType<WinBackOfferSuppressed>(late).Reason);
    }

    [Fact]
    public void The_first_purchase_in_the_window_reactivates_and_one_with_the_code_redeems_each_once()
    {
        var campaign = Campaign();
        var member = campaign.Members[0];
        var sent = WinBackRules.DecideSend(Lapsed("a"), [], campaign, member, true, At)!;
        var history = Lapsed("a").Append(sent).Append(Purchase("a", At.AddDays(3), 15m)).Append(Purchase("a", At.AddDays(5), 40m, member.OfferCode.ToLowerInvariant()))
            .Append(Purchase("a", At.AddDays(31), 99m, member.OfferCode)).ToList();

        var outcomes = WinBackRules.Attribute(history, campaign, member);
        var reactivated = Assert.IsType<CustomerReactivated>(outcomes[0]);
        var redeemed = Assert.IsType<WinBackOfferRedeemed>(outcomes[1]);
        Assert.Equal((15m, AudienceGroup.Treatment, 40m), (reactivated.Amount, reactivated.Group, redeemed.Amount));
        Assert.Empty(WinBackRules.Attribute([.. history, .. outcomes], campaign, member));
    }

    [Fact]
    public void A_control_member_is_reactivated_but_never_redeems_and_purchases_outside_the_window_do_not_count()
    {
        var campaign = Campaign();
        var control = campaign.Members[1];
        var before = WinBackRules.Attribute([Purchase("b", At.AddDays(-1)), Purchase("b", At.AddDays(40), code: control.OfferCode)], campaign, control);
        Assert.Empty(before);
        var outcome = Assert.Single(WinBackRules.Attribute([Purchase("b", At.AddDays(2), code: control.OfferCode)], campaign, control));
        Assert.Equal(AudienceGroup.Control, Assert.IsType<CustomerReactivated>(outcome).Group);
    }

    [Fact]
    public void The_uplift_interval_matches_Newcombes_published_example()
    {
        // Newcombe (1998), Statistics in Medicine 17:873-890, Table II example (a): 56/70 against 48/80, method 10.
        var uplift = WinBackReport.UpliftOf(56, 70, 48, 80)!;
        Assert.Equal(0.2, uplift.Difference, 4);
        Assert.Equal(0.0524, uplift.Lower, 4);
        Assert.Equal(0.3339, uplift.Upper, 4);
        Assert.Null(WinBackReport.UpliftOf(1, 10, 0, 0));
    }

    [Fact]
    public void The_report_counts_per_group_and_prices_the_redemptions()
    {
        var campaign = Campaign();
        var a = campaign.Members[0];
        Touchpoint[] outcomes =
        [
            On(new WinBackOfferSent { CampaignId = "wb-1", OfferCode = a.OfferCode, Offer = Offer, DeliveryKey = "k" }, "a", At),
            On(new WinBackOfferRedeemed { CampaignId = "wb-1", OfferCode = a.OfferCode, OrderId = "o1", Amount = 50m, Currency = "USD" }, "a", At.AddDays(2)),
            On(new CustomerReactivated { CampaignId = "wb-1", Group = AudienceGroup.Treatment, OrderId = "o1", Amount = 50m, Currency = "USD" }, "a", At.AddDays(2)),
            On(new CustomerReactivated { CampaignId = "other", Group = AudienceGroup.Control, OrderId = "o2", Amount = 5m, Currency = "USD" }, "b", At.AddDays(2)),
        ];
        var report = WinBackReport.Measure(campaign, outcomes, [new MemberPurchase("a", 50m, "USD"), new MemberPurchase("a", 10m, "USD"), new MemberPurchase("b", 5m, "USD")], 5m);
        Assert.Equal((1, 1, 0, 0, 1, 1, 1.0), (report.Treatment.Assigned, report.Treatment.Sent, report.Treatment.Suppressed, report.Treatment.Undeliverable,
            report.Treatment.Redeemed, report.Treatment.Reactivated, report.Treatment.ReactivationRate));
        Assert.Equal(new Dictionary<string, decimal> { ["USD"] = 60m }, report.Treatment.Revenue);
        Assert.Equal((1, 0, 0, 0, 0, 0, 0.0), (report.Control.Assigned, report.Control.Sent, report.Control.Suppressed, report.Control.Undeliverable,
            report.Control.Redeemed, report.Control.Reactivated, report.Control.ReactivationRate));
        Assert.Empty(report.Control.Revenue);
        Assert.Equal(10m, report.OfferCost);
    }

    [Fact]
    public void The_daily_series_spreads_the_report_over_the_offer_window_and_its_days_sum_to_the_totals()
    {
        var campaign = Campaign();
        var (a, b) = (campaign.Members[0], campaign.Members[1]);
        Touchpoint[] outcomes =
        [
            On(new WinBackOfferSent { CampaignId = "wb-1", OfferCode = a.OfferCode, Offer = Offer, DeliveryKey = "k" }, "a", At),
            // Recorded on another member of a's profile: counts for a.
            On(new WinBackOfferRedeemed { CampaignId = "wb-1", OfferCode = a.OfferCode, OrderId = "o1", Amount = 50m, Currency = "USD" }, "a2", At.AddDays(2.5)),
            On(new CustomerReactivated { CampaignId = "wb-1", Group = AudienceGroup.Treatment, OrderId = "o1", Amount = 50m, Currency = "USD" }, "a2", At.AddDays(2.5)),
            // At the window's very end: the last day.
            On(new CustomerReactivated { CampaignId = "wb-1", Group = AudienceGroup.Control, OrderId = "o2", Amount = 5m, Currency = "EUR" }, "b", At.AddDays(30)),
        ];
        MemberPurchase[] purchases = [new("a2", 50m, "USD", At.AddDays(2.5)), new("a", 7m, "EUR", At.AddDays(9)), new("b", 5m, "EUR", At.AddDays(30))];
        var personOf = new Dictionary<string, string> { ["a"] = "a", ["a2"] = "a", ["b"] = "b" };

        var report = WinBackReport.Measure(campaign, outcomes, purchases, 5m, personOf);

        Assert.Equal(Enumerable.Range(0, Offer.ValidDays), report.Days.Select(d => d.Day));
        Assert.Equal(At.AddDays(29), report.Days[^1].From);
        foreach (var (totals, day, toDate) in new (GroupOutcome, Func<CampaignDay, DayCounts>, Func<CampaignDay, DayCounts>)[]
                 {
                     (report.Treatment, d => d.Treatment, d => d.TreatmentToDate), (report.Control, d => d.Control, d => d.ControlToDate),
                 })
        {
            var days = report.Days.Select(day).ToList();
            Assert.Equal((totals.Sent, totals.Suppressed, totals.Undeliverable, totals.Redeemed, totals.Reactivated),
                (days.Sum(d => d.Sent), days.Sum(d => d.Suppressed), days.Sum(d => d.Undeliverable), days.Sum(d => d.Redeemed), days.Sum(d => d.Reactivated)));
            Assert.Equal(totals.Revenue, days.SelectMany(d => d.Revenue).GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.Sum(r => r.Value)));
            var last = toDate(report.Days[^1]);
            Assert.Equal((totals.Sent, totals.Redeemed, totals.Reactivated), (last.Sent, last.Redeemed, last.Reactivated));
            Assert.Equal(totals.Revenue, last.Revenue);
        }

        Assert.Equal(1, report.Days[0].Treatment.Sent);
        Assert.Equal((1, 1), (report.Days[2].Treatment.Redeemed, report.Days[2].Treatment.Reactivated));
        Assert.Equal(new Dictionary<string, decimal> { ["USD"] = 50m }, report.Days[2].Treatment.Revenue);
        Assert.Equal(new Dictionary<string, decimal> { ["EUR"] = 7m }, report.Days[9].Treatment.Revenue);
        Assert.Equal((0, 1), (report.Days[28].ControlToDate.Reactivated, report.Days[29].Control.Reactivated));
        Assert.Empty(WinBackReport.Measure(Spec.Campaign.Given(new WinBackCampaignPlanned("wb-2", "Later", new CandidateFilter(null, null, null, null), Offer, Channel.Email,
            0.5, 7, null, At, "user:mia"))!, [], [], 5m).Days);
    }
}
