using System.Security.Claims;
using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace CustomerJourney.Complaints;

/// <summary>What every step request may carry besides the step's own fields; the complaint id is in the route.</summary>
public abstract record ComplaintStepRequest
{
    /// <summary>When the step happened: ISO 8601 with an offset. Now, when left out.</summary>
    public string? OccurredAt { get; init; }

    /// <summary>Where it happened (store, web, app, phone, email, chat, social). The case's channel, when left out.</summary>
    public string? Channel { get; init; }

    public string? CorrelationId { get; init; }

    /// <summary>The version of the case the writer read; or send If-Match with the case's ETag.</summary>
    public long? ExpectedVersion { get; init; }

    /// <summary>The step's event, its own fields checked and its personal text sealed; null when a field is refused (the reasons are in <paramref name="checks"/>).</summary>
    public abstract Touchpoint? Step(string complaintId, FieldChecks checks, Func<string, string> seal);

    protected static string? Sealed(string? text, Func<string, string> seal) => text is null ? null : seal(text);
}

/// <summary>
/// The HTTP face of the case rules, shared by the step endpoints (one file per step, beside it). A request is checked
/// for shape (Wolverine runs <see cref="Validate"/> before the endpoint), becomes the step's event, and goes to the
/// touchpoint ledger, which claims its source id (the Idempotency-Key, so a retry is recognised) and hands it to
/// <see cref="ComplaintSteps"/> in the same transaction, exactly as an ingested step. That claim is why these
/// endpoints do not load the case with Wolverine's [WriteAggregate]: the append must commit with the claim, in the
/// ledger's own session, or a retry could append twice.
/// </summary>
public sealed class ComplaintStepWriter(TouchpointLedger ledger, TouchpointMetrics metrics, IPersonalDataProtector personal, IDocumentStore store,
    SlaPolicies policies, IdempotencyKeys idempotencyKeys, TimeProvider clock)
{
    public const string IdempotencyKey = IdempotencyKeys.Header;

    private const string InvalidStep = "Invalid complaint step";

    public static string ETag(long version) => $"\"{version}\"";

    /// <summary>The shape of a step request: its route id, the version it read (400, or 428 when it says none), its fields.</summary>
    public static ProblemDetails Validate(string complaintId, ComplaintStepRequest command, HttpRequest request, TimeProvider clock)
    {
        if (!TouchpointCatalogue.IdPattern().IsMatch(complaintId))
        {
            return Problems.Invalid(new Dictionary<string, string[]> { ["complaintId"] = [TouchpointCatalogue.IdHint] }, "Invalid request");
        }

        if (VersionProblem(request, command) is { } problem)
        {
            return problem;
        }

        var checks = new FieldChecks(new FieldErrors());
        CheckEnvelope(checks, command.OccurredAt, command.Channel, command.CorrelationId, request, clock.GetUtcNow());
        command.Step(complaintId, checks, text => text);
        return checks.Errors.Any ? Problems.Invalid(checks.Errors.ToDictionary(), InvalidStep) : WolverineContinue.NoProblems;
    }

    /// <summary>The fields a logged complaint and every step share: business time, channel, correlation id, and the Idempotency-Key that becomes the source id.</summary>
    public static (DateTimeOffset? OccurredAt, Channel? Channel) CheckEnvelope(FieldChecks checks, string? occurredAt, string? channel, string? correlationId,
        HttpRequest request, DateTimeOffset now, bool channelRequired = false)
    {
        var at = checks.Instant("occurredAt", occurredAt, required: false);
        if (at > now + TouchpointIntake.ClockSkewAllowance)
        {
            checks.Refuse("occurredAt", "must not be in the future (5 minutes of clock skew are allowed).");
        }
        else if (at < TouchpointIntake.Earliest)
        {
            checks.Refuse("occurredAt", "must not be before 1970-01-01.");
        }

        var chosen = checks.Choice("channel", channel, TouchpointCatalogue.Channels, channelRequired);
        checks.Text("correlationId", correlationId, required: false, maxLength: 128);
        if (request.Headers[IdempotencyKey] is { Count: > 0 } key)
        {
            checks.Text(IdempotencyKey, key.Count == 1 ? key[0] : null, maxLength: 256);
        }

        return (at, chosen);
    }

    /// <summary>Takes one step on a case: 200 with the case and its ETag; 404 for an unknown case; 409 or 422 naming the rule the step breaks.</summary>
    public Task<IResult> TakeAsync(HttpContext context, string complaintId, string action, ComplaintStepRequest command, CancellationToken cancellation) =>
        IdempotentlyAsync(context, $"POST /api/complaints/{complaintId}/{action}", command,
            sourceId => TakeOnceAsync(context, complaintId, action, command, sourceId, cancellation), cancellation);

    private async Task<IResult> TakeOnceAsync(HttpContext context, string complaintId, string action, ComplaintStepRequest command, string sourceId,
        CancellationToken cancellation)
    {
        await using var session = store.QuerySession();
        var current = await session.LoadAsync<ComplaintCase>(ComplaintCase.StreamKey(complaintId), cancellation);
        if (current is null)
        {
            return ComplaintReadEndpoints.Unknown(complaintId, null);
        }

        var request = context.Request;
        var checks = new FieldChecks(new FieldErrors());
        var (occurredAt, channel) = CheckEnvelope(checks, command.OccurredAt, command.Channel, command.CorrelationId, request, clock.GetUtcNow());
        var (refused, recorded) = await RecordAsync(context.User, current.CustomerId, seal => Stamp(command.Step(complaintId, checks, seal)!, current.CustomerId,
            occurredAt, channel ?? current.Channel, command.CorrelationId, sourceId, request), $"POST /api/complaints/{{complaintId}}/{action}", ExpectedVersion(request, command),
            cancellation);
        if (refused is not null)
        {
            return refused;
        }

        var view = await ComplaintReadEndpoints.ViewAsync(session, policies, clock, complaintId, cancellation);
        context.Response.Headers.ETag = ETag(recorded!.CaseVersions.GetValueOrDefault(complaintId, view!.Case.Version));
        return Results.Ok(view);
    }

    /// <summary>Logs a case: 201 with its Location and ETag; 200 when the Idempotency-Key (or the complaint id) repeats a logged one.</summary>
    public Task<IResult> LogAsync(HttpContext context, LogComplaint command, CancellationToken cancellation) =>
        IdempotentlyAsync(context, "POST /api/complaints", command, sourceId => LogOnceAsync(context, command, sourceId, cancellation), cancellation);

    private async Task<IResult> LogOnceAsync(HttpContext context, LogComplaint command, string sourceId, CancellationToken cancellation)
    {
        var request = context.Request;
        var complaintId = command.ComplaintId ?? NewComplaintId(request, context.User);
        var checks = new FieldChecks(new FieldErrors());
        var (occurredAt, channel) = CheckEnvelope(checks, command.OccurredAt, command.Channel, command.CorrelationId, request, clock.GetUtcNow(), channelRequired: true);
        var customerId = command.CustomerId!;
        var (refused, recorded) = await RecordAsync(context.User, customerId, seal => Stamp(command.Step(complaintId, checks, seal)!, customerId, occurredAt,
            channel!.Value, command.CorrelationId, sourceId, request), "POST /api/complaints", null, cancellation);
        if (refused is not null)
        {
            return refused;
        }

        await using var session = store.QuerySession();
        var view = await ComplaintReadEndpoints.ViewAsync(session, policies, clock, complaintId, cancellation);
        if (view is null)
        {
            return ComplaintReadEndpoints.Unknown(complaintId, null);
        }

        context.Response.Headers.ETag = ETag(view.Case.Version);
        return recorded!.Appended == 1 && recorded.CaseVersions.ContainsKey(complaintId)
            ? Results.Created($"/api/complaints/{Uri.EscapeDataString(complaintId)}", view)
            : Results.Ok(view);
    }

    /// <summary>
    /// Seals the step for its customer, checks the caller may write it, and hands it to the ledger. A new customer's
    /// personal-data key is stored with their first touchpoint; should another writer store one first, the step is sealed
    /// again with that key.
    /// </summary>
    private async Task<(IResult? Refused, LedgerResult? Recorded)> RecordAsync(ClaimsPrincipal caller, string customerId,
        Func<Func<string, string>, Touchpoint> step, string command, long? expectedVersion, CancellationToken cancellation)
    {
        for (var attempt = 1; ; attempt++)
        {
            var cipher = await personal.ForCustomersAsync([customerId], forWriting: true, cancellation);
            var touchpoint = step(text => cipher.Seal(customerId, text));
            var kind = TouchpointCatalogue.KindOf(touchpoint);
            if (cipher.IsErased(customerId))
            {
                metrics.Rejected(kind);
                return (ProblemDetailsBody.Erased(customerId).ToResult(), null);
            }

            if (SourceOwnership.Refusal(caller, touchpoint) is { } refusal)
            {
                metrics.Rejected(kind);
                return (ProblemDetailsBody.NotYours(refusal).ToResult(), null);
            }

            try
            {
                var recorded = await ledger.RecordAsync([touchpoint], new LedgerWrite(AccessClaims.Actor(caller), command, cipher, expectedVersion), cancellation);
                return recorded.Outcomes[0] switch
                {
                    TouchpointOutcome.RuleBroken => (ProblemDetailsBody.RuleBroken(recorded.Broken[0]).ToResult(), null),
                    TouchpointOutcome.CustomerErased => (ProblemDetailsBody.Erased(customerId).ToResult(), null),
                    _ => (null, recorded),
                };
            }
            catch (PersonalDataKeyRaceException) when (attempt < 3)
            {
                // A concurrent request stored this new customer's key first: seal again with that key.
            }
        }
    }

    private Touchpoint Stamp(Touchpoint step, string customerId, DateTimeOffset? occurredAt, Channel channel, string? correlationId, string sourceId,
        HttpRequest request) => step with
    {
        CustomerId = customerId,
        OccurredAt = occurredAt ?? clock.GetUtcNow(),
        Channel = channel,
        Source = AccessClaims.SourceOf(request.HttpContext.User) ?? SourceOwnership.StaffSource,
        SourceId = sourceId,
        CorrelationId = correlationId,
    };

    /// <summary>
    /// Serves a request once per Idempotency-Key, scoped by the caller and <paramref name="target"/>: its events carry the
    /// scoped key as their source id, so a retry is recognised by the ledger; the same key with another body is a 422 and
    /// while the first is still being served a 409. A refused request gives its key back for a corrected one.
    /// </summary>
    private async Task<IResult> IdempotentlyAsync(HttpContext context, string target, object body, Func<string, Task<IResult>> serve, CancellationToken cancellation)
    {
        if (IdempotencyKeys.KeyOf(context.Request) is not { } key)
        {
            return await serve(Guid.CreateVersion7().ToString("N"));
        }

        var scope = IdempotencyKeys.Scoped(AccessClaims.Actor(context.User), target, key);
        switch (await idempotencyKeys.ClaimAsync(scope, IdempotencyKeys.Fingerprint(body), cancellation))
        {
            case IdempotencyClaim.OtherBody:
                return IdempotencyKeys.OtherBodyProblem();
            case IdempotencyClaim.InFlight:
                return IdempotencyKeys.InFlightProblem();
        }

        IResult result;
        try
        {
            result = await serve(scope);
        }
        catch
        {
            await idempotencyKeys.ReleaseAsync(scope, CancellationToken.None);
            throw;
        }

        if (result is IStatusCodeHttpResult { StatusCode: >= 400 })
        {
            await idempotencyKeys.ReleaseAsync(scope, CancellationToken.None);
        }
        else
        {
            await idempotencyKeys.CompleteAsync(scope, cancellation);
        }

        return result;
    }

    /// <summary>A retry with the same Idempotency-Key must name the same case, so the id derives from the key when there is one.</summary>
    private static string NewComplaintId(HttpRequest request, ClaimsPrincipal caller) =>
        request.Headers[IdempotencyKey] is { Count: 1 } key
            ? "cmp-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
                System.Text.Encoding.UTF8.GetBytes($"{AccessClaims.Actor(caller)}\n{key[0]}")))[..32]
            : "cmp-" + Guid.CreateVersion7().ToString("N");

    /// <summary>The version the writer read, from If-Match or the body; <see cref="Validate"/> has refused a request without one.</summary>
    private static long? ExpectedVersion(HttpRequest request, ComplaintStepRequest command) => command.ExpectedVersion ?? IfMatch(request, out _);

    private static long? IfMatch(HttpRequest request, out bool malformed)
    {
        malformed = false;
        if (request.Headers.IfMatch is not { Count: > 0 } ifMatch)
        {
            return null;
        }

        var tag = ifMatch.Count == 1 ? ifMatch[0]!.Trim() : "";
        if (tag.StartsWith("W/", StringComparison.Ordinal))
        {
            tag = tag[2..];
        }

        if (tag.Length > 2 && tag[0] == '"' && tag[^1] == '"' && long.TryParse(tag[1..^1], System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var version) && version >= 1)
        {
            return version;
        }

        malformed = true;
        return null;
    }

    private static ProblemDetails? VersionProblem(HttpRequest request, ComplaintStepRequest command)
    {
        if (command.ExpectedVersion is < 1)
        {
            return Problems.Invalid(new Dictionary<string, string[]> { ["expectedVersion"] = ["must be a whole number of at least 1."] }, InvalidStep);
        }

        var fromHeader = IfMatch(request, out var malformed);
        if (malformed)
        {
            return Problems.Invalid(new Dictionary<string, string[]> { ["If-Match"] = ["must be one ETag of the case, e.g. \"3\"."] }, InvalidStep);
        }

        if (command.ExpectedVersion is { } fromBody && fromHeader is { } header && fromBody != header)
        {
            return Problems.Invalid(new Dictionary<string, string[]> { ["expectedVersion"] = ["disagrees with If-Match."] }, InvalidStep);
        }

        return (command.ExpectedVersion ?? fromHeader) is null
            ? new ProblemDetails
            {
                Status = StatusCodes.Status428PreconditionRequired,
                Title = "Version required",
                Detail = "Say which version of the case you read: send If-Match with its ETag, or expectedVersion in the body. " +
                         "Two people editing one case must not overwrite each other.",
            }
            : null;
    }
}
