namespace CustomerJourney.Touchpoints;

// The touchpoint catalogue: one event per kind, named as the business names it. Each is immutable and
// carries its business time; TouchpointCatalogue maps the ingestion `kind` strings onto these types.

public sealed record LineItem(string Sku, int Quantity, decimal UnitPrice);

public sealed record PurchaseMade : Touchpoint
{
    public required string OrderId { get; init; }
    public required decimal Amount { get; init; }
    public required string Currency { get; init; }
    public IReadOnlyList<LineItem> Items { get; init; } = [];

    /// <summary>The win-back offer code used at checkout, if any.</summary>
    public string? OfferCode { get; init; }
}

public sealed record PurchaseReturned : Touchpoint
{
    public required string OrderId { get; init; }
    public required decimal Amount { get; init; }
    public required string Currency { get; init; }
    public required string Reason { get; init; }
}

public enum CallOutcome
{
    Reached,
    NotReached,
}

public sealed record FollowUpCallCompleted : Touchpoint
{
    public string? ComplaintId { get; init; }
    public required CallOutcome Outcome { get; init; }
    public bool? Satisfied { get; init; }
    [PersonalData] public string? Notes { get; init; }
}

public sealed record SurveyAnswered : Touchpoint
{
    public int? Csat { get; init; }
    public int? Nps { get; init; }
    [PersonalData] public string? Comment { get; init; }
}

public sealed record SupportContactMade : Touchpoint
{
    public required string Topic { get; init; }
    public required bool ResolvedOnFirstContact { get; init; }
}

public sealed record LoyaltyPointsEarned : Touchpoint
{
    public required int Points { get; init; }
    public required string Reason { get; init; }
}

public sealed record LoyaltyPointsRedeemed : Touchpoint
{
    public required int Points { get; init; }
    public required string Reason { get; init; }
}

public sealed record ConsentGiven : Touchpoint
{
    public required string Purpose { get; init; }
}

public sealed record ConsentWithdrawn : Touchpoint
{
    public required string Purpose { get; init; }
}

public sealed record ContactDetailsChanged : Touchpoint
{
    [PersonalData] public string? Name { get; init; }
    [PersonalData] public string? Email { get; init; }
    [PersonalData] public string? Phone { get; init; }
}
