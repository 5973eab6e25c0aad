using System.Text.Json;

namespace CustomerJourney.Journeys;

/// <summary>The Net Promoter bands: 0-6 detractors, 9-10 promoters (Reichheld's definition; 7-8 are passive).</summary>
public static class NetPromoter
{
    public static bool IsDetractor(int nps) => nps <= 6;

    public static bool IsPromoter(int nps) => nps >= 9;
}

/// <summary>How a moment of truth went, as the console colours it.</summary>
public enum MomentTone
{
    /// <summary>Not a moment that went one way or the other (a purchase, a page view).</summary>
    Neutral,

    /// <summary>A complaint, a detractor's answer, a large return: the customer was let down.</summary>
    Bad,

    /// <summary>An apology, a remedy, a follow-up call, a promoter's answer, a win-back redemption: something was put right.</summary>
    Good,
}

public static class MomentTones
{
    /// <summary>
    /// The tone of one journey entry. A return is bad when it is large, which the churn flag rule decides (its
    /// threshold is configured there): <paramref name="largeReturns"/> are the event ids a standing large-return flag
    /// cites, empty for a reader who may not see flags.
    /// </summary>
    public static MomentTone Of(JourneyEntry entry, IReadOnlySet<Guid> largeReturns) => entry.Kind switch
    {
        "complaint-logged" => MomentTone.Bad,
        "return" => largeReturns.Contains(entry.EventId) ? MomentTone.Bad : MomentTone.Neutral,
        "survey-answered" when Nps(entry) is { } nps => NetPromoter.IsDetractor(nps) ? MomentTone.Bad
            : NetPromoter.IsPromoter(nps) ? MomentTone.Good : MomentTone.Neutral,
        "apology-issued" or "remedy-offered" or "follow-up-call" or "winback-offer-redeemed" => MomentTone.Good,
        _ => MomentTone.Neutral,
    };

    private static int? Nps(JourneyEntry entry) =>
        entry.Data.ValueKind == JsonValueKind.Object && entry.Data.TryGetProperty("nps", out var nps) && nps.ValueKind == JsonValueKind.Number ? nps.GetInt32() : null;
}
