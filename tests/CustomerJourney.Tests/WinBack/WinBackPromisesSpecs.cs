using CustomerJourney.Access;
using CustomerJourney.Churn;
using CustomerJourney.Complaints;
using CustomerJourney.Touchpoints;
using CustomerJourney.WinBack;

namespace CustomerJourney.Tests.WinBack;

/// <summary>Issue 16's rules as pure specs: one send rule for the decision and the delivery, the cap in real time, expiry, failures, the report.</summary>
public sealed class WinBackPromisesSpecs
{
    private static readonly DateTimeOffset At = new(2010, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly WinBackOffer Offer = new(OfferKind.DiscountPercent, 20m, "USD", 30);
    private static readonly TimeSpan Cap = TimeSpan.FromDays(30);

    private static T On<T>(T touchpoint, string customer, DateTimeOffset at) where T : Touchpoint =>
        touchpoint with { CustomerId = customer, OccurredAt = at, Source = "test", SourceId = Guid.NewGuid().ToString("N"), Channel = Channel.Web };

    private static List<Touchpoint> Lapsed(string customer) =>
    [
        On(new ConsentGiven { Purpose = "marketing-email" }, customer, At.AddDays(-90)),
        On(new PurchaseMade { OrderId = "o1", Amount = 20m, Currency = "USD" }, customer, At.AddDays(-59)),
        On(new PurchaseMade { OrderId = "o2", Amount = 20m, Currency = "USD" }, customer, At.AddDays(-49)),
    ];

    private static WinBackCampaign Campaign(string id = "wb-1", DateTimeOffset? at = null, bool live = false)
    {
        var planned = new WinBackCampaignPlanned(id, "Spring", new CandidateFilter(null, null, null, null), Offer, Channel.Email, 0, 7, live ? null : at ?? At, At, "user:mia");
        var member = new AudienceMember("a", AudienceGroup.Treatment, 100, 10, null, [FlagReasons.OverduePurchase], WinBackRules.OfferCode(id, "a"));
        return WinBackCampaign.Fold(WinBackCampaign.Fold(null, planned), new WinBackAudienceSelected(id, at ?? At, null, [member], [], At))!;
    }

    private static ComplaintCase OpenCase(DateTimeOffset loggedAt) =>
        ComplaintCase.Fold(null, On(new ComplaintLogged { ComplaintId = "k", Category = "c", Severity = ComplaintSeverity.Low, Description = "d" }, "a", loggedAt))!;

    public static TheoryData<string> Reasons => new(SuppressionReasons.ConsentWithdrawn, SuppressionReasons.Erased, SuppressionReasons.OpenComplaint,
        SuppressionReasons.OfferExpired, SuppressionReasons.ContactedRecently);

    /// <summary>Whatever the send decision refuses, the delivery (asking the same rule later, with the offer already recorded) refuses too.</summary>
    [Theory]
    [MemberData(nameof(Reasons))]
    public void The_delivery_asks_the_send_decisions_own_rule(string reason)
    {
        var campaign = Campaign();
        var now = At.AddDays(1);
        var events = Lapsed("a").Cast<object>().ToList();
        var cases = new List<ComplaintCase>();
        switch (reason)
        {
            case SuppressionReasons.ConsentWithdrawn:
                events.Add(On(new ConsentWithdrawn { Purpose = "marketing-email" }, "a", now));
                break;
            case SuppressionReasons.Erased:
                events.Add(new CustomerErased("a", now, "user:dpo"));
                break;
            case SuppressionReasons.OpenComplaint:
                cases.Add(OpenCase(now.AddHours(-1)));
                break;
            case SuppressionReasons.OfferExpired:
                now = At.AddDays(31);
                break;
            default:
                events.Add(On(new WinBackOfferSent { CampaignId = "other", OfferCode = "WB-0", Offer = Offer, DeliveryKey = "k0", SentAt = now.AddHours(-2) }, "a", At.AddDays(-400)));
                break;
        }

        var decided = WinBackRules.DecideSend(events, cases, campaign, campaign.Members[0], hasAddress: true, now, Cap);
        Assert.Equal(reason, Assert.IsType<WinBackOfferSuppressed>(decided).Reason);

        // The same fact found by the delivery once the offer was recorded: a withdrawal, erasure, complaint or expiry since,
        // or (data recorded before the decision read the cap) another campaign's offer recorded before this one.
        var own = WinBackRules.DecideSend(Lapsed("a").Cast<object>().ToList(), [], campaign, campaign.Members[0], true, At.AddHours(1), Cap)!;
        var recorded = reason == SuppressionReasons.ContactedRecently
            ? [.. Lapsed("a"), .. events.Skip(3), own]
            : Lapsed("a").Cast<object>().Append(own).Concat(events.Skip(3)).ToList();
        Assert.Equal(reason, WinBackRules.MayNotSendBecause(recorded, cases, campaign, now, Cap));
        Assert.Null(WinBackRules.MayNotSendBecause([.. Lapsed("a")], [], campaign, At.AddDays(1), Cap));
    }

    [Fact]
    public void A_campaign_run_at_a_past_instant_never_sends_an_offer_that_has_already_expired()
    {
        var past = Campaign(at: At);
        var late = WinBackRules.DecideSend([.. Lapsed("a")], [], past, past.Members[0], true, At.AddDays(31), Cap);
        Assert.Equal(SuppressionReasons.OfferExpired, Assert.IsType<WinBackOfferSuppressed>(late).Reason);
        Assert.IsType<WinBackOfferSent>(WinBackRules.DecideSend([.. Lapsed("a")], [], past, past.Members[0], true, At.AddDays(29), Cap));
    }

    [Fact]
    public void An_offer_records_when_it_was_really_sent_beside_the_campaigns_instant_and_the_cap_counts_that()
    {
        var now = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        var past = Campaign(at: now.AddDays(-40));
        var sent = Assert.IsType<WinBackOfferSent>(WinBackRules.DecideSend([.. Lapsed("a")], [], past with { Offer = Offer with { ValidDays = 90 } },
            past.Members[0], true, now, Cap));
        Assert.Equal((now.AddDays(-40), now), (sent.OccurredAt, sent.SentAt!.Value));

        // Minutes later, a live campaign: the offer run at an instant 40 days ago was sent today, so the cap holds.
        var history = Lapsed("a").Append(sent).Select(t => (Guid.NewGuid(), t)).ToList();
        var candidate = WinBackRules.Assess(new CustomerFacts("a", history, false, [], []), new CandidateFilter(null, null, null, null), Channel.Email, null,
            now.AddMinutes(5), new HashSet<string>(), new ChurnOptions(), new WinBackOptions(), SlaPolicies.From(new SlaPolicyOptions()), now.AddMinutes(5))!;
        Assert.Contains(ExclusionReasons.ContactedRecently, candidate.Exclusions);
        Assert.True(WinBackRules.SentWithinCap([sent], now.AddDays(29), Cap));
        Assert.False(WinBackRules.SentWithinCap([sent], now.AddDays(31), Cap));
    }

    [Fact]
    public void A_customer_whose_history_cannot_be_read_is_excluded_as_unreadable()
    {
        var candidate = WinBackRules.Assess(new CustomerFacts("a", [], false, [], [], Unreadable: true), new CandidateFilter(null, null, null, null), Channel.Email, null,
            At, new HashSet<string>(), new ChurnOptions(), new WinBackOptions(), SlaPolicies.From(new SlaPolicyOptions()));
        Assert.Equal([ExclusionReasons.Unreadable], candidate!.Exclusions);
    }

    [Theory]
    [InlineData(550, true)]
    [InlineData(554, true)]
    [InlineData(421, false)]
    [InlineData(451, false)]
    public void Smtp_5xx_is_permanent_and_4xx_temporary(int reply, bool permanent) => Assert.Equal(permanent, DeliveryFailures.IsPermanentSmtp(reply));

    [Theory]
    [InlineData(400, true)]
    [InlineData(404, true)]
    [InlineData(410, true)]
    [InlineData(408, false)]
    [InlineData(429, false)]
    [InlineData(500, false)]
    [InlineData(503, false)]
    public void Http_4xx_but_408_and_429_is_permanent(int status, bool permanent) => Assert.Equal(permanent, DeliveryFailures.IsPermanentHttp(status));

    [Fact]
    public void The_report_counts_an_undeliverable_offer_as_such_until_a_re_drive_delivers_it_and_shows_revenue_per_currency()
    {
        var campaign = Campaign();
        var code = campaign.Members[0].OfferCode;
        var sent = On(new WinBackOfferSent { CampaignId = "wb-1", OfferCode = code, Offer = Offer, DeliveryKey = "k", SentAt = At }, "a", At);
        var undeliverable = On(new WinBackOfferUndeliverable { CampaignId = "wb-1", OfferCode = code, Reason = "down", Attempts = 8, Permanent = false }, "a", At);
        var reactivated = On(new CustomerReactivated { CampaignId = "wb-1", Group = AudienceGroup.Treatment, OrderId = "o", Amount = 10m, Currency = "EUR" }, "a", At.AddDays(1));
        MemberPurchase[] purchases = [new("a", 10m, "EUR"), new("a", 5m, "USD")];

        var lost = WinBackReport.Measure(campaign, [sent, undeliverable, reactivated], purchases, 5m);
        Assert.Equal((0, 1), (lost.Treatment.Sent, lost.Treatment.Undeliverable));
        Assert.Equal(1, lost.Undeliverable["retries-exhausted"]);
        Assert.Equal(new Dictionary<string, decimal> { ["EUR"] = 10m, ["USD"] = 5m }, lost.Treatment.Revenue);

        var delivered = On(new WinBackOfferDelivered { CampaignId = "wb-1", OfferCode = code }, "a", At);
        var redriven = WinBackReport.Measure(campaign, [sent, undeliverable, delivered], [], 5m);
        Assert.Equal((1, 0), (redriven.Treatment.Sent, redriven.Treatment.Undeliverable));

        var withdrawn = WinBackReport.Measure(campaign, [sent, WinBackRules.Suppressed(campaign, "a", SuppressionReasons.ConsentWithdrawn, At)], [], 5m);
        Assert.Equal((0, 1, 1), (withdrawn.Treatment.Sent, withdrawn.Treatment.Suppressed, withdrawn.Suppressions[SuppressionReasons.ConsentWithdrawn]));
    }
}
