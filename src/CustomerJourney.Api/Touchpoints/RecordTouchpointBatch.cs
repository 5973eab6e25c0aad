using System.Text.Json;
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
    public static async Task<IResult> Post(HttpRequest request, TouchpointLedger ledger, TouchpointMetrics metrics,
        IPersonalDataProtector personal, TimeProvider clock, IOptions<IngestionOptions> options, CancellationToken cancellation)
    {
        var limits = options.Value;
        if (TouchpointRequestBody.MediaType(request, allowNdJson: true) is not { } mediaType)
        {
            return TouchpointRequestBody.UnsupportedMediaType(allowNdJson: true);
        }

        if (await TouchpointRequestBody.ReadAsync(request, limits.MaxBatchBytes, cancellation) is not { } body)
        {
            return TouchpointRequestBody.TooLarge($"A batch may be at most {limits.MaxBatchBytes} bytes.");
        }

        var now = clock.GetUtcNow();
        var intakes = new List<IntakeResult>();
        if (mediaType == TouchpointRequestBody.Json)
        {
            try
            {
                using var document = TouchpointRequestBody.Parse(body);
                if (document.RootElement.ValueKind != JsonValueKind.Array)
                {
                    return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid batch",
                        detail: "A JSON batch must be an array of touchpoints (or send application/x-ndjson).");
                }

                if (document.RootElement.GetArrayLength() > limits.MaxBatchItems)
                {
                    return TooManyItems(limits.MaxBatchItems);
                }

                foreach (var item in document.RootElement.EnumerateArray())
                {
                    intakes.Add(TouchpointIntake.Read(item, null, now, personal));
                }
            }
            catch (JsonException e)
            {
                return TouchpointRequestBody.InvalidJson(e);
            }
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
                intakes.Add(ReadLine(body.AsMemory(line.Start, line.Length), now, personal));
            }
        }

        var accepted = new List<Touchpoint>();
        var rejected = new List<RejectedTouchpoint>();
        for (var i = 0; i < intakes.Count; i++)
        {
            if (intakes[i].Accepted)
            {
                accepted.Add(intakes[i].Touchpoint!);
            }
            else
            {
                metrics.Rejected(intakes[i].Kind);
                rejected.Add(new RejectedTouchpoint(i, ProblemDetailsBody.InvalidTouchpoint(intakes[i].Errors)));
            }
        }

        var appended = await ledger.RecordAsync(accepted, cancellation);
        var duplicateItems = new List<int>();
        for (int i = 0, a = 0; i < intakes.Count; i++)
        {
            if (intakes[i].Accepted && !appended[a++])
            {
                duplicateItems.Add(i);
            }
        }

        return Results.Ok(new IngestionResult(appended.Count(x => x), duplicateItems.Count, duplicateItems, rejected));
    }

    private static IResult TooManyItems(int max) =>
        TouchpointRequestBody.TooLarge($"A batch may hold at most {max} touchpoints; split it into several requests.");

    private static IntakeResult ReadLine(ReadOnlyMemory<byte> line, DateTimeOffset now, IPersonalDataProtector personal)
    {
        try
        {
            using var document = TouchpointRequestBody.Parse(line);
            return TouchpointIntake.Read(document.RootElement, null, now, personal);
        }
        catch (JsonException e)
        {
            var errors = new FieldErrors();
            errors.Add("$", $"is not valid JSON: {e.Message}");
            return new IntakeResult(null, errors, null);
        }
    }

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
