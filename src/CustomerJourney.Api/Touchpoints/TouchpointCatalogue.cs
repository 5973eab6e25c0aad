using System.Collections.Frozen;
using System.Text.Json;
using System.Text.RegularExpressions;
using CustomerJourney.Complaints;
using CustomerJourney.Infrastructure;

namespace CustomerJourney.Touchpoints;

/// <summary>The fields every touchpoint shares, already validated.</summary>
public sealed record TouchpointEnvelope(
    string CustomerId,
    DateTimeOffset OccurredAt,
    Channel Channel,
    string Source,
    string SourceId,
    string? CorrelationId);

/// <summary>
/// The catalogue of touchpoint kinds: the `kind` string clients send, the event it becomes, and how its
/// `data` is read. Adding a kind means adding one event record and one entry here.
/// </summary>
public static partial class TouchpointCatalogue
{
    public sealed record Kind(string Name, Type EventType, Func<FieldReader, Sealer, Touchpoint?> Read);

    /// <summary>Seals a customer's personal text on its way into an event.</summary>
    public delegate string Sealer(string plaintext);

    public static readonly IReadOnlyList<Kind> All =
    [
        new("purchase", typeof(PurchaseMade), ReadPurchase),
        new("return", typeof(PurchaseReturned), ReadReturn),
        new("complaint-logged", typeof(ComplaintLogged), ReadComplaint),
        new("apology-issued", typeof(ApologyIssued), CaseStep<IssueApology>()),
        new("remedy-offered", typeof(RemedyOffered), CaseStep<OfferRemedy>()),
        new("follow-up-call", typeof(FollowUpCallCompleted), ReadFollowUpCall),
        new("complaint-acknowledged", typeof(ComplaintAcknowledged), CaseStep<AcknowledgeComplaint>()),
        new("complaint-escalated", typeof(ComplaintEscalated), CaseStep<EscalateComplaint>()),
        new("remedy-accepted", typeof(RemedyAccepted), CaseStep<AcceptRemedy>()),
        new("remedy-declined", typeof(RemedyDeclined), CaseStep<DeclineRemedy>()),
        new("complaint-awaiting-customer", typeof(ComplaintAwaitingCustomer), CaseStep<AwaitCustomer>()),
        new("customer-responded", typeof(CustomerResponded), CaseStep<RecordCustomerResponse>()),
        new("complaint-resolved", typeof(ComplaintResolved), CaseStep<ResolveComplaint>()),
        new("complaint-closed", typeof(ComplaintClosed), CaseStep<CloseComplaint>()),
        new("complaint-reopened", typeof(ComplaintReopened), CaseStep<ReopenComplaint>()),
        new("survey-answered", typeof(SurveyAnswered), ReadSurvey),
        new("support-contact", typeof(SupportContactMade), ReadSupportContact),
        new("loyalty-points-earned", typeof(LoyaltyPointsEarned), ReadPointsEarned),
        new("loyalty-points-redeemed", typeof(LoyaltyPointsRedeemed), ReadPointsRedeemed),
        new("consent-given", typeof(ConsentGiven), (d, _) => d.Text("purpose", pattern: PurposePattern(), patternHint: PurposeHint) is { } p ? new ConsentGiven { Purpose = p } : null),
        new("consent-withdrawn", typeof(ConsentWithdrawn), (d, _) => d.Text("purpose", pattern: PurposePattern(), patternHint: PurposeHint) is { } p ? new ConsentWithdrawn { Purpose = p } : null),
        new("contact-details-changed", typeof(ContactDetailsChanged), ReadContactDetails),
    ];

    /// <summary>Touchpoints the service records itself: shown on the journey, never accepted from a source.</summary>
    public static readonly IReadOnlyList<Kind> RecordedByService =
    [
        new("winback-offer-sent", typeof(WinBack.WinBackOfferSent), (_, _) => null),
        new("winback-offer-suppressed", typeof(WinBack.WinBackOfferSuppressed), (_, _) => null),
        new("winback-offer-undeliverable", typeof(WinBack.WinBackOfferUndeliverable), (_, _) => null),
        new("winback-offer-delivered", typeof(WinBack.WinBackOfferDelivered), (_, _) => null),
        new("winback-offer-redeemed", typeof(WinBack.WinBackOfferRedeemed), (_, _) => null),
        new("customer-reactivated", typeof(WinBack.CustomerReactivated), (_, _) => null),
    ];

    /// <summary>
    /// Touchpoints of the Segment tracking API (/v1/*, see Tracking/) that are not moments of truth: accepted like any
    /// other kind, kept apart from <see cref="All"/> because sources of our own API have no reason to send them.
    /// </summary>
    public static readonly IReadOnlyList<Kind> Tracked =
    [
        new("event-tracked", typeof(TrackingApi.EventTracked), (d, _) => TrackingApi.TrackedKinds.ReadEventTracked(d)),
        new("page-viewed", typeof(TrackingApi.PageViewed), (d, _) => TrackingApi.TrackedKinds.ReadPageViewed(d)),
        new("account-grouped", typeof(TrackingApi.AccountGrouped), TrackingApi.TrackedKinds.ReadAccountGrouped),
        new("identity-recorded", typeof(TrackingApi.IdentityRecorded), TrackingApi.TrackedKinds.ReadIdentityRecorded),
        new("identities-aliased", typeof(TrackingApi.IdentitiesAliased), TrackingApi.TrackedKinds.ReadIdentitiesAliased),
    ];

    /// <summary>
    /// Reads `data.call`, what a Segment tracking call carried besides the kind's own fields (see <see cref="Touchpoint.Call"/>),
    /// onto a touchpoint of any kind. Optional, so a touchpoint from our own API reads as before.
    /// </summary>
    public static Touchpoint? WithCall(FieldReader d, Sealer seal, Touchpoint? touchpoint) =>
        d.Object("call", required: false) is not { } call ? touchpoint
        : TrackingApi.TrackedCall.Read(call, seal) is { } read && touchpoint is not null ? touchpoint with { Call = read }
        : null;

    private static readonly FrozenDictionary<string, Kind> ByName = All.Concat(Tracked).ToFrozenDictionary(k => k.Name, StringComparer.Ordinal);
    private static readonly FrozenDictionary<Type, Kind> ByType = All.Concat(Tracked).Concat(RecordedByService).ToFrozenDictionary(k => k.EventType);

    public static Kind? Find(string name) => ByName.GetValueOrDefault(name);

    public static string KindOf(Touchpoint touchpoint) => ByType[touchpoint.GetType()].Name;

    /// <summary>The kind of a stored event type, or null when it is not a touchpoint.</summary>
    public static string? KindOf(Type eventType) => ByType.TryGetValue(eventType, out var kind) ? kind.Name : null;

    public static IEnumerable<string> Names => All.Select(k => k.Name);

    public static readonly FrozenDictionary<string, Channel> Channels = Enum.GetValues<Channel>()
        .ToFrozenDictionary(c => c.ToString().ToLowerInvariant(), StringComparer.Ordinal);

    public static string NameOf(Channel channel) => channel.ToString().ToLowerInvariant();

    public static readonly FrozenDictionary<string, ComplaintSeverity> Severities = new Dictionary<string, ComplaintSeverity>
    {
        ["low"] = ComplaintSeverity.Low,
        ["medium"] = ComplaintSeverity.Medium,
        ["high"] = ComplaintSeverity.High,
        ["critical"] = ComplaintSeverity.Critical,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static readonly FrozenDictionary<string, Remedy> Remedies = new Dictionary<string, Remedy>
    {
        ["refund"] = Remedy.Refund,
        ["replacement"] = Remedy.Replacement,
        ["discount"] = Remedy.Discount,
        ["goodwill-credit"] = Remedy.GoodwillCredit,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static readonly FrozenDictionary<string, CallOutcome> Outcomes = new Dictionary<string, CallOutcome>
    {
        ["reached"] = CallOutcome.Reached,
        ["not-reached"] = CallOutcome.NotReached,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private const string PurposeHint = "must be lower-case letters, digits and dashes, e.g. marketing-email.";

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex PurposePattern();

    /// <summary>Whether <paramref name="purpose"/> is spelled as a consent purpose must be (checked for configured ones at start-up).</summary>
    public static bool IsPurpose(string purpose) => PurposePattern().IsMatch(purpose);

    [GeneratedRegex(@"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$", RegexOptions.CultureInvariant)]
    private static partial Regex EmailPattern();

    [GeneratedRegex(@"^\+?[0-9 ()./-]{3,32}$", RegexOptions.CultureInvariant)]
    private static partial Regex PhonePattern();

    private static PurchaseMade? ReadPurchase(FieldReader d, Sealer seal)
    {
        var orderId = d.Text("orderId");
        var amount = d.Amount("amount");
        var currency = d.Currency("currency");
        var items = d.Array("items", maxItems: 1_000, (e, path) => ReadLineItem(e, path, d.Errors), required: false);
        var offerCode = d.Text("offerCode", required: false, maxLength: 40);
        return orderId is null || amount is null || currency is null
            ? null
            : new PurchaseMade { OrderId = orderId, Amount = amount.Value, Currency = currency, Items = items ?? [], OfferCode = offerCode };
    }

    private static LineItem? ReadLineItem(JsonElement element, string path, FieldErrors errors)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add(path, "must be a JSON object.");
            return null;
        }

        var item = new FieldReader(element, path, errors);
        var sku = item.Text("sku");
        var quantity = item.Integer("quantity", 1, 100_000);
        var unitPrice = item.Amount("unitPrice");
        item.RejectUndefined();
        return sku is null || quantity is null || unitPrice is null ? null : new LineItem(sku, quantity.Value, unitPrice.Value);
    }

    private static PurchaseReturned? ReadReturn(FieldReader d, Sealer seal)
    {
        var orderId = d.Text("orderId");
        var amount = d.Amount("amount");
        var currency = d.Currency("currency");
        var reason = d.Text("reason");
        return orderId is null || amount is null || currency is null || reason is null
            ? null
            : new PurchaseReturned { OrderId = orderId, Amount = amount.Value, Currency = currency, Reason = reason };
    }

    /// <summary>A logged complaint: the complaint id names its case, the rest is what the complaint endpoint's body holds.</summary>
    private static ComplaintLogged? ReadComplaint(FieldReader d, Sealer seal)
    {
        var complaintId = d.Text("complaintId", pattern: IdPattern(), patternHint: IdHint);
        var logged = d.Bind<ComplaintDetails>()?.Logged(complaintId ?? "", d.Checks(), text => seal(text));
        return complaintId is null ? null : logged;
    }

    /// <summary>
    /// A case step's own fields have one home, its typed request (the body of its endpoint): a batch item's `data` is
    /// bound to that request beside the complaint id that names the case, and the request turns it into the event.
    /// </summary>
    private static Func<FieldReader, Sealer, Touchpoint?> CaseStep<TRequest>() where TRequest : ComplaintStepRequest => (d, seal) =>
    {
        var complaintId = d.Text("complaintId", pattern: IdPattern(), patternHint: IdHint);
        var step = d.Bind<TRequest>()?.Step(complaintId ?? "", d.Checks(), text => seal(text));
        return complaintId is null ? null : step;
    };

    /// <summary>A follow-up call: a case step when it names a complaint, a routine call on the customer's journey when not.</summary>
    private static FollowUpCallCompleted? ReadFollowUpCall(FieldReader d, Sealer seal)
    {
        var complaintId = d.Text("complaintId", required: false, pattern: IdPattern(), patternHint: IdHint);
        return d.Bind<RecordFollowUpCall>()?.Call(complaintId, d.Checks(), text => seal(text));
    }

    private static SurveyAnswered? ReadSurvey(FieldReader d, Sealer seal)
    {
        var csat = d.Integer("csat", 1, 5, required: false);
        var nps = d.Integer("nps", 0, 10, required: false);
        var comment = d.FreeText("comment", required: false);
        if (d.Errors.Any)
        {
            return null;
        }

        if (csat is null && nps is null)
        {
            d.Errors.Add(d.PathOf("csat"), "at least one score (csat or nps) is required.");
            return null;
        }

        return new SurveyAnswered { Csat = csat, Nps = nps, Comment = comment is null ? null : seal(comment) };
    }

    private static SupportContactMade? ReadSupportContact(FieldReader d, Sealer seal)
    {
        var topic = d.Text("topic");
        var resolved = d.Bool("resolvedOnFirstContact");
        return topic is null || resolved is null
            ? null
            : new SupportContactMade { Topic = topic, ResolvedOnFirstContact = resolved.Value };
    }

    private static LoyaltyPointsEarned? ReadPointsEarned(FieldReader d, Sealer seal) =>
        d.Integer("points", 1, 10_000_000) is { } points && d.Text("reason") is { } reason
            ? new LoyaltyPointsEarned { Points = points, Reason = reason }
            : null;

    private static LoyaltyPointsRedeemed? ReadPointsRedeemed(FieldReader d, Sealer seal) =>
        d.Integer("points", 1, 10_000_000) is { } points && d.Text("reason") is { } reason
            ? new LoyaltyPointsRedeemed { Points = points, Reason = reason }
            : null;

    private static ContactDetailsChanged? ReadContactDetails(FieldReader d, Sealer seal)
    {
        var name = d.Text("name", required: false);
        var email = d.Text("email", required: false, maxLength: 254, pattern: EmailPattern(), patternHint: "must be an e-mail address.");
        var phone = d.Text("phone", required: false, maxLength: 32, pattern: PhonePattern(), patternHint: "must be a phone number (digits, spaces, + ( ) . / -).");
        if (d.Errors.Any)
        {
            return null;
        }

        if (name is null && email is null && phone is null)
        {
            d.Errors.Add(d.PathOf("name"), "at least one of name, email or phone is required.");
            return null;
        }

        return new ContactDetailsChanged
        {
            Name = name is null ? null : seal(name),
            Email = email is null ? null : seal(email),
            Phone = phone is null ? null : seal(phone),
        };
    }

    internal const string IdHint = "must be 1-64 characters of A-Z a-z 0-9 . _ : -";

    /// <summary>Customer ids and complaint ids: 1-64 characters of A-Z a-z 0-9 . _ : -</summary>
    [GeneratedRegex("^[A-Za-z0-9._:-]{1,64}$", RegexOptions.CultureInvariant)]
    internal static partial Regex IdPattern();
}
