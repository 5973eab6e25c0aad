using System.Text.Json.Nodes;
using CustomerJourney.Complaints;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Tests.Support;

/// <summary>One valid `data` example per catalogue kind.</summary>
public static class TouchpointExamples
{
    public static IReadOnlyList<(string Kind, JsonObject Data, Type EventType)> All =>
    [
        ("purchase", new JsonObject { ["orderId"] = "o", ["amount"] = 0, ["currency"] = "EUR" }, typeof(PurchaseMade)),
        ("return", new JsonObject { ["orderId"] = "o", ["amount"] = 5, ["currency"] = "EUR", ["reason"] = "damaged" }, typeof(PurchaseReturned)),
        ("complaint-logged", new JsonObject { ["complaintId"] = "k-1", ["category"] = "delivery", ["severity"] = "critical", ["description"] = "Late", ["orderIds"] = new JsonArray("o") }, typeof(ComplaintLogged)),
        ("apology-issued", new JsonObject { ["complaintId"] = "k-1", ["by"] = "Anna", ["wording"] = "We are sorry." }, typeof(ApologyIssued)),
        ("remedy-offered", new JsonObject { ["complaintId"] = "k-1", ["remedy"] = "goodwill-credit", ["amount"] = 10, ["currency"] = "GBP" }, typeof(RemedyOffered)),
        ("follow-up-call", new JsonObject { ["outcome"] = "reached", ["satisfied"] = true }, typeof(FollowUpCallCompleted)),
        ("survey-answered", new JsonObject { ["nps"] = 0 }, typeof(SurveyAnswered)),
        ("support-contact", new JsonObject { ["topic"] = "billing", ["resolvedOnFirstContact"] = false }, typeof(SupportContactMade)),
        ("loyalty-points-earned", new JsonObject { ["points"] = 100, ["reason"] = "purchase" }, typeof(LoyaltyPointsEarned)),
        ("loyalty-points-redeemed", new JsonObject { ["points"] = 50, ["reason"] = "voucher" }, typeof(LoyaltyPointsRedeemed)),
        ("consent-given", new JsonObject { ["purpose"] = "marketing-email" }, typeof(ConsentGiven)),
        ("consent-withdrawn", new JsonObject { ["purpose"] = "marketing-email" }, typeof(ConsentWithdrawn)),
        ("contact-details-changed", new JsonObject { ["email"] = "a@example.com" }, typeof(ContactDetailsChanged)),
        ("complaint-acknowledged", new JsonObject { ["complaintId"] = "k-1", ["reason"] = "Read and answered by e-mail" }, typeof(ComplaintAcknowledged)),
        ("complaint-escalated", new JsonObject { ["complaintId"] = "k-1", ["to"] = "sam", ["reason"] = "Customer asked for a manager" }, typeof(ComplaintEscalated)),
        ("remedy-accepted", new JsonObject { ["complaintId"] = "k-1" }, typeof(RemedyAccepted)),
        ("remedy-declined", new JsonObject { ["complaintId"] = "k-1", ["reason"] = "Wants a refund instead" }, typeof(RemedyDeclined)),
        ("complaint-awaiting-customer", new JsonObject { ["complaintId"] = "k-1", ["reason"] = "Waiting for a photo" }, typeof(ComplaintAwaitingCustomer)),
        ("customer-responded", new JsonObject { ["complaintId"] = "k-1" }, typeof(CustomerResponded)),
        ("complaint-resolved", new JsonObject { ["complaintId"] = "k-1", ["rootCause"] = "carrier-delay", ["summary"] = "Parcel resent" }, typeof(ComplaintResolved)),
        ("complaint-closed", new JsonObject { ["complaintId"] = "k-1" }, typeof(ComplaintClosed)),
        ("complaint-reopened", new JsonObject { ["complaintId"] = "k-1", ["reason"] = "Parcel still missing" }, typeof(ComplaintReopened)),
    ];

    public static JsonObject DataFor(string kind) => All.Single(e => e.Kind == kind).Data;
}
