using System.Text.Json;
using CustomerJourney.Infrastructure;

namespace CustomerJourney.Touchpoints;

/// <summary>What became of one submitted touchpoint before storage: an event to record, or the reasons it was refused.</summary>
public sealed record IntakeResult(Touchpoint? Touchpoint, FieldErrors Errors, string? Kind)
{
    public bool Accepted => Touchpoint is not null && !Errors.Any;
}

/// <summary>
/// Turns one submitted touchpoint (JSON) into its catalogue event. Pure: the time and the personal-data seam
/// come in as arguments, so every rule here is specified without a host.
/// </summary>
public static class TouchpointIntake
{
    /// <summary>How far ahead of our clock a source's clock may run.</summary>
    public static readonly TimeSpan ClockSkewAllowance = TimeSpan.FromMinutes(5);

    public static readonly DateTimeOffset Earliest = DateTimeOffset.UnixEpoch;

    /// <param name="item">The submitted JSON.</param>
    /// <param name="routeCustomerId">The customer from the route, or null when the item names its own (batches).</param>
    /// <param name="now">The service's current time.</param>
    /// <param name="personal">The personal-data seam, holding the keys of this request's customers.</param>
    public static IntakeResult Read(JsonElement item, string? routeCustomerId, DateTimeOffset now, IPersonalDataCipher personal)
    {
        var errors = new FieldErrors();
        if (item.ValueKind != JsonValueKind.Object)
        {
            errors.Add("$", "a touchpoint must be a JSON object.");
            return new IntakeResult(null, errors, null);
        }

        var fields = new FieldReader(item, "", errors);
        string? customerId;
        if (routeCustomerId is null)
        {
            customerId = fields.Text("customerId", pattern: TouchpointCatalogue.IdPattern(), patternHint: TouchpointCatalogue.IdHint);
        }
        else
        {
            customerId = TouchpointCatalogue.IdPattern().IsMatch(routeCustomerId) ? routeCustomerId : null;
            if (customerId is null)
            {
                errors.Add("customerId", TouchpointCatalogue.IdHint);
            }
        }

        var kindName = fields.Text("kind", maxLength: 64);
        var kind = kindName is null ? null : TouchpointCatalogue.Find(kindName);
        if (kindName is not null && kind is null)
        {
            errors.Add("kind", $"is not a known touchpoint kind; known kinds: {string.Join(", ", TouchpointCatalogue.Names)}.");
        }

        var occurredAt = fields.Instant("occurredAt");
        if (occurredAt is { } at)
        {
            if (at > now + ClockSkewAllowance)
            {
                errors.Add("occurredAt", "must not be in the future (5 minutes of clock skew are allowed).");
            }
            else if (at < Earliest)
            {
                errors.Add("occurredAt", "must not be before 1970-01-01.");
            }
        }

        var source = fields.Text("source", maxLength: 100, pattern: TouchpointCatalogue.IdPattern(), patternHint: TouchpointCatalogue.IdHint);
        var sourceId = fields.Text("sourceId", maxLength: 256);
        var channel = fields.Choice("channel", TouchpointCatalogue.Channels);
        var correlationId = fields.Text("correlationId", required: false, maxLength: 128);
        var data = fields.Object("data");
        fields.RejectUndefined();

        Touchpoint? touchpoint = null;
        if (kind is not null && data is not null)
        {
            // Without a valid customer id there is no key to seal with, and the item is refused anyway.
            TouchpointCatalogue.Sealer seal = customerId is null ? plaintext => plaintext : plaintext => personal.Seal(customerId, plaintext);
            touchpoint = TouchpointCatalogue.WithCall(data, seal, kind.Read(data, seal));
            data.RejectUndefined();
        }

        if (errors.Any || touchpoint is null)
        {
            return new IntakeResult(null, errors, kind?.Name);
        }

        var envelope = new TouchpointEnvelope(customerId!, occurredAt!.Value, channel!.Value, source!, sourceId!, correlationId);
        return new IntakeResult(Stamp(touchpoint, envelope), errors, kind!.Name);
    }

    private static Touchpoint Stamp(Touchpoint touchpoint, TouchpointEnvelope envelope) => touchpoint with
    {
        CustomerId = envelope.CustomerId,
        OccurredAt = envelope.OccurredAt,
        Channel = envelope.Channel,
        Source = envelope.Source,
        SourceId = envelope.SourceId,
        CorrelationId = envelope.CorrelationId,
    };
}
