using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Microsoft.Extensions.Options;

namespace CustomerJourney.TrackingApi;

/// <summary>One call as it arrived: its JSON and its size in bytes (within a batch, its own share of the body).</summary>
public readonly record struct ArrivedCall(JsonElement Json, long Bytes);

public sealed record RejectedCall(
    int Index,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? MessageId,
    ProblemDetailsBody Problem);

/// <summary>
/// The answer to a batch. Segment's SDKs read only the status; <c>success</c> is what they would see from Segment, the rest
/// says what we did with each call (as our own batch endpoint does). <c>appended</c> and <c>duplicates</c> count touchpoints,
/// the consent statements a call's context.consent made included.
/// </summary>
public sealed record TrackingResult(bool Success, int Appended, int Duplicates, IReadOnlyList<RejectedCall> Rejected);

/// <summary>
/// Feeds Segment calls into the one ingestion pipeline: each call is read as our touchpoint JSON (SegmentCalls), then the
/// pipeline's intake validates it, ownership is checked, and the ledger appends it once per (source, messageId) — the
/// same register of source ids as every other touchpoint. Then the consent statements of the calls that were recorded
/// (now or before) go the same way: a refused call records nothing, its consent included, and a call re-sent after a
/// lost answer records what is still missing and nothing twice. What is refused is logged for the administrator.
/// </summary>
public sealed class SegmentIngestion(TouchpointIngestion ingestion, TrackingRejectionLog rejections, TrackingKeys keys,
    IOptions<TrackingOptions> options, TimeProvider clock)
{
    public async Task<TrackingResult> ReceiveAsync(IReadOnlyList<ArrivedCall> calls, string? routeType, BatchDefaults defaults, ClaimsPrincipal caller,
        string command, CancellationToken cancellation)
    {
        var settings = options.Value;
        var source = AccessClaims.SourceOf(caller) ?? throw new InvalidOperationException("Only a source system's key reaches the tracking endpoints.");
        var receivedAt = clock.GetUtcNow();
        var translated = new TranslatedCall?[calls.Count];
        var rejected = new List<RejectedCall>();
        var submitted = new List<(int Index, SubmittedItem Item)>();
        for (var i = 0; i < calls.Count; i++)
        {
            if (calls[i].Bytes > settings.MaxCallBytes)
            {
                rejected.Add(new RejectedCall(i, MessageIdOf(calls[i].Json), CallTooLarge(settings.MaxCallBytes)));
                continue;
            }

            var call = translated[i] = SegmentCalls.Translate(calls[i].Json, routeType, defaults, source, receivedAt, keys.Pseudonyms, settings);
            if (call.Touchpoint is null)
            {
                rejected.Add(new RejectedCall(i, call.MessageId, ProblemDetailsBody.InvalidTouchpoint(call.Errors)));
                continue;
            }

            submitted.Add((i, new SubmittedItem(ElementOf(call.Touchpoint), null)));
        }

        var result = await ingestion.IngestAsync(submitted.Select(s => s.Item).ToList(), null, caller, command, cancellation);
        rejected.AddRange(result.Rejected.Select(r => new RejectedCall(submitted[r.Index].Index, translated[submitted[r.Index].Index]?.MessageId, r.Problem)));
        var (appended, duplicates) = (result.Appended, result.Duplicates);

        var refused = rejected.Select(r => r.Index).ToHashSet();
        var statements = submitted.Where(s => !refused.Contains(s.Index))
            .SelectMany(s => translated[s.Index]!.Consents.Select(c => (s.Index, Json: c))).ToList();
        if (statements.Count > 0)
        {
            var items = statements.Select(s => new SubmittedItem(ElementOf(s.Json), null)).ToList();
            var consents = await ingestion.IngestAsync(items, null, caller, command, cancellation);
            (appended, duplicates) = (appended + consents.Appended, duplicates + consents.Duplicates);
            // A call whose touchpoint was recorded but a statement refused (its customer erased in between) is listed once.
            rejected.AddRange(consents.Rejected.Select(r => new RejectedCall(statements[r.Index].Index, translated[statements[r.Index].Index]!.MessageId, r.Problem))
                .DistinctBy(r => r.Index));
        }

        rejected.Sort((a, b) => a.Index.CompareTo(b.Index));
        await rejections.KeepAsync(rejected.Select(r => Describe(r, translated[r.Index], calls[r.Index].Json, routeType, source, receivedAt)).ToList(), cancellation);
        return new TrackingResult(true, appended, duplicates, rejected);
    }

    /// <summary>
    /// What the intake reads: the node as UTF-8 in arrays of its own size (no UTF-16 string in between). Not
    /// <c>SerializeToDocument</c>: its document keeps the serializer's pooled 16 KiB buffer until disposed, so a batch
    /// of 926 calls held about 15 MiB for a few hundred KiB of JSON, long enough to be promoted (a heap snapshot under
    /// the tracking workload found 2,433 such buffers alive).
    /// </summary>
    private static JsonElement ElementOf(JsonNode node) => JsonSerializer.SerializeToElement(node, JsonNodeTypeInfo);

    private static readonly JsonTypeInfo<JsonNode> JsonNodeTypeInfo = (JsonTypeInfo<JsonNode>)JsonSerializerOptions.Default.GetTypeInfo(typeof(JsonNode));

    private static ProblemDetailsBody CallTooLarge(long max) => new("https://tools.ietf.org/html/rfc9110#section-15.5.14", "Call too large",
        StatusCodes.Status413PayloadTooLarge, $"A call may be at most {max} bytes; this one was not recorded, the rest of the batch was read.");

    /// <summary>A body that is not even JSON is logged too, with what little is known.</summary>
    public Task RejectUnreadableAsync(ClaimsPrincipal caller, string? routeType, string reason, CancellationToken cancellation) =>
        rejections.KeepAsync([new TrackingRejection
        {
            Id = Guid.CreateVersion7(), Source = AccessClaims.SourceOf(caller) ?? "", At = clock.GetUtcNow(), Type = routeType,
            Status = StatusCodes.Status400BadRequest, Reason = reason,
        }], cancellation);

    private static TrackingRejection Describe(RejectedCall rejected, TranslatedCall? call, JsonElement json, string? routeType, string source, DateTimeOffset at) => new()
    {
        Id = Guid.CreateVersion7(),
        Source = source,
        At = at,
        Type = call?.Type ?? routeType,
        MessageId = rejected.MessageId ?? MessageIdOf(json),
        Event = call?.Event,
        Status = rejected.Problem.Status,
        Reason = rejected.Problem.Title,
        Fields = rejected.Problem.Errors?.Keys.Order(StringComparer.Ordinal).ToList() ?? [],
    };

    private static string? MessageIdOf(JsonElement json) =>
        json.ValueKind == JsonValueKind.Object && json.TryGetProperty("messageId", out var id) ? FieldReader.StorableString(id, 256) : null;
}

/// <summary>The pseudonym key, or why there is none (outside Development it must be configured).</summary>
public sealed class TrackingKeys(Pseudonyms? pseudonyms)
{
    public Pseudonyms Pseudonyms => pseudonyms ?? throw new TrackingNotConfiguredException();

    public bool Configured => pseudonyms is not null;
}

public sealed class TrackingNotConfiguredException() : InvalidOperationException("Tracking:PseudonymKey is not configured, so /v1/* cannot file calls under pseudonyms.");
