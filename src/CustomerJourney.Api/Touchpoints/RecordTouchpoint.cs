using System.Security.Claims;
using System.Text.Json;
using CustomerJourney.Access;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Wolverine.Http;

namespace CustomerJourney.Touchpoints;

public static class RecordTouchpointEndpoint
{
    /// <summary>Records one touchpoint: 201 when appended, 200 when it repeats a stored source + sourceId.</summary>
    [WolverinePost("/api/customers/{customerId}/touchpoints")]
    [Authorize(Policy = Policies.WriteTouchpoints)]
    public static async Task<IResult> Post(string customerId, HttpRequest request, ClaimsPrincipal caller, TouchpointIngestion ingestion,
        TouchpointMetrics metrics, IOptions<IngestionOptions> options, CancellationToken cancellation)
    {
        var limit = options.Value.MaxTouchpointBytes;
        if (await TouchpointRequestBody.ReadAsync(request, limit, cancellation) is not { } body)
        {
            return TouchpointRequestBody.TooLarge($"A touchpoint may be at most {limit} bytes.");
        }

        JsonDocument document;
        try
        {
            document = TouchpointRequestBody.Parse(body);
        }
        catch (JsonException e)
        {
            metrics.Rejected(null);
            return TouchpointRequestBody.InvalidJson(e);
        }

        using (document)
        {
            var result = await ingestion.IngestAsync([new SubmittedItem(document.RootElement, null)], customerId, caller, "POST /api/customers/{customerId}/touchpoints", cancellation);
            if (result.Rejected is [{ Problem: var problem }])
            {
                return problem.ToResult();
            }

            return result.Appended == 1
                ? Results.Created($"/api/customers/{Uri.EscapeDataString(customerId)}/journey", result)
                : Results.Ok(result);
        }
    }
}
