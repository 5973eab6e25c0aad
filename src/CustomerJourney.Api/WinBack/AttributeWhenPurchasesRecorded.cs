using CustomerJourney.Touchpoints;

namespace CustomerJourney.WinBack;

/// <summary>
/// Every ingestion with purchases names its buyers. Wolverine hands them over in batches, so the launched campaigns
/// are read once per batch of requests rather than once per purchase.
/// </summary>
public static class AttributeWhenPurchasesRecordedHandler
{
    public const int BatchSize = 200;
    public static readonly TimeSpan TriggerTime = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Whether attribution hears of a recorded touchpoint: a purchase (it may carry a win-back offer's code). The ledger and
    /// the import name the buyers in <see cref="PurchasesRecorded"/> by this.
    /// </summary>
    public static bool Hears(Touchpoint touchpoint) => touchpoint is PurchaseMade;

    public static AttributeWinBackPurchases Handle(PurchasesRecorded[] batch) =>
        new(batch.SelectMany(b => b.CustomerIds).Distinct(StringComparer.Ordinal).ToList());
}
