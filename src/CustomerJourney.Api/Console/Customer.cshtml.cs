using System.Globalization;
using CustomerJourney.Access;
using CustomerJourney.Churn;
using CustomerJourney.Journeys;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.AspNetCore.Authorization;

using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace CustomerJourney.WebConsole;

/// <summary>
/// A customer's journey, replayable as of any record time, beside their summary, consents, churn score and flags. Every
/// section is what the API's endpoint answers this person for the same customer and instant.
/// </summary>
[Authorize(Policy = Policies.ReadCustomers)]
public sealed class CustomerPage(IAuthorizationService authorization, IDocumentSession session, IPersonalDataProtector personal,
    UnreadablePersonalData unreadable, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, IOptions<ChurnOptions> churn) : PageModel
{
    /// <summary>The most entries one page shows: the API's own page limit.</summary>
    public const int Shown = GetCustomerEndpoints.MaxPageSize;

    [FromRoute]
    public string CustomerId { get; set; } = "";

    /// <summary>Record time to replay to, as the API reads it (ISO 8601 with an offset).</summary>
    [BindProperty(SupportsGet = true)]
    public string? AsOf { get; set; }

    /// <summary>The date-time picker's value, read as UTC.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Pick { get; set; }

    /// <summary>The slider's position among the record times that exist.</summary>
    [BindProperty(SupportsGet = true)]
    public int? At { get; set; }

    /// <summary>Which as-of control the person used: "picker", "slider" or "now".</summary>
    [BindProperty(SupportsGet = true)]
    public string? By { get; set; }

    [BindProperty(SupportsGet = true)]
    public List<string> Kinds { get; set; } = [];

    [BindProperty(SupportsGet = true)]
    public bool MomentsOfTruth { get; set; }

    public ProblemDetails? Problem { get; private set; }

    public JourneyPage? Journey { get; private set; }

    /// <summary>Entries recorded after the as-of instant (they are not in the replay), and entries shown differently now.</summary>
    public IReadOnlyList<JourneyEntry> RecordedSince { get; private set; } = [];

    public IReadOnlySet<Guid> ChangedSince { get; private set; } = new HashSet<Guid>();

    public IReadOnlyList<DateTimeOffset> RecordTimes { get; private set; } = [];

    public IReadOnlyList<string> KindsSeen { get; private set; } = [];

    public CustomerSummaryResponse? Summary { get; private set; }

    public ApiAnswer<ConsentAnswer>? Consents { get; private set; }

    public ApiAnswer<ChurnScore>? Score { get; private set; }

    public ApiAnswer<CustomerFlags>? Flags { get; private set; }

    public IReadOnlySet<Guid> LargeReturns { get; private set; } = new HashSet<Guid>();

    public DateTimeOffset? Replayed { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellation)
    {
        var everything = await JourneyAsync(null, [], false, cancellation);
        if (everything.Problem is { } problem)
        {
            Problem = problem;
            Response.StatusCode = problem.Status ?? StatusCodes.Status400BadRequest;
            return Page();
        }

        RecordTimes = [.. everything.Value!.Entries.Select(e => e.RecordedAt).Distinct().Order()];
        KindsSeen = [.. everything.Value.Entries.Select(e => e.Kind).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        Replayed = By switch
        {
            "now" => null,
            "slider" when At is { } at && RecordTimes.Count > 0 => RecordTimes[Math.Clamp(at, 0, RecordTimes.Count - 1)],
            "picker" when Pick is { Length: > 0 } pick => PickedInstant(pick),
            _ => null,
        };
        if (Problem is not null)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        var asOf = By is "now" or "slider" or "picker" ? Replayed?.ToString("O", CultureInfo.InvariantCulture) : AsOf;
        var filtered = Kinds.Count > 0 || MomentsOfTruth;
        var replay = asOf is null && !filtered ? everything : await JourneyAsync(asOf, Kinds, MomentsOfTruth, cancellation);
        if (replay.Problem is { } refused)
        {
            Problem = refused;
            Response.StatusCode = refused.Status ?? StatusCodes.Status400BadRequest;
            return Page();
        }

        Journey = replay.Value;
        Replayed = Journey!.AsOf;
        At = Replayed is { } instant ? Math.Max(0, RecordTimes.Count(t => t <= instant) - 1) : RecordTimes.Count - 1;
        if (Replayed is not null)
        {
            var now = filtered ? (await JourneyAsync(null, Kinds, MomentsOfTruth, cancellation)).Value! : everything.Value;
            var then = Journey.Entries.ToDictionary(e => e.EventId);
            RecordedSince = [.. now.Entries.Where(e => !then.ContainsKey(e.EventId))];
            ChangedSince = now.Entries.Where(e => then.TryGetValue(e.EventId, out var was) && was.Data.GetRawText() != e.Data.GetRawText())
                .Select(e => e.EventId).ToHashSet();
        }

        Summary = ApiAnswers.Of<CustomerSummaryResponse>(await GetCustomerEndpoints.GetSummary(CustomerId, ApiCalls.Query(HttpContext, ("asOf", asOf)), session, cancellation)).Value;
        if (await May(Policies.ReadConsent))
        {
            Consents = await ApiCalls.Answer<ConsentAnswer>(ConsentQuery.Get(CustomerId, ApiCalls.Query(HttpContext, ("asOf", asOf)), session, cancellation));
        }

        if (await May(Policies.ReadChurn))
        {
            Flags = await ApiCalls.Answer<CustomerFlags>(GetChurnFlagsEndpoints.ForCustomer(CustomerId, ApiCalls.Query(HttpContext, ("asOf", asOf)), session, cancellation));
            LargeReturns = (Flags.Value?.Flags ?? []).Where(f => f.Reason == FlagReasons.LargeReturn).SelectMany(f => f.EventIds).ToHashSet();
            // The latest fitted model, as flags and campaigns use when none is named.
            Score = await ChurnModels.LatestAsync(session, cancellation) is { } model
                ? await ApiCalls.Answer<ChurnScore>(ScoreCustomerEndpoint.Get(CustomerId,
                    ApiCalls.Query(HttpContext, ("model", model.ModelId.ToString()), ("asOf", asOf)), session, churn, cancellation))
                : new ApiAnswer<ChurnScore>(null, new ProblemDetails { Title = "No churn model fitted yet", Detail = "An analyst fits one (POST /api/churn/models)." });
        }

        return Page();
    }

    public MomentTone ToneOf(JourneyEntry entry) => MomentTones.Of(entry, LargeReturns);

    /// <summary>This page's address with the same filters and replay, for links that change one thing.</summary>
    public string Link(string? asOf = null, bool keepReplay = true)
    {
        var query = new List<string>();
        var instant = asOf ?? (keepReplay ? Replayed?.ToString("O", CultureInfo.InvariantCulture) : null);
        if (instant is not null)
        {
            query.Add("asOf=" + Uri.EscapeDataString(instant));
        }

        query.AddRange(Kinds.Select(k => "kinds=" + Uri.EscapeDataString(k)));
        if (MomentsOfTruth)
        {
            query.Add("momentsOfTruth=true");
        }

        return $"/console/customers/{Uri.EscapeDataString(CustomerId)}" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
    }

    private async Task<bool> May(string policy) => (await authorization.AuthorizeAsync(User, policy)).Succeeded;

    private async Task<ApiAnswer<JourneyPage>> JourneyAsync(string? asOf, List<string> kinds, bool momentsOnly, CancellationToken cancellation) =>
        await ApiCalls.Answer<JourneyPage>(GetCustomerEndpoints.GetJourney(CustomerId,
            ApiCalls.Query(HttpContext, ("asOf", asOf), ("kinds", kinds.Count > 0 ? string.Join(',', kinds) : null),
                ("momentsOfTruth", momentsOnly ? "true" : null), ("pageSize", Shown.ToString(CultureInfo.InvariantCulture))),
            User, session, personal, unreadable, json, cancellation));

    /// <summary>A date-time picker sends no offset ("2024-05-01T10:00" or with seconds): the page says it is UTC.</summary>
    private DateTimeOffset? PickedInstant(string pick)
    {
        if (DateTime.TryParseExact(pick, ["yyyy-MM-ddTHH:mm", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mm:ss.FFFFFFF"], CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var utc))
        {
            return new DateTimeOffset(utc, TimeSpan.Zero);
        }

        Problem = new HttpValidationProblemDetails(new Dictionary<string, string[]> { ["pick"] = ["must be a date and time, e.g. 2024-05-01T10:00."] })
        {
            Title = "Invalid request",
        };
        return null;
    }
}
