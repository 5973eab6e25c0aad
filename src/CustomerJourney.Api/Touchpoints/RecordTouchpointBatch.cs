using System.Security.Claims;
using System.Text.Json;
using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Wolverine.Http;

namespace CustomerJourney.Touchpoints;

public static class RecordTouchpointBatchEndpoint
{
    /// <summary>
    /// Records many touchpoints (a JSON array, or NDJSON): good items are appended, repeats are counted as
    /// duplicates, bad items are listed with their index and problem; a well-formed batch answers 200.
    /// </summary>
    [WolverinePost("/api/touchpoints/batch")]
    [Authorize(Policy = Policies.WriteTouchpoints)]
    [AlsoReads(RequestMediaTypes.NdJson)]
    public static async Task<IResult> Post(HttpRequest request, ClaimsPrincipal caller, TouchpointIngestion ingestion,
        IOptions<IngestionOptions> options, CancellationToken cancellation)
    {
        var limits = options.Value;
        // RequestMediaTypes has refused any other type already; a request without a body reads as (empty) JSON.
        var mediaType = RequestMediaTypes.Accepted(request.ContentType, [RequestMediaTypes.NdJson]) ?? RequestMediaTypes.Json;

        if (await TouchpointRequestBody.ReadAsync(request, limits.MaxBatchBytes, cancellation) is not { } body)
        {
            return TouchpointRequestBody.TooLarge($"A batch may be at most {limits.MaxBatchBytes} bytes.");
        }

        var items = new List<SubmittedItem>();
        if (mediaType == RequestMediaTypes.Json)
        {
            SplitBody batch;
            try
            {
                batch = TouchpointRequestBody.ParseSplit(body, itemsProperty: null);
            }
            catch (JsonException e)
            {
                return TouchpointRequestBody.InvalidJson(e);
            }

            if (batch.Items is not { } touchpoints)
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid batch",
                    detail: "A JSON batch must be an array of touchpoints (or send application/x-ndjson).");
            }

            if (touchpoints.Count > limits.MaxBatchItems)
            {
                return TooManyItems(limits.MaxBatchItems);
            }

            items.Capacity = touchpoints.Count;
            items.AddRange(touchpoints.Select(item => new SubmittedItem(item, null)));
        }
        else
        {
            var lines = NdJsonLines(body);
            if (lines.Count > limits.MaxBatchItems)
            {
                return TooManyItems(limits.MaxBatchItems);
            }

            foreach (var line in lines)
            {
                try
                {
                    items.Add(new SubmittedItem(TouchpointRequestBody.ParseValue(body.AsSpan(line.Start, line.Length)), null));
                }
                catch (JsonException e)
                {
                    items.Add(new SubmittedItem(null, e.Message));
                }
            }
        }

        return Results.Ok(await ingestion.IngestAsync(items, null, caller, "POST /api/touchpoints/batch", cancellation));
    }

    private static IResult TooManyItems(int max) =>
        TouchpointRequestBody.TooLarge($"A batch may hold at most {max} touchpoints; split it into several requests.");

    /// <summary>Non-blank lines of an NDJSON body; a blank line (or the final newline) is not an item.</summary>
    private static List<(int Start, int Length)> NdJsonLines(byte[] body)
    {
        var lines = new List<(int, int)>();
        var start = 0;
        for (var i = 0; i <= body.Length; i++)
        {
            if (i == body.Length || body[i] == (byte)'\n')
            {
                var segment = body.AsSpan(start, i - start);
                if (segment.IndexOfAnyExcept(" \t\r"u8) >= 0)
                {
                    lines.Add((start, i - start));
                }

                start = i + 1;
            }
        }

        return lines;
    }
}
