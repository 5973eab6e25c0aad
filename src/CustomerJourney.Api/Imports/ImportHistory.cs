using System.Security.Claims;
using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Options;
using Wolverine.Http;

namespace CustomerJourney.Imports;

public static class ImportHistoryEndpoint
{
    /// <summary>
    /// Imports a history: NDJSON of touchpoints in the batch item shape (one JSON object per line, also when labelled JSON), of any size, read as it streams in and committed
    /// in chunks. Answers 202 once every item is appended, refused or known, while projections and reactions catch up;
    /// GET the Location for the counts, the refused items and how far behind they are. Posting the same file again
    /// appends only what is missing.
    /// </summary>
    [WolverinePost("/api/imports")]
    [Authorize(Policy = Policies.WriteTouchpoints)]
    [AlsoReads(RequestMediaTypes.NdJson)]
    // Hours for a large history, not the 30 s every other request gets.
    [DisableRequestTimeout]
    public static async Task<IResult> Post(HttpRequest request, ClaimsPrincipal caller, HistoryImport import, IOptions<ImportOptions> options,
        ImportStatusReader status, CancellationToken cancellation)
    {
        // RequestMediaTypes has refused anything but NDJSON and JSON; a JSON body is read the same way, one touchpoint per line.
        var max = options.Value.MaxImportBytes;
        if (request.ContentLength > max)
        {
            return TooLarge(max);
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = max;
        }

        var run = import.Start($"http-{Guid.CreateVersion7()}", AccessClaims.Actor(caller));
        run = await import.RunAsync(run, request.Body, caller, "POST /api/imports", null, cancellation);
        return Results.Accepted($"/api/imports/{run.Id}", await status.ReadAsync(run, cancellation));
    }

    private static IResult TooLarge(long max) => Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request too large",
        detail: $"An import may be at most {max} bytes; split the history into several files.");
}

public static class GetImportEndpoint
{
    /// <summary>An import's counts, its first refused items with their problems, and whether projections and reactions have caught up.</summary>
    [WolverineGet("/api/imports/{id}")]
    [Authorize(Policy = Policies.WriteTouchpoints)]
    public static async Task<IResult> Get(string id, ClaimsPrincipal caller, ImportStatusReader status, Marten.IQuerySession session,
        CancellationToken cancellation)
    {
        var run = await session.LoadAsync<ImportRun>(id, cancellation);
        // A source system sees only the imports it ran; that another exists is not its business.
        if (run is null || (AccessClaims.IsSourceSystem(caller) && run.RecordedBy != AccessClaims.Actor(caller)))
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"No import '{id}'.");
        }

        return Results.Ok(await status.ReadAsync(run, cancellation));
    }
}
