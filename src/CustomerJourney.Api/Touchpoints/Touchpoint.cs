using System.Text.Json.Serialization;

namespace CustomerJourney.Touchpoints;

/// <summary>Where a customer met us.</summary>
public enum Channel
{
    Store,
    Web,
    App,
    Phone,
    Email,
    Chat,
    Social,
}

/// <summary>
/// What every touchpoint event carries besides its own facts. <see cref="OccurredAt"/> is business time;
/// the time we recorded it is Marten's event timestamp, kept apart so history can be replayed as known.
/// </summary>
public abstract record Touchpoint
{
    // Not `required`: the catalogue builds each kind's own fields first, then stamps the envelope on.
    public string CustomerId { get; init; } = "";
    public DateTimeOffset OccurredAt { get; init; }
    public Channel Channel { get; init; }
    public string Source { get; init; } = "";
    public string SourceId { get; init; } = "";
    public string? CorrelationId { get; init; }

    /// <summary>
    /// What a call of the Segment tracking API (/v1/*, see Tracking/) carried besides the fields of the kind it became,
    /// whatever that kind is (a page view or a purchase alike). Null for touchpoints from anywhere else, and then left out
    /// of the stored JSON, so their events are stored exactly as before.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TrackingApi.TrackedCall? Call { get; init; }
}

/// <summary>Marks a property that holds personal data: it is written and read only through <see cref="IPersonalDataProtector"/>.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class PersonalDataAttribute : Attribute;
