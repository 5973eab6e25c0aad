using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using CustomerJourney.Access;
using CustomerJourney.Complaints;
using CustomerJourney.Infrastructure;

namespace CustomerJourney.Touchpoints;

/// <summary>The answer to an ingestion request: what was appended, what was already known, what was refused.</summary>
public sealed record IngestionResult(int Appended, int Duplicates, IReadOnlyList<int> DuplicateItems, IReadOnlyList<RejectedTouchpoint> Rejected);

public sealed record RejectedTouchpoint(int Index, ProblemDetailsBody Problem);

/// <summary>
/// Published after every ingestion that appended something the churn-flag rules read: whose flag inputs just changed (the
/// flags react; <see cref="TouchpointLedger.Announcements"/>). <paramref name="MayOnlyClear"/> names the customers whose
/// new inputs can at most clear a flag, with those flags (<see cref="Churn.ChurnFlagRules.CanOnlyClear"/>); absent from
/// it, a customer's inputs may raise one.
/// </summary>
public sealed record TouchpointsRecorded(IReadOnlyList<string> CustomerIds, IReadOnlyDictionary<string, IReadOnlyList<string>>? MayOnlyClear = null)
{
    /// <summary>What the flags hear of these recorded touchpoints; null when none is an input of theirs.</summary>
    public static TouchpointsRecorded? Of(IEnumerable<Touchpoint> recorded)
    {
        var customers = recorded.Where(Churn.ChurnFlagRules.ReadsInput).GroupBy(t => t.CustomerId, StringComparer.Ordinal).ToList();
        if (customers.Count == 0)
        {
            return null;
        }

        var onlyClearing = customers.Where(inputs => !inputs.Any(Churn.ChurnFlagRules.MayRaise))
            .ToDictionary(inputs => inputs.Key,
                inputs => (IReadOnlyList<string>)[.. inputs.Select(t => Churn.ChurnFlagRules.CanOnlyClear(t)!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
                StringComparer.Ordinal);
        return new TouchpointsRecorded([.. customers.Select(c => c.Key)], onlyClearing.Count == 0 ? null : onlyClearing);
    }
}

/// <summary>
/// Published after every ingestion that appended to customers' own streams touchpoints that may link identities, in its
/// transaction: each such touchpoint's customer and event id (identity resolution reads the identifiers they carry).
/// </summary>
public sealed record TouchpointsAppended(IReadOnlyList<AppendedTouchpoint> Touchpoints);

public sealed record AppendedTouchpoint(string CustomerId, Guid EventId);

/// <summary>Published after every ingestion that appended purchases: who bought (win-back attribution reacts).</summary>
public sealed record PurchasesRecorded(IReadOnlyList<string> CustomerIds);

/// <summary>An RFC 7807 problem document as it appears inside a batch answer.</summary>
public sealed record ProblemDetailsBody(
    string Type,
    string Title,
    int Status,
    string Detail,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IDictionary<string, string[]>? Errors = null)
{
    public static ProblemDetailsBody InvalidTouchpoint(FieldErrors errors) => new(
        "https://tools.ietf.org/html/rfc9110#section-15.5.1", "Invalid touchpoint", StatusCodes.Status400BadRequest,
        "The touchpoint was not recorded; see errors for each field.", errors.ToDictionary());

    public static ProblemDetailsBody NotYours(string detail) => new(
        "https://tools.ietf.org/html/rfc9110#section-15.5.4", "Forbidden", StatusCodes.Status403Forbidden, detail);

    public static ProblemDetailsBody RuleBroken(ComplaintRuleException broken) => broken.Status == StatusCodes.Status409Conflict
        ? new("https://tools.ietf.org/html/rfc9110#section-15.5.10", "Conflict with the complaint's state", broken.Status, broken.Message) { Rule = broken.Rule }
        : new("https://tools.ietf.org/html/rfc9110#section-15.5.21", "Complaint rule broken", broken.Status, broken.Message) { Rule = broken.Rule };

    public static ProblemDetailsBody Erased(string customerId) => new(
        "https://tools.ietf.org/html/rfc9110#section-15.5.11", "Customer erased", StatusCodes.Status410Gone,
        $"Customer '{customerId}' has been erased at their request; no new touchpoints are accepted for them.");

    /// <summary>For a refused complaint step: the rule it broke, e.g. "case-closed".</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Rule { get; init; }

    public IResult ToResult() => Errors is not null
        ? Results.ValidationProblem(Errors, title: Title, detail: Detail, type: Type)
        : Results.Problem(statusCode: Status, title: Title, detail: Detail, type: Type,
            extensions: Rule is null ? null : new Dictionary<string, object?> { ["rule"] = Rule });
}

/// <summary>One submitted item: its JSON, or why it could not be parsed.</summary>
public readonly record struct SubmittedItem(JsonElement? Json, string? ParseError);

/// <summary>
/// The ingestion pipeline both endpoints share: fetch the customers' personal-data keys (one round trip; new
/// customers' keys are stored by the ledger with their first touchpoints),
/// read each item through the pure intake, check the caller may write it, then hand the good ones to the
/// ledger (one transaction).
/// </summary>
public sealed class TouchpointIngestion(TouchpointLedger ledger, TouchpointMetrics metrics, IPersonalDataProtector personal, TimeProvider clock)
{
    public async Task<IngestionResult> IngestAsync(IReadOnlyList<SubmittedItem> items, string? routeCustomerId, ClaimsPrincipal caller,
        string command, CancellationToken cancellation) =>
        (await RecordAsync(items, routeCustomerId, caller, command, null, cancellation)).Result;

    /// <summary>As <see cref="IngestAsync"/>, also giving the touched complaint cases' versions; a single complaint step may carry the version its writer read.</summary>
    public async Task<(IngestionResult Result, IReadOnlyDictionary<string, long> CaseVersions)> RecordAsync(IReadOnlyList<SubmittedItem> items,
        string? routeCustomerId, ClaimsPrincipal caller, string command, long? expectedCaseVersion, CancellationToken cancellation)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await RecordOnceAsync(items, routeCustomerId, caller, command, expectedCaseVersion, cancellation);
            }
            catch (PersonalDataKeyRaceException) when (attempt < 3)
            {
                // A concurrent request stored a new customer's key first: seal again with that key.
            }
        }
    }

    private async Task<(IngestionResult Result, IReadOnlyDictionary<string, long> CaseVersions)> RecordOnceAsync(IReadOnlyList<SubmittedItem> items,
        string? routeCustomerId, ClaimsPrincipal caller, string command, long? expectedCaseVersion, CancellationToken cancellation)
    {
        var customerIds = items.Select(item => routeCustomerId ?? CustomerIdOf(item.Json))
            .Where(id => id is not null && TouchpointCatalogue.IdPattern().IsMatch(id)).Select(id => id!).ToHashSet(StringComparer.Ordinal);
        var cipher = await personal.ForCustomersAsync(customerIds, forWriting: true, cancellation);
        var now = clock.GetUtcNow();

        var accepted = new List<(int Index, Touchpoint Touchpoint)>();
        var rejected = new List<RejectedTouchpoint>();
        for (var i = 0; i < items.Count; i++)
        {
            var problem = Read(items[i], routeCustomerId, now, cipher, caller, out var touchpoint, out var kind);
            if (problem is null)
            {
                accepted.Add((i, touchpoint!));
            }
            else
            {
                metrics.Rejected(kind);
                rejected.Add(new RejectedTouchpoint(i, problem));
            }
        }

        var ledgered = await ledger.RecordAsync(accepted.Select(a => a.Touchpoint).ToList(),
            new LedgerWrite(AccessClaims.Actor(caller), command, cipher, expectedCaseVersion), cancellation);
        var outcomes = ledgered.Outcomes;
        var duplicates = new List<int>();
        var appended = 0;
        for (var a = 0; a < accepted.Count; a++)
        {
            switch (outcomes[a])
            {
                case TouchpointOutcome.Appended:
                    appended++;
                    break;
                case TouchpointOutcome.Duplicate:
                    duplicates.Add(accepted[a].Index);
                    break;
                case TouchpointOutcome.RuleBroken:
                    rejected.Add(new RejectedTouchpoint(accepted[a].Index, ProblemDetailsBody.RuleBroken(ledgered.Broken[a])));
                    break;
                default:
                    rejected.Add(new RejectedTouchpoint(accepted[a].Index, ProblemDetailsBody.Erased(accepted[a].Touchpoint.CustomerId)));
                    break;
            }
        }

        return (new IngestionResult(appended, duplicates.Count, duplicates, rejected.OrderBy(r => r.Index).ToList()), ledgered.CaseVersions);
    }

    /// <summary>One item through the whole of the API's validation: parse, erasure, intake, source ownership. The import calls it too.</summary>
    internal static ProblemDetailsBody? Read(SubmittedItem item, string? routeCustomerId, DateTimeOffset now, IPersonalDataCipher cipher,
        ClaimsPrincipal caller, out Touchpoint? touchpoint, out string? kind)
    {
        touchpoint = null;
        kind = null;
        if (item.Json is not { } json)
        {
            var errors = new FieldErrors();
            errors.Add("$", $"is not valid JSON: {item.ParseError}");
            return ProblemDetailsBody.InvalidTouchpoint(errors);
        }

        var customerId = routeCustomerId ?? CustomerIdOf(json);
        if (customerId is not null && cipher.IsErased(customerId))
        {
            return ProblemDetailsBody.Erased(customerId);
        }

        var intake = TouchpointIntake.Read(json, routeCustomerId, now, cipher);
        kind = intake.Kind;
        if (!intake.Accepted)
        {
            return ProblemDetailsBody.InvalidTouchpoint(intake.Errors);
        }

        if (SourceOwnership.Refusal(caller, intake.Touchpoint!) is { } refusal)
        {
            return ProblemDetailsBody.NotYours(refusal);
        }

        touchpoint = intake.Touchpoint;
        return null;
    }

    private static string? CustomerIdOf(JsonElement? json) =>
        json is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty("customerId", out var id) ? FieldReader.StorableString(id, 64) : null;
}
