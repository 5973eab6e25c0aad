using System.Collections.Frozen;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using CustomerJourney.Access;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Wolverine;
using Wolverine.Http;

namespace CustomerJourney.Complaints;

/// <summary>
/// The HTTP face of the case rules. Each request becomes the same touchpoint a source system could send, and goes
/// through the same intake, ownership check, ledger and decisions; the endpoints only translate.
/// </summary>
public static class ComplaintCommandEndpoints
{
    /// <summary>The action in the route, and the touchpoint kind it records.</summary>
    public static readonly FrozenDictionary<string, string> Actions = new Dictionary<string, string>
    {
        ["acknowledge"] = "complaint-acknowledged",
        ["escalate"] = "complaint-escalated",
        ["apologize"] = "apology-issued",
        ["offer-remedy"] = "remedy-offered",
        ["accept-remedy"] = "remedy-accepted",
        ["decline-remedy"] = "remedy-declined",
        ["await-customer"] = "complaint-awaiting-customer",
        ["customer-responded"] = "customer-responded",
        ["resolve"] = "complaint-resolved",
        ["follow-up-call"] = "follow-up-call",
        ["close"] = "complaint-closed",
        ["reopen"] = "complaint-reopened",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly string[] EnvelopeFields = ["occurredAt", "channel", "correlationId"];

    /// <summary>Logs a new complaint case: 201 with its Location and ETag; 200 when the Idempotency-Key repeats a logged one.</summary>
    [WolverinePost("/api/complaints")]
    [Authorize(Policy = Policies.WriteComplaints)]
    public static async Task<IResult> Log(HttpRequest request, ClaimsPrincipal caller, TouchpointIngestion ingestion,
        IQuerySession session, SlaPolicies policies, TimeProvider clock, IOptions<IngestionOptions> options, CancellationToken cancellation)
    {
        if (await ReadBodyAsync(request, options.Value.MaxTouchpointBytes, cancellation) is not { } body)
        {
            return TooLarge();
        }

        if (body.Problem is { } problem)
        {
            return problem;
        }

        var fields = body.Fields!;
        var complaintId = fields["complaintId"] is JsonValue v && v.TryGetValue<string>(out var given) ? given : NewComplaintId(request, caller);
        fields.Remove("complaintId");
        var customerId = fields["customerId"]?.DeepClone();
        fields.Remove("customerId");
        var item = Touchpoint("complaint-logged", customerId, complaintId, fields, request, caller, clock);

        var (result, versions) = await ingestion.RecordAsync([new SubmittedItem(item, null)], null, caller, "POST /api/complaints", null, cancellation);
        if (result.Rejected is [{ Problem: var refused }])
        {
            return refused.ToResult();
        }

        var view = await ComplaintReadEndpoints.ViewAsync(session, policies, clock, complaintId, cancellation);
        if (view is null)
        {
            return ComplaintReadEndpoints.Unknown(complaintId, null);
        }

        request.HttpContext.Response.Headers.ETag = ETag(view.Case.Version);
        return result.Appended == 1 && versions.ContainsKey(complaintId)
            ? Results.Created($"/api/complaints/{Uri.EscapeDataString(complaintId)}", view)
            : Results.Ok(view);
    }

    /// <summary>
    /// Takes one step on a case. The writer says which version it read (If-Match with the case's ETag, or
    /// expectedVersion in the body); a stale version answers 409 and changes nothing.
    /// </summary>
    [WolverinePost("/api/complaints/{complaintId}/{action}")]
    [Authorize(Policy = Policies.WriteComplaints)]
    public static async Task<IResult> Step(string complaintId, string action, HttpRequest request, ClaimsPrincipal caller, TouchpointIngestion ingestion,
        IQuerySession session, SlaPolicies policies, TimeProvider clock, IOptions<IngestionOptions> options, CancellationToken cancellation)
    {
        if (!Actions.TryGetValue(action, out var kind))
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown step",
                detail: $"Complaint cases know these steps: {string.Join(", ", Actions.Keys.Order(StringComparer.Ordinal))}.");
        }

        if (!TouchpointCatalogue.IdPattern().IsMatch(complaintId))
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["complaintId"] = [TouchpointCatalogue.IdHint] }, title: "Invalid request");
        }

        if (await ReadBodyAsync(request, options.Value.MaxTouchpointBytes, cancellation) is not { } body)
        {
            return TooLarge();
        }

        if (body.Problem is { } problem)
        {
            return problem;
        }

        var fields = body.Fields!;
        var expected = ExpectedVersion(request, fields, out var versionProblem);
        if (versionProblem is not null)
        {
            return versionProblem;
        }

        var current = await session.LoadAsync<ComplaintCase>(ComplaintCase.StreamKey(complaintId), cancellation);
        if (current is null)
        {
            return ComplaintReadEndpoints.Unknown(complaintId, null);
        }

        fields["channel"] ??= TouchpointCatalogue.NameOf(current.Channel);
        // The customer comes from the case, as the route of a customer's own touchpoint would give it.
        var item = Touchpoint(kind, null, complaintId, fields, request, caller, clock);
        var (result, versions) = await ingestion.RecordAsync([new SubmittedItem(item, null)], current.CustomerId, caller,
            $"POST /api/complaints/{{complaintId}}/{action}", expected, cancellation);
        if (result.Rejected is [{ Problem: var refused }])
        {
            return refused.ToResult();
        }

        var view = await ComplaintReadEndpoints.ViewAsync(session, policies, clock, complaintId, cancellation);
        request.HttpContext.Response.Headers.ETag = ETag(versions.GetValueOrDefault(complaintId, view!.Case.Version));
        return Results.Ok(view);
    }

    public static string ETag(long version) => $"\"{version}\"";

    /// <summary>A retry with the same Idempotency-Key must name the same case, so the id derives from the key when there is one.</summary>
    private static string NewComplaintId(HttpRequest request, ClaimsPrincipal caller) =>
        request.Headers["Idempotency-Key"] is { Count: 1 } key
            ? "cmp-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
                System.Text.Encoding.UTF8.GetBytes($"{AccessClaims.Actor(caller)}\n{key[0]}")))[..32]
            : "cmp-" + Guid.CreateVersion7().ToString("N");

    /// <summary>The touchpoint this request amounts to, in the shape the ingestion endpoints accept.</summary>
    private static JsonElement Touchpoint(string kind, JsonNode? customerId, string complaintId, JsonObject fields, HttpRequest request,
        ClaimsPrincipal caller, TimeProvider clock)
    {
        var envelope = new JsonObject
        {
            ["kind"] = kind,
            ["source"] = AccessClaims.SourceOf(caller) ?? SourceOwnership.StaffSource,
            ["sourceId"] = request.Headers["Idempotency-Key"] is { Count: 1 } key ? key[0] : Guid.CreateVersion7().ToString("N"),
            ["occurredAt"] = clock.GetUtcNow().ToString("O"),
        };
        if (customerId is not null)
        {
            envelope["customerId"] = customerId;
        }

        foreach (var name in EnvelopeFields)
        {
            if (fields.ContainsKey(name))
            {
                envelope[name] = fields[name]?.DeepClone();
                fields.Remove(name);
            }
        }

        var data = new JsonObject { ["complaintId"] = complaintId };
        foreach (var (name, value) in fields.ToList())
        {
            fields.Remove(name);
            data[name] = value;
        }

        envelope["data"] = data;
        return JsonSerializer.SerializeToElement(envelope);
    }

    private static long? ExpectedVersion(HttpRequest request, JsonObject fields, out IResult? problem)
    {
        problem = null;
        long? fromBody = null;
        if (fields.ContainsKey("expectedVersion"))
        {
            if (fields["expectedVersion"] is JsonValue value && value.TryGetValue<long>(out var v) && v >= 1)
            {
                fromBody = v;
            }
            else
            {
                problem = Results.ValidationProblem(new Dictionary<string, string[]> { ["expectedVersion"] = ["must be a whole number of at least 1."] },
                    title: "Invalid complaint step");
                return null;
            }

            fields.Remove("expectedVersion");
        }

        long? fromHeader = null;
        if (request.Headers.IfMatch is { Count: > 0 } ifMatch)
        {
            var tag = ifMatch.Count == 1 ? ifMatch[0]!.Trim() : "";
            if (tag.StartsWith("W/", StringComparison.Ordinal))
            {
                tag = tag[2..];
            }

            if (tag.Length > 2 && tag[0] == '"' && tag[^1] == '"' && long.TryParse(tag[1..^1], System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture, out var h) && h >= 1)
            {
                fromHeader = h;
            }
            else
            {
                problem = Results.ValidationProblem(new Dictionary<string, string[]> { ["If-Match"] = ["must be one ETag of the case, e.g. \"3\"."] },
                    title: "Invalid complaint step");
                return null;
            }
        }

        if (fromBody is not null && fromHeader is not null && fromBody != fromHeader)
        {
            problem = Results.ValidationProblem(new Dictionary<string, string[]> { ["expectedVersion"] = ["disagrees with If-Match."] },
                title: "Invalid complaint step");
            return null;
        }

        if ((fromBody ?? fromHeader) is not { } expected)
        {
            problem = Results.Problem(statusCode: StatusCodes.Status428PreconditionRequired, title: "Version required",
                detail: "Say which version of the case you read: send If-Match with its ETag, or expectedVersion in the body. " +
                        "Two people editing one case must not overwrite each other.");
            return null;
        }

        return expected;
    }

    private sealed record Body(JsonObject? Fields, IResult? Problem);

    /// <summary>Null when the body is too large; a problem when it is not one JSON object.</summary>
    private static async Task<Body?> ReadBodyAsync(HttpRequest request, long limit, CancellationToken cancellation)
    {
        if (request.ContentLength is 0 or null && !request.Headers.ContainsKey("Transfer-Encoding"))
        {
            return new Body(new JsonObject(), null);
        }

        if (await TouchpointRequestBody.ReadAsync(request, limit, cancellation) is not { } bytes)
        {
            return null;
        }

        try
        {
            using var document = TouchpointRequestBody.Parse(bytes);
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? new Body(JsonObject.Create(document.RootElement.Clone()), null)
                : new Body(null, Results.ValidationProblem(new Dictionary<string, string[]> { ["$"] = ["must be a JSON object."] }, title: "Invalid complaint step"));
        }
        catch (JsonException e)
        {
            return new Body(null, TouchpointRequestBody.InvalidJson(e));
        }
    }

    private static IResult TooLarge() => TouchpointRequestBody.TooLarge("A complaint step is too large.");
}
