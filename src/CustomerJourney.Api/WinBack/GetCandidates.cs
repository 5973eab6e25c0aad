using CustomerJourney.Access;
using CustomerJourney.Churn;
using CustomerJourney.Complaints;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Wolverine.Http;

namespace CustomerJourney.WinBack;

/// <summary>A page of candidates; <see cref="Converged"/> is false when the fit behind the scores did not converge, null without a fit.</summary>
public sealed record CandidatePage(DateTimeOffset At, Guid? ModelId, bool? Converged, string Channel, int Total, int Excluded, int Unreadable, int Page, int PageSize,
    IReadOnlyList<Candidate> Candidates);

public static class GetCandidatesEndpoint
{
    private static readonly IReadOnlyDictionary<string, Channel> Channels = new Dictionary<string, Channel>(StringComparer.Ordinal)
    {
        ["email"] = Channel.Email,
        ["app"] = Channel.App,
        ["phone"] = Channel.Phone,
    };

    /// <summary>
    /// Flagged customers worth winning back, ranked by the value an offer would recover, with their flags' reasons and
    /// evidence. ?includeExcluded=true lists the excluded ones too, each with why; ?at= assesses at a past business instant.
    /// </summary>
    [WolverineGet("/api/winback/candidates")]
    [Authorize(Policy = Policies.ReadWinBack)]
    public static async Task<IResult> Get(HttpRequest request, IQuerySession session, TimeProvider clock, IOptions<ChurnOptions> churn,
        IOptions<WinBackOptions> options, SlaPolicies sla, UnreadableStreams unreadable, CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var page = query.Integer("page", 1, 1, 100_000);
        var pageSize = query.Integer("pageSize", 50, 1, 500);
        var at = query.Instant("at");
        var includeExcluded = query.Bool("includeExcluded") ?? false;
        var channel = query.Choice("channel", Channels) ?? Channel.Email;
        var minValue = Number(query, request, "minValue", 0, double.MaxValue);
        var maxPAlive = Number(query, request, "maxPAlive", 0, 1);
        var segment = query.Text("segment", 40);
        var modelText = query.Text("model", 40);
        Guid? modelId = null;
        if (modelText is not null)
        {
            if (Guid.TryParse(modelText, out var id))
            {
                modelId = id;
            }
            else
            {
                query.Errors.Add("model", "must be the id of a fitted churn model (GET /api/churn/models).");
            }
        }

        if (segment is not null && !WinBackRules.Segments.Contains(segment))
        {
            query.Errors.Add("segment", $"must be one of: {string.Join(", ", WinBackRules.Segments)}.");
        }

        var now = clock.GetUtcNow();
        if (at > now)
        {
            query.Errors.Add("at", "must not be in the future.");
        }

        if (query.Errors.Any)
        {
            return Results.ValidationProblem(query.Errors.ToDictionary(), title: "Invalid request");
        }

        var model = modelId is { } m
            ? await ChurnModels.LoadAsync(session, m.ToString(), cancellation)
            : await ChurnModels.LatestAsync(session, cancellation);
        if (modelId is not null && model is null)
        {
            return ChurnModels.Unknown(modelText!);
        }

        var instant = at ?? now;
        var filter = new CandidateFilter(modelId, minValue, maxPAlive, segment);
        var facts = await WinBackFacts.LoadAsync(session, unreadable, cancellation);
        var running = await WinBackFacts.InRunningCampaignsAsync(session, instant, null, cancellation);
        var ranked = WinBackRules.Rank(facts.Select(f => WinBackRules.Assess(f, filter, channel, model, instant, running, churn.Value, options.Value, sla, now))
            .OfType<Candidate>());
        var excluded = ranked.Count(c => c.Exclusions.Count > 0);
        var listed = includeExcluded ? ranked : ranked.Where(c => c.Exclusions.Count == 0).ToList();
        var slice = listed.Skip((page - 1) * pageSize).Take(pageSize).ToList();
        var unreadableCount = ranked.Count(c => c.Exclusions.Contains(ExclusionReasons.Unreadable));
        return Results.Ok(new CandidatePage(instant, model?.ModelId, model is null ? null : ChurnModels.Converged(model), TouchpointCatalogue.NameOf(channel), listed.Count,
            excluded, unreadableCount, page, pageSize, slice));
    }

    private static double? Number(ReadQuery query, HttpRequest request, string name, double min, double max)
    {
        if (request.Query[name].ToString() is not { Length: > 0 } text)
        {
            return null;
        }

        if (double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) &&
            double.IsFinite(value) && value >= min && value <= max)
        {
            return value;
        }

        query.Errors.Add(name, max == double.MaxValue ? $"must be a number of at least {min}." : $"must be a number from {min} to {max}.");
        return null;
    }
}
