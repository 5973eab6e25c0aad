using System.Text.Json;
using Microsoft.Extensions.Options;
using Wolverine.Http;

namespace CustomerJourney.Touchpoints;

/// <summary>The answer to an ingestion request: what was appended, what was already known, what was refused.</summary>
public sealed record IngestionResult(int Appended, int Duplicates, IReadOnlyList<int> DuplicateItems, IReadOnlyList<RejectedTouchpoint> Rejected);

public sealed record RejectedTouchpoint(int Index, ProblemDetailsBody Problem);

/// <summary>An RFC 7807 problem document as it appears inside a batch answer.</summary>
public sealed record ProblemDetailsBody(string Type, string Title, int Status, string Detail, IDictionary<string, string[]> Errors)
{
    public static ProblemDetailsBody InvalidTouchpoint(FieldErrors errors) => new(
        "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        "Invalid touchpoint",
        StatusCodes.Status400BadRequest,
        "The touchpoint was not recorded; see errors for each field.",
        errors.ToDictionary());
}

public static class RecordTouchpointEndpoint
{
    /// <summary>Records one touchpoint: 201 when appended, 200 when it repeats a stored source + sourceId.</summary>
    [WolverinePost("/api/customers/{customerId}/touchpoints")]
    public static async Task<IResult> Post(string customerId, HttpRequest request, TouchpointLedger ledger,
        TouchpointMetrics metrics, IPersonalDataProtector personal, TimeProvider clock, IOptions<IngestionOptions> options,
        CancellationToken cancellation)
    {
        if (TouchpointRequestBody.MediaType(request, allowNdJson: false) is null)
        {
            return TouchpointRequestBody.UnsupportedMediaType(allowNdJson: false);
        }

        var limit = options.Value.MaxTouchpointBytes;
        if (await TouchpointRequestBody.ReadAsync(request, limit, cancellation) is not { } body)
        {
            return TouchpointRequestBody.TooLarge($"A touchpoint may be at most {limit} bytes.");
        }

        IntakeResult intake;
        try
        {
            using var document = TouchpointRequestBody.Parse(body);
            intake = TouchpointIntake.Read(document.RootElement, customerId, clock.GetUtcNow(), personal);
        }
        catch (JsonException e)
        {
            metrics.Rejected(null);
            return TouchpointRequestBody.InvalidJson(e);
        }

        if (!intake.Accepted)
        {
            metrics.Rejected(intake.Kind);
            return Results.ValidationProblem(intake.Errors.ToDictionary(), title: "Invalid touchpoint",
                detail: "The touchpoint was not recorded; see errors for each field.");
        }

        var appended = (await ledger.RecordAsync([intake.Touchpoint!], cancellation))[0];
        var result = new IngestionResult(appended ? 1 : 0, appended ? 0 : 1, appended ? [] : [0], []);
        return appended
            ? Results.Created($"/api/customers/{Uri.EscapeDataString(customerId)}/journey", result)
            : Results.Ok(result);
    }
}
