using CustomerJourney.Access;
using CustomerJourney.Churn;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Wolverine;
using Wolverine.Marten;

namespace CustomerJourney.WebConsole;

/// <summary>A fit job as its status fragment shows it, polled while it runs.</summary>
public sealed record FitJobPart(ChurnFitJobView? Job, ProblemDetails? Problem, bool MayCancel, string PollUrl);

/// <summary>The latest model's evaluation (GET /api/churn/models/{id}/evaluation), as its background part shows it.</summary>
public sealed record EvaluationPart(ChurnModelEvaluation? Evaluation, ProblemDetails? Problem);

/// <summary>A page of the ranked flag list (GET /api/churn/flags), as its background part shows it.</summary>
public sealed record FlaggedPart(FlaggedPage? Flagged, ProblemDetails? Problem, string? Currency);

/// <summary>
/// Churn: the fitted models with their parameters and convergence, a "fit now" form that starts a fit job and follows it,
/// and, for the latest model, its evaluation charts and the flagged customers ranked by value at risk (both loaded in the
/// background: each reads every customer's histories or flags). Every part is what the API's endpoint answers.
/// </summary>
[Authorize(Policy = Policies.ReadChurn)]
public sealed class ChurnPage(IAuthorizationService authorization, IQuerySession session, IOptions<ChurnOptions> options) : PageModel
{
    public const string Path = "/console/churn";

    /// <summary>How many flagged people a page of the ranked list shows.</summary>
    public const int FlaggedPageSize = 20;

    /// <summary>The fit job this page follows (after "fit now", or a link to it).</summary>
    [BindProperty(SupportsGet = true)]
    public string? Job { get; set; }

    /// <summary>Which page of the ranked flag list to show.</summary>
    [BindProperty(SupportsGet = true)]
    public int FlaggedPage { get; set; } = 1;

    public IReadOnlyList<ChurnModelView> Models { get; private set; } = [];

    public ChurnModelView? Latest { get; private set; }

    public FitJobPart? FitJob { get; private set; }

    /// <summary>Why "fit now" or "cancel" was refused, as the API answered.</summary>
    public ProblemDetails? Refused { get; private set; }

    public bool MayFit { get; private set; }

    public string DefaultCurrency => options.Value.DefaultCurrency;

    public static string JobUrl(Guid jobId) => $"{Path}?handler=Job&job={jobId}";

    public static string EvaluationUrl(Guid modelId) => $"{Path}?handler=Evaluation&model={modelId}";

    public static string FlaggedUrl(int page, string currency) => $"{Path}?handler=Flagged&flaggedPage={page}&currency={Uri.EscapeDataString(currency)}";

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellation)
    {
        await LoadAsync(cancellation);
        return Page();
    }

    /// <summary>Starts a fit job through POST /api/churn/models with Prefer: respond-async, then follows it on this page.</summary>
    public async Task<IActionResult> OnPostFitAsync(string? calibrationEnd, string? currency, string? asOf, [FromServices] IDocumentStore store,
        [FromServices] IMartenOutbox outbox, [FromServices] TimeProvider clock, [FromServices] ChurnMetrics metrics, [FromServices] IMessageBus bus,
        CancellationToken cancellation)
    {
        if (!await MayFitAsync())
        {
            return Forbid();
        }

        // The date picker gives a day; the API reads instants (the day's start in UTC; asOf as typed, read as UTC).
        var body = new Dictionary<string, string>(StringComparer.Ordinal) { ["calibrationEnd"] = Blank(calibrationEnd) is { } day ? $"{day}T00:00:00Z" : "" };
        if (Blank(currency) is { } code)
        {
            body["currency"] = code;
        }

        if (Blank(asOf) is { } instant)
        {
            body["asOf"] = instant.Length == 16 ? $"{instant}:00Z" : instant;
        }

        var request = ApiBodies.Json(HttpContext, body);
        request.Headers["Prefer"] = ChurnFitJobs.RespondAsyncPreference;
        var answer = ApiAnswers.Of<ChurnFitJobView>(await FitChurnModelsEndpoint.Post(request, User, store, outbox, clock, options, metrics, bus, cancellation));
        if (answer.Value is { } job)
        {
            return Redirect($"{Path}?job={job.Id}");
        }

        Refused = answer.Problem;
        await LoadAsync(cancellation);
        Response.StatusCode = Refused?.Status ?? StatusCodes.Status400BadRequest;
        return Page();
    }

    /// <summary>Cancels the job through DELETE /api/churn/fits/{jobId}.</summary>
    public async Task<IActionResult> OnPostCancelAsync([FromServices] IDocumentSession writer, [FromServices] ChurnFitRuns runs, [FromServices] TimeProvider clock,
        CancellationToken cancellation)
    {
        if (!await MayFitAsync())
        {
            return Forbid();
        }

        var answer = ApiAnswers.Of<ChurnFitJobView>(await ChurnFitJobs.Cancel(Job ?? "", User, writer, runs, clock, cancellation));
        if (answer.Value is { } job)
        {
            return Redirect($"{Path}?job={job.Id}");
        }

        Refused = answer.Problem;
        await LoadAsync(cancellation);
        Response.StatusCode = Refused?.Status ?? StatusCodes.Status400BadRequest;
        return Page();
    }

    /// <summary>The job's status fragment: polled every second while the job runs, without the poll once it has ended.</summary>
    public async Task<IActionResult> OnGetJobAsync(CancellationToken cancellation) => Partial("_FitJob", await JobAsync(cancellation));

    public async Task<IActionResult> OnGetEvaluationAsync(string? model, [FromServices] IOptions<ChurnOptions> churn, CancellationToken cancellation)
    {
        try
        {
            var answer = ApiAnswers.Of<ChurnModelEvaluation>(await EvaluateChurnModelEndpoint.Get(model ?? "", ApiCalls.Query(HttpContext), session, churn, cancellation));
            return Partial("_ChurnEvaluation", new EvaluationPart(answer.Value, answer.Problem));
        }
        catch (Exception e) when (e is ArgumentException or ArithmeticException)
        {
            // The API answers a 500 problem here (a model whose a + b < 1 breaks the BG/NBD's expectation, issue 15): the page says
            // so in its place instead of leaving the part loading forever.
            return Partial("_ChurnEvaluation", new EvaluationPart(null, new ProblemDetails { Status = StatusCodes.Status500InternalServerError,
                Title = "The evaluation failed", Detail = e.Message }));
        }
    }

    public async Task<IActionResult> OnGetFlaggedAsync(string? currency, CancellationToken cancellation)
    {
        var query = ApiCalls.Query(HttpContext, ("page", FlaggedPage.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("pageSize", FlaggedPageSize.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var answer = ApiAnswers.Of<FlaggedPage>(await GetChurnFlagsEndpoints.List(query, session, cancellation));
        return Partial("_FlaggedCustomers", new FlaggedPart(answer.Value, answer.Problem, currency));
    }

    private async Task LoadAsync(CancellationToken cancellation)
    {
        MayFit = await MayFitAsync();
        // Listed latest first (ChurnModels.LatestFirst), so the latest is the first listed: read once, a fit committed
        // between two reads cannot leave the page with a latest model it does not list.
        Models = await FitChurnModelsEndpoint.List(session, cancellation);
        Latest = Models.Count > 0 ? Models[0] : null;
        FitJob = Job is null ? null : await JobAsync(cancellation);
    }

    private async Task<FitJobPart> JobAsync(CancellationToken cancellation)
    {
        var answer = ApiAnswers.Of<ChurnFitJobView>(await ChurnFitJobs.Get(Job ?? "", session, cancellation));
        return new FitJobPart(answer.Value, answer.Problem, await MayFitAsync(), Guid.TryParse(Job, out var id) ? JobUrl(id) : Path);
    }

    private async Task<bool> MayFitAsync() => (await authorization.AuthorizeAsync(User, Policies.FitChurnModels)).Succeeded;

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
