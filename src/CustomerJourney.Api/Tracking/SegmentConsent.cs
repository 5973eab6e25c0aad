using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CustomerJourney.Infrastructure;

namespace CustomerJourney.TrackingApi;

/// <summary>
/// Segment's consent object, <c>context.consent.categoryPreferences</c> (<c>{"Advertising": false, "Analytics": true}</c>,
/// keyed by the consent management platform's category ids), read as consent statements for our purposes through
/// <see cref="TrackingOptions.ConsentCategories"/>. Each mapped category makes one consent-given or consent-withdrawn
/// touchpoint per call, at the call's business time, whether or not it changes anything: which statement stands is the
/// one consent rule's to say (Journeys/Consent.cs), exactly as for statements posted to our own API. Categories the table
/// does not map are ignored, whatever their value.
/// </summary>
public static class SegmentConsent
{
    public sealed record Statement(string Category, string Purpose, bool Given);

    private const int MaxSourceId = 256;

    /// <summary>The statements the call's (merged) context makes; a mapped category whose value is not a boolean is an error.</summary>
    public static IReadOnlyList<Statement> Read(JsonObject? context, TrackingOptions options, FieldErrors errors)
    {
        if (context?["consent"] is not { } consent)
        {
            return [];
        }

        if (consent is not JsonObject consentObject)
        {
            errors.Add("context.consent", "must be a JSON object.");
            return [];
        }

        switch (consentObject["categoryPreferences"])
        {
            case null:
                return [];
            case JsonObject preferences:
                var statements = new List<Statement>();
                foreach (var (category, value) in preferences)
                {
                    if (!options.ConsentCategories.TryGetValue(category, out var purpose) || string.IsNullOrEmpty(purpose))
                    {
                        continue;
                    }

                    if (value is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
                    {
                        statements.Add(new Statement(category, purpose, v.GetValue<bool>()));
                    }
                    else
                    {
                        errors.Add($"context.consent.categoryPreferences.{category}", "must be true or false.");
                    }
                }

                return statements;
            default:
                errors.Add("context.consent.categoryPreferences", "must be a JSON object of category ids to true or false.");
                return [];
        }
    }

    /// <summary>
    /// A statement's source id: the call's (its messageId) and the category, so a re-sent call appends nothing. One too long
    /// for the register (a messageId near its 256 characters) is a hash of the two instead, as stable.
    /// </summary>
    public static string SourceId(string callSourceId, string category)
    {
        var id = $"{callSourceId}#consent:{category}";
        return id.Length <= MaxSourceId
            ? id
            : "consent:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{callSourceId}\n{category}")));
    }
}
