using System.Globalization;
using System.Text.Json.Nodes;
using CustomerJourney.Access;
using CustomerJourney.Churn;
using CustomerJourney.Complaints;
using CustomerJourney.Infrastructure;
using CustomerJourney.WinBack;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Wolverine.Marten;

namespace CustomerJourney.WebConsole.WinBack;

/// <summary>
/// What a person types into the plan form, as text: it becomes the JSON body of POST /api/winback/campaigns (and of its
/// preview), so the API's own validation judges it. <see cref="Key"/> is the Idempotency-Key both calls carry, so the
/// launch is the campaign the preview described.
/// </summary>
public sealed class PlanForm
{
    public string? Name { get; set; }

    public string? Segment { get; set; }

    public string? MinValue { get; set; }

    public string? MaxPAlive { get; set; }

    public string? Model { get; set; }

    public string Kind { get; set; } = "discount-percent";

    public string? Value { get; set; } = "20";

    public string? Currency { get; set; } = "USD";

    public string? ValidDays { get; set; } = "30";

    public string Channel { get; set; } = "email";

    public string? ControlShare { get; set; } = "0.1";

    /// <summary>When to launch (UTC); empty: at once.</summary>
    public string? LaunchAt { get; set; }

    /// <summary>A past business instant to run the campaign at (UTC); empty: the launch's own instant.</summary>
    public string? At { get; set; }

    public string Key { get; set; } = Guid.CreateVersion7().ToString("N");

    /// <summary>The request body, numbers as numbers where they read as one (otherwise as typed, for the API to refuse).</summary>
    public JsonObject Body()
    {
        var filter = new JsonObject();
        Put(filter, "segment", Blank(Segment));
        Put(filter, "minValue", NumberOrText(MinValue));
        Put(filter, "maxPAlive", NumberOrText(MaxPAlive));
        Put(filter, "model", Blank(Model));
        var offer = new JsonObject { ["kind"] = Kind };
        Put(offer, "value", NumberOrText(Value));
        Put(offer, "currency", Blank(Currency));
        Put(offer, "validDays", NumberOrText(ValidDays));
        var body = new JsonObject { ["name"] = Name ?? "", ["offer"] = offer, ["channel"] = Channel };
        if (filter.Count > 0)
        {
            body["filter"] = filter;
        }

        Put(body, "controlShare", NumberOrText(ControlShare));
        Put(body, "launchAt", Instant(LaunchAt));
        Put(body, "at", Instant(At));
        return body;
    }

    private static void Put(JsonObject target, string name, JsonNode? value)
    {
        if (value is not null)
        {
            target[name] = value;
        }
    }

    private static JsonValue? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : JsonValue.Create(text.Trim());

    private static JsonValue? NumberOrText(string? text) =>
        string.IsNullOrWhiteSpace(text) ? null
        : decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? JsonValue.Create(number)
        : JsonValue.Create(text.Trim());

    /// <summary>A datetime-local field's value read as UTC (the form says so); anything else goes as typed.</summary>
    private static JsonValue? Instant(string? text) =>
        string.IsNullOrWhiteSpace(text) ? null
        : DateTime.TryParseExact(text.Trim(), ["yyyy-MM-ddTHH:mm", "yyyy-MM-ddTHH:mm:ss"], CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var utc)
            ? JsonValue.Create(new DateTimeOffset(utc, TimeSpan.Zero).ToString("O", CultureInfo.InvariantCulture))
            : JsonValue.Create(text.Trim());
}

/// <summary>
/// Win-back: the campaigns, the candidates with their reasons and exclusions (a background part: it reads every
/// customer's events), and for marketing a form to plan a campaign, preview its audience and launch it. Every figure is
/// what the API's own code answers: the list, the candidate list, the preview and the plan.
/// </summary>
[Authorize(Policy = Policies.ReadWinBack)]
public sealed class WinBackPage(IAuthorizationService authorization, IDocumentSession session, TimeProvider clock, IOptions<WinBackOptions> options) : PageModel
{
    public const int PageSize = 50;

    public IReadOnlyList<CampaignSummary> Campaigns { get; private set; } = [];

    public bool MayRun { get; private set; }

    public PlanForm Form { get; private set; } = new();

    public CampaignPreview? Preview { get; private set; }

    public ProblemDetails? Problem { get; private set; }

    /// <summary>The business instant the candidates are assessed at (?at=, UTC); empty: now.</summary>
    [FromQuery(Name = "at")]
    public string? CandidatesAt { get; set; }

    [FromQuery(Name = "candidatesPage")]
    public int CandidatesPage { get; set; } = 1;

    public CandidatePage? Candidates { get; private set; }

    public ProblemDetails? CandidatesProblem { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellation) => await LoadAsync(cancellation);

    /// <summary>The candidate list, as GET /api/winback/candidates?includeExcluded=true answers it: the page's background part.</summary>
    public async Task<IActionResult> OnGetCandidatesAsync([FromServices] IOptions<ChurnOptions> churn, [FromServices] SlaPolicies sla,
        [FromServices] UnreadableStreams unreadable, CancellationToken cancellation)
    {
        var answer = await ApiCalls.Answer<CandidatePage>(GetCandidatesEndpoint.Get(
            ApiCalls.Query(HttpContext, ("includeExcluded", "true"), ("pageSize", PageSize.ToString(CultureInfo.InvariantCulture)),
                ("page", Math.Max(1, CandidatesPage).ToString(CultureInfo.InvariantCulture)), ("at", AtQuery())),
            session, clock, churn, options, sla, unreadable, cancellation));
        (Candidates, CandidatesProblem) = (answer.Value, answer.Problem);
        return Partial("_WinBackCandidates", this);
    }

    /// <summary>The audience the form's campaign would launch, from the preview endpoint's code; nothing is recorded.</summary>
    public async Task<IActionResult> OnPostPreviewAsync(PlanForm form, [FromServices] IOptions<ChurnOptions> churn, [FromServices] SlaPolicies sla,
        [FromServices] UnreadableStreams unreadable, CancellationToken cancellation)
    {
        if (!await MayRunAsync())
        {
            return Forbid();
        }

        Form = form;
        var answer = ApiAnswers.Of<CampaignPreview>(await PreviewWinBackCampaignEndpoint.Preview(ApiRequest(form), User, session, clock, churn, options, sla, unreadable,
            cancellation));
        (Preview, Problem) = (answer.Value, answer.Problem);
        await LoadAsync(cancellation);
        return Page();
    }

    /// <summary>Plans the campaign with the plan endpoint's code (its launch is queued with it) and shows it.</summary>
    public async Task<IActionResult> OnPostLaunchAsync(PlanForm form, [FromServices] IDocumentStore store, [FromServices] IMartenOutbox outbox,
        CancellationToken cancellation)
    {
        if (!await MayRunAsync())
        {
            return Forbid();
        }

        Form = form;
        var answer = ApiAnswers.Of<CampaignView>(await WinBackCampaignEndpoints.Plan(ApiRequest(form), User, store, outbox, clock, options, cancellation));
        if (answer.Value is { } planned)
        {
            return Redirect($"/console/winback/campaigns/{Uri.EscapeDataString(planned.Campaign.CampaignId)}");
        }

        Problem = answer.Problem;
        await LoadAsync(cancellation);
        return Page();
    }

    /// <summary>The part's URL: this page's Candidates handler with the same instant and page.</summary>
    public string CandidatesUrl() =>
        $"/console/winback?handler=Candidates&candidatesPage={Math.Max(1, CandidatesPage)}" + (AtQuery() is { } at ? "&at=" + Uri.EscapeDataString(at) : "");

    /// <summary>This page showing another page of candidates, at the same instant.</summary>
    public string CandidatesPageUrl(int candidatesPage) =>
        $"/console/winback?candidatesPage={candidatesPage}" + (string.IsNullOrWhiteSpace(CandidatesAt) ? "" : "&at=" + Uri.EscapeDataString(CandidatesAt));

    /// <summary>The ?at= a date-time field gives, read as UTC; typed otherwise, for the API to refuse.</summary>
    public string? AtQuery() =>
        string.IsNullOrWhiteSpace(CandidatesAt) ? null
        : DateTime.TryParseExact(CandidatesAt.Trim(), ["yyyy-MM-ddTHH:mm", "yyyy-MM-ddTHH:mm:ss"], CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var utc)
            ? new DateTimeOffset(utc, TimeSpan.Zero).ToString("O", CultureInfo.InvariantCulture)
            : CandidatesAt.Trim();

    private HttpRequest ApiRequest(PlanForm form)
    {
        var request = ApiBodies.Json(HttpContext, form.Body());
        request.Headers["Idempotency-Key"] = form.Key;
        return request;
    }

    private async Task LoadAsync(CancellationToken cancellation)
    {
        MayRun = await MayRunAsync();
        var list = ApiAnswers.Of<List<CampaignSummary>>(await WinBackCampaignEndpoints.List(session, cancellation));
        Campaigns = list.Value ?? [];
        Problem ??= list.Problem;
    }

    private async Task<bool> MayRunAsync() => (await authorization.AuthorizeAsync(User, Policies.RunWinBack)).Succeeded;
}
