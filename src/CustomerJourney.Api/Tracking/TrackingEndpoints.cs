using System.Runtime.InteropServices;
using System.Security.Claims;
using System.Text.Json;
using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Wolverine.Http;

namespace CustomerJourney.TrackingApi;

/// <summary>
/// Segment's HTTP Tracking API, as its server SDKs call it. Bodies are JSON whatever the content type says: RudderStack
/// sends gzipped JSON as application/x-www-form-urlencoded, and analytics.js posts text/plain. The body has been
/// decompressed, size-checked and its write key taken by <see cref="TrackingRequestBody"/> before these run.
/// </summary>
public static class TrackingEndpoints
{
    private const string FormUrlEncoded = "application/x-www-form-urlencoded";
    private const string PlainText = "text/plain";

    /// <summary>Segment answers every accepted call so; the SDKs read only the status.</summary>
    public static readonly object Success = new { success = true };

    [WolverinePost("/v1/track")]
    [Authorize(Policy = Policies.WriteTracking)]
    [AlsoReads(FormUrlEncoded, PlainText)]
    public static Task<IResult> Track(HttpContext http, ClaimsPrincipal caller, SegmentIngestion ingestion, CancellationToken cancellation) =>
        Single(http, caller, ingestion, "track", cancellation);

    [WolverinePost("/v1/identify")]
    [Authorize(Policy = Policies.WriteTracking)]
    [AlsoReads(FormUrlEncoded, PlainText)]
    public static Task<IResult> Identify(HttpContext http, ClaimsPrincipal caller, SegmentIngestion ingestion, CancellationToken cancellation) =>
        Single(http, caller, ingestion, "identify", cancellation);

    [WolverinePost("/v1/page")]
    [Authorize(Policy = Policies.WriteTracking)]
    [AlsoReads(FormUrlEncoded, PlainText)]
    public static Task<IResult> Page(HttpContext http, ClaimsPrincipal caller, SegmentIngestion ingestion, CancellationToken cancellation) =>
        Single(http, caller, ingestion, "page", cancellation);

    [WolverinePost("/v1/screen")]
    [Authorize(Policy = Policies.WriteTracking)]
    [AlsoReads(FormUrlEncoded, PlainText)]
    public static Task<IResult> Screen(HttpContext http, ClaimsPrincipal caller, SegmentIngestion ingestion, CancellationToken cancellation) =>
        Single(http, caller, ingestion, "screen", cancellation);

    [WolverinePost("/v1/group")]
    [Authorize(Policy = Policies.WriteTracking)]
    [AlsoReads(FormUrlEncoded, PlainText)]
    public static Task<IResult> Group(HttpContext http, ClaimsPrincipal caller, SegmentIngestion ingestion, CancellationToken cancellation) =>
        Single(http, caller, ingestion, "group", cancellation);

    [WolverinePost("/v1/alias")]
    [Authorize(Policy = Policies.WriteTracking)]
    [AlsoReads(FormUrlEncoded, PlainText)]
    public static Task<IResult> Alias(HttpContext http, ClaimsPrincipal caller, SegmentIngestion ingestion, CancellationToken cancellation) =>
        Single(http, caller, ingestion, "alias", cancellation);

    /// <summary>
    /// Many calls, each with its `type`; the batch's `context` is merged into each and its `sentAt` applies to calls
    /// without one. Always 200 once the body is readable: a bad call (also one over 32 KiB, or for an erased customer) is
    /// listed in the answer and logged, never failing the batch, since an SDK would resend or drop all of it.
    /// </summary>
    [WolverinePost("/v1/batch")]
    [Authorize(Policy = Policies.WriteTracking)]
    [AlsoReads(FormUrlEncoded, PlainText)]
    public static async Task<IResult> Batch(HttpContext http, ClaimsPrincipal caller, SegmentIngestion ingestion, TrackingKeys keys,
        IOptions<IngestionOptions> limits, CancellationToken cancellation)
    {
        if (!keys.Configured)
        {
            return NotConfigured();
        }

        SplitBody body;
        try
        {
            body = TouchpointRequestBody.ParseSplit(TrackingRequestBody.Of(http), itemsProperty: "batch");
        }
        catch (JsonException)
        {
            await ingestion.RejectUnreadableAsync(caller, null, "Invalid JSON", cancellation);
            return InvalidJson();
        }

        if (body.Items is not { } batch)
        {
            await ingestion.RejectUnreadableAsync(caller, null, "Invalid batch", cancellation);
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid batch", detail: "A batch is a JSON object whose `batch` is an array of calls.");
        }

        if (batch.Count > limits.Value.MaxBatchItems)
        {
            return Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request too large",
                detail: $"A batch may hold at most {limits.Value.MaxBatchItems} calls.");
        }

        var errors = new FieldErrors();
        var defaults = BatchDefaults.Read(body.Properties, errors);
        if (errors.Any)
        {
            await ingestion.RejectUnreadableAsync(caller, null, "Invalid batch", cancellation);
            return Results.ValidationProblem(errors.ToDictionary(), title: "Invalid batch", detail: "The batch's own fields are invalid; see errors.");
        }

        var calls = batch.Select(c => new ArrivedCall(c, JsonMarshal.GetRawUtf8Value(c).Length)).ToList();
        return Results.Ok(await ingestion.ReceiveAsync(calls, null, defaults, caller, "POST /v1/batch", cancellation));
    }

    /// <summary>
    /// One call. 200 when recorded, already recorded, or for an erased customer (dropped and logged: @segment/analytics-node
    /// retries a 410 for its whole budget of minutes); the call's problem (400 and the intake's reasons) when it cannot be recorded.
    /// </summary>
    private static async Task<IResult> Single(HttpContext http, ClaimsPrincipal caller, SegmentIngestion ingestion, string type, CancellationToken cancellation)
    {
        if (!http.RequestServices.GetRequiredService<TrackingKeys>().Configured)
        {
            return NotConfigured();
        }

        using var document = await ParseAsync(http, caller, ingestion, type, cancellation);
        if (document is null)
        {
            return InvalidJson();
        }

        var result = await ingestion.ReceiveAsync([new ArrivedCall(document.RootElement, TrackingRequestBody.Of(http).Length)], type, BatchDefaults.None,
            caller, $"POST /v1/{type}", cancellation);
        return result.Rejected is [{ Problem: { Status: not StatusCodes.Status410Gone } problem }] ? problem.ToResult() : Results.Ok(Success);
    }

    private static async Task<JsonDocument?> ParseAsync(HttpContext http, ClaimsPrincipal caller, SegmentIngestion ingestion, string? type, CancellationToken cancellation)
    {
        try
        {
            return TouchpointRequestBody.Parse(TrackingRequestBody.Of(http));
        }
        catch (JsonException)
        {
            await ingestion.RejectUnreadableAsync(caller, type, "Invalid JSON", cancellation);
            return null;
        }
    }

    private static IResult InvalidJson() => Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid JSON",
        detail: "The body (after decompression) is not valid JSON.");

    private static IResult NotConfigured() => Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Tracking not configured",
        detail: "Set Tracking:PseudonymKey (base64, at least 32 bytes) to accept tracking calls.");
}
