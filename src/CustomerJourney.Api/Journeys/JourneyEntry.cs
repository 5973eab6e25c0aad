using System.Globalization;
using System.Text.Json;
using CustomerJourney.Complaints;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Journeys;

/// <summary>One moment on a customer's timeline, as the journey endpoint shows it.</summary>
public sealed record JourneyEntry(
    string Kind,
    DateTimeOffset OccurredAt,
    DateTimeOffset RecordedAt,
    string Channel,
    string Source,
    string SourceId,
    string? CorrelationId,
    string? RecordedBy,
    string Summary,
    bool MomentOfTruth,
    JsonElement Data,
    Guid EventId);

public static class JourneyEntries
{
    /// <summary>
    /// Orders a customer's touchpoints in business time (ties by record time, then by sequence) and marks the
    /// moments of truth: complaints, apologies, remedies, follow-up calls, survey answers, returns and the
    /// first purchase.
    /// </summary>
    /// <param name="events">The customer's touchpoints with their record time, sequence, who recorded them and their event id (what churn flags cite).</param>
    /// <param name="show">How the reader may see each touchpoint, given with its sequence (personal fields opened, redacted, erased or unreadable).</param>
    /// <param name="json">The API's JSON options, for the entries' data.</param>
    public static IReadOnlyList<JourneyEntry> Build(IEnumerable<(Touchpoint Touchpoint, DateTimeOffset RecordedAt, long Sequence, string? RecordedBy, Guid EventId)> events,
        Func<Touchpoint, long, Touchpoint> show, JsonSerializerOptions json)
    {
        var ordered = events.OrderBy(e => e.Touchpoint.OccurredAt).ThenBy(e => e.RecordedAt).ThenBy(e => e.Sequence).ToList();
        var firstPurchaseSeen = false;
        var entries = new List<JourneyEntry>(ordered.Count);
        foreach (var (touchpoint, recordedAt, sequence, recordedBy, eventId) in ordered)
        {
            var isFirstPurchase = touchpoint is PurchaseMade && !firstPurchaseSeen;
            firstPurchaseSeen |= touchpoint is PurchaseMade;
            var momentOfTruth = isFirstPurchase || touchpoint is ComplaintLogged or ApologyIssued or RemedyOffered
                or FollowUpCallCompleted or SurveyAnswered or PurchaseReturned
                or WinBack.WinBackOfferSent or WinBack.WinBackOfferRedeemed or WinBack.CustomerReactivated;
            entries.Add(new JourneyEntry(
                TouchpointCatalogue.KindOf(touchpoint),
                touchpoint.OccurredAt,
                recordedAt,
                TouchpointCatalogue.NameOf(touchpoint.Channel),
                touchpoint.Source,
                touchpoint.SourceId,
                touchpoint.CorrelationId,
                recordedBy,
                Summarize(touchpoint, isFirstPurchase),
                momentOfTruth,
                DataOf(show(touchpoint, sequence), json),
                eventId));
        }

        return entries;
    }

    /// <summary>A one-line, human summary. It never repeats free text a customer wrote.</summary>
    public static string Summarize(Touchpoint touchpoint, bool firstPurchase = false) => touchpoint switch
    {
        PurchaseMade p => $"{(firstPurchase ? "First purchase" : "Purchase")}: order {p.OrderId}, {Money(p.Amount, p.Currency)}" +
                          (p.Items.Count > 0 ? $", {p.Items.Sum(i => i.Quantity)} item(s)" : ""),
        PurchaseReturned r => $"Returned order {r.OrderId} ({Money(r.Amount, r.Currency)}): {r.Reason}",
        ComplaintLogged c => $"Complaint {c.ComplaintId} logged: {c.Category}, {Lower(c.Severity)} severity",
        ApologyIssued a => $"Apology issued by {a.By} for complaint {a.ComplaintId}",
        RemedyOffered r => $"{Remedy(r.Remedy)} of {Money(r.Amount, r.Currency)} offered for complaint {r.ComplaintId}",
        FollowUpCallCompleted f => "Follow-up call" + (f.ComplaintId is null ? "" : $" on complaint {f.ComplaintId}") + ": " +
                                   (f.Outcome == CallOutcome.NotReached ? "customer not reached"
                                       : f.Satisfied switch { true => "reached, satisfied", false => "reached, not satisfied", null => "reached" }),
        SurveyAnswered s => "Survey answered: " + string.Join(", ", new[] { s.Csat is { } c ? $"CSAT {c}/5" : null, s.Nps is { } n ? $"NPS {n}/10" : null }.OfType<string>()),
        SupportContactMade s => $"Support contact about {s.Topic}" + (s.ResolvedOnFirstContact ? ", resolved on first contact" : ", not resolved on first contact"),
        LoyaltyPointsEarned l => $"Earned {l.Points} loyalty points ({l.Reason})",
        LoyaltyPointsRedeemed l => $"Redeemed {l.Points} loyalty points ({l.Reason})",
        ConsentGiven c => $"Consent given for {c.Purpose}",
        ConsentWithdrawn c => $"Consent withdrawn for {c.Purpose}",
        ContactDetailsChanged d => "Contact details changed: " + string.Join(", ", new[] { d.Name is null ? null : "name", d.Email is null ? null : "e-mail", d.Phone is null ? null : "phone" }.OfType<string>()),
        WinBack.WinBackOfferSent w => $"Win-back offer sent ({TouchpointCatalogue.NameOf(w.Channel)}): code {w.OfferCode} of campaign {w.CampaignId}",
        WinBack.WinBackOfferSuppressed w => $"Win-back offer of campaign {w.CampaignId} not sent: {w.Reason}",
        WinBack.WinBackOfferUndeliverable w => $"Win-back offer {w.OfferCode} of campaign {w.CampaignId} could not be delivered after {w.Attempts} attempt(s)",
        WinBack.WinBackOfferDelivered w => $"Win-back offer {w.OfferCode} of campaign {w.CampaignId} delivered after a re-drive",
        WinBack.WinBackOfferRedeemed w => $"Win-back offer {w.OfferCode} redeemed on order {w.OrderId} ({Money(w.Amount, w.Currency)})",
        WinBack.CustomerReactivated r => $"Came back with order {r.OrderId} ({Money(r.Amount, r.Currency)}) after campaign {r.CampaignId}" +
                                         (r.Group == WinBack.AudienceGroup.Control ? " (control group: no offer)" : ""),
        _ => TouchpointCatalogue.KindOf(touchpoint),
    };

    private static string Money(decimal amount, string currency) => $"{amount.ToString("0.00##", CultureInfo.InvariantCulture)} {currency}";

    private static string Lower<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

    private static string Remedy(Remedy remedy) => remedy switch
    {
        Complaints.Remedy.Refund => "Refund",
        Complaints.Remedy.Replacement => "Replacement",
        Complaints.Remedy.Discount => "Discount",
        _ => "Goodwill credit",
    };

    private static readonly HashSet<string> EnvelopeFields = ["customerId", "occurredAt", "channel", "source", "sourceId", "correlationId"];

    /// <summary>The kind's own fields, as clients sent them in `data`.</summary>
    private static JsonElement DataOf(Touchpoint touchpoint, JsonSerializerOptions json)
    {
        var all = JsonSerializer.SerializeToNode(touchpoint, touchpoint.GetType(), json)!.AsObject();
        foreach (var field in EnvelopeFields)
        {
            all.Remove(field);
        }

        return JsonSerializer.SerializeToElement(all, json);
    }
}
