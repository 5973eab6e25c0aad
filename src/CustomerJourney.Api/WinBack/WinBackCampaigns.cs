using System.Security.Claims;
using System.Text.Json;
using CustomerJourney.Access;
using CustomerJourney.Churn;
using CustomerJourney.Complaints;
using CustomerJourney.Identity;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Marten;
using Marten.Events;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Wolverine;
using Wolverine.Http;
using Wolverine.Marten;

namespace CustomerJourney.WinBack;

/// <summary>Select the campaign's audience and send its offers (now, or when a scheduled launch falls due).</summary>
public sealed record LaunchWinBackCampaign(string CampaignId);

/// <summary>A campaign, its outcome, and whether the fit it selects with converged (false: its scores are not to be trusted).</summary>
public sealed record CampaignView(WinBackCampaign Campaign, DateTimeOffset? AsOf, CampaignOutcome? Outcome, bool? Converged = null);

/// <summary>One line of the campaign list.</summary>
public sealed record CampaignSummary(string CampaignId, string Name, CampaignStatus Status, DateTimeOffset? At, DateTimeOffset LaunchAt, Channel Channel, WinBackOffer Offer,
    int Members, int Treatment, int Control);

public static class WinBackCampaignEndpoints
{
    private static readonly IReadOnlyDictionary<string, OfferKind> OfferKinds = new Dictionary<string, OfferKind>(StringComparer.Ordinal)
    {
        ["discount-percent"] = OfferKind.DiscountPercent,
        ["discount-amount"] = OfferKind.DiscountAmount,
        ["goodwill-credit"] = OfferKind.GoodwillCredit,
        ["free-shipping"] = OfferKind.FreeShipping,
    };

    private static readonly IReadOnlyDictionary<string, Channel> Channels = new Dictionary<string, Channel>(StringComparer.Ordinal)
    {
        ["email"] = Channel.Email,
        ["app"] = Channel.App,
        ["phone"] = Channel.Phone,
    };

    public const long MaxBodyBytes = 64 * 1024;

    /// <summary>
    /// Plans a campaign and queues its launch in the same transaction: 201 with its Location; 200 when the
    /// Idempotency-Key repeats one already planned.
    /// </summary>
    [WolverinePost("/api/winback/campaigns")]
    [Authorize(Policy = Policies.RunWinBack)]
    public static async Task<IResult> Plan(HttpRequest request, ClaimsPrincipal marketer, IDocumentStore store, IMartenOutbox outbox, TimeProvider clock,
        IOptions<WinBackOptions> options, CancellationToken cancellation)
    {
        var read = await ReadPlanAsync(request, marketer, clock.GetUtcNow(), options.Value, cancellation);
        if (read.Problem is { } invalid)
        {
            return invalid;
        }

        var campaignId = read.Planned!.CampaignId;
        await using var session = store.LightweightSession();
        if (await session.LoadAsync<WinBackCampaign>(WinBackCampaign.StreamKey(campaignId), cancellation) is { } existing)
        {
            return Results.Ok(new CampaignView(existing, null, null));
        }

        var (planned, model, refused) = await PinModelAsync(session, read.Planned, cancellation);
        if (refused is not null)
        {
            return refused;
        }

        session.LastModifiedBy = planned.PlannedBy;
        outbox.Enroll(session);
        session.Events.StartStream(WinBackCampaign.StreamKey(campaignId), planned);
        await outbox.ScheduleAsync(new LaunchWinBackCampaign(campaignId), planned.LaunchAt);
        await session.SaveChangesAsync(cancellation);
        return Results.Created($"/api/winback/campaigns/{campaignId}", new CampaignView(WinBackCampaign.Fold(null, planned)!, null, null, model is null ? null : ChurnModels.Converged(model)));
    }

    /// <summary>
    /// The plan a request's body describes (shape validation included), or the problem to answer: what planning and the
    /// preview both read, so a preview describes exactly the campaign the same body would plan.
    /// </summary>
    public static async Task<(WinBackCampaignPlanned? Planned, IResult? Problem)> ReadPlanAsync(HttpRequest request, ClaimsPrincipal marketer, DateTimeOffset now,
        WinBackOptions options, CancellationToken cancellation)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return (null, Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request too large", detail: $"A campaign is at most {MaxBodyBytes} bytes."));
        }

        var errors = new FieldErrors();
        WinBackCampaignPlanned? planned = null;
        var campaignId = NewCampaignId(request, marketer);
        try
        {
            using var body = await FieldReader.ParseBodyAsync(request.Body, maxDepth: 8, cancellation);
            planned = body.RootElement.ValueKind == JsonValueKind.Object
                ? Read(new FieldReader(body.RootElement, "", errors), campaignId, AccessClaims.Actor(marketer), now, options)
                : null;
            if (body.RootElement.ValueKind != JsonValueKind.Object)
            {
                errors.Add("$", "must be a JSON object.");
            }
        }
        catch (JsonException e)
        {
            errors.Add("$", $"is not valid JSON: {e.Message}");
        }

        return planned is null || errors.Any ? (null, Results.ValidationProblem(errors.ToDictionary(), title: "Invalid campaign")) : (planned, null);
    }

    /// <summary>
    /// Pins the fit the campaign will select with (the one named, else the latest), so the launch uses the one checked
    /// here; a named fit that does not exist, or one that did not converge unless the plan allows it, is refused.
    /// </summary>
    public static async Task<(WinBackCampaignPlanned Planned, ChurnModel? Model, IResult? Problem)> PinModelAsync(IQuerySession session, WinBackCampaignPlanned planned,
        CancellationToken cancellation)
    {
        var model = planned.Filter.ModelId is { } modelId
            ? await ChurnModels.LoadAsync(session, modelId.ToString(), cancellation)
            : await ChurnModels.LatestAsync(session, cancellation);
        if (planned.Filter.ModelId is not null && model is null)
        {
            return (planned, null, ChurnModels.Unknown(planned.Filter.ModelId.Value.ToString()));
        }

        if (model is not null && !ChurnModels.Converged(model) && !planned.AllowUnconvergedModel)
        {
            return (planned, model, Results.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Model did not converge",
                detail: $"The churn model {model.ModelId} did not converge, so its scores are not to be trusted. Fit again, or plan with \"allowUnconvergedModel\": true.",
                extensions: new Dictionary<string, object?> { ["rule"] = "model-not-converged", ["model"] = model.ModelId }));
        }

        return (planned with { Filter = planned.Filter with { ModelId = model?.ModelId } }, model, null);
    }

    /// <summary>A campaign with its outcome per group and the uplift; ?asOf= shows it as it stood at a record-time instant.</summary>
    [WolverineGet("/api/winback/campaigns/{campaignId}")]
    [Authorize(Policy = Policies.ReadWinBack)]
    public static async Task<IResult> Get(string campaignId, HttpRequest request, IQuerySession session, IOptions<WinBackOptions> options, CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var asOf = query.Instant("asOf");
        if (!TouchpointCatalogue.IdPattern().IsMatch(campaignId))
        {
            query.Errors.Add("campaignId", TouchpointCatalogue.IdHint);
        }

        if (query.Errors.Any)
        {
            return Results.ValidationProblem(query.Errors.ToDictionary(), title: "Invalid request");
        }

        var key = WinBackCampaign.StreamKey(campaignId);
        var campaign = asOf is null
            ? await session.LoadAsync<WinBackCampaign>(key, cancellation)
            : (await session.Events.FetchStreamAsync(key, timestamp: asOf, token: cancellation)).Aggregate((WinBackCampaign?)null, (s, e) => WinBackCampaign.Fold(s, e.Data));
        if (campaign is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown campaign",
                detail: $"There is no win-back campaign '{campaignId}'" + (asOf is null ? "." : $" as of {asOf:O}."));
        }

        var fit = (campaign.ModelId ?? campaign.Filter.ModelId) is { } fitId ? await ChurnModels.LoadAsync(session, fitId.ToString(), cancellation) : null;
        bool? converged = fit is null ? null : ChurnModels.Converged(fit);
        if (campaign.Status != CampaignStatus.Launched)
        {
            return Results.Ok(new CampaignView(campaign, asOf, null, converged));
        }

        var personOf = await PeopleAsync(session, campaign, cancellation);
        var members = personOf.Keys.ToArray();
        var events = session.Events.QueryAllRawEvents().Where(e => e.StreamKey!.IsOneOf(members));
        if (asOf is { } recordedBy)
        {
            events = events.Where(e => e.Timestamp <= recordedBy);
        }

        var raw = await events
            .Where(e => e.EventTypesAre(typeof(WinBackOfferSent), typeof(WinBackOfferSuppressed), typeof(WinBackOfferUndeliverable), typeof(WinBackOfferDelivered),
                typeof(WinBackOfferRedeemed), typeof(CustomerReactivated), typeof(PurchaseMade)))
            .OrderBy(e => e.Sequence)
            .ToListAsync(cancellation);
        var window = campaign.Window!.Value;
        var outcomes = raw.Select(e => e.Data).OfType<Touchpoint>().Where(t => WinBackRules.CampaignOf(t) == campaignId).ToList();
        var purchases = raw.Select(e => e.Data).OfType<PurchaseMade>().Where(p => p.OccurredAt > window.From && p.OccurredAt <= window.To)
            .Select(p => new MemberPurchase(p.CustomerId, p.Amount, p.Currency, p.OccurredAt)).ToList();
        return Results.Ok(new CampaignView(campaign, asOf, WinBackReport.Measure(campaign, outcomes, purchases, options.Value.ShippingCost, personOf), converged));
    }

    /// <summary>
    /// Which audience member each customer counts for: the audience members themselves, the members their profiles had at
    /// selection, and the members they have now (an offer goes to the member holding the address, and a purchase by any
    /// member counts, also one merged in after the launch).
    /// </summary>
    private static async Task<IReadOnlyDictionary<string, string>> PeopleAsync(IQuerySession session, WinBackCampaign campaign, CancellationToken cancellation)
    {
        var now = await ProfileGraph.MembersNowAsync(session, campaign.Members.Select(m => m.CustomerId), cancellation);
        var personOf = campaign.Members.ToDictionary(m => m.CustomerId, m => m.CustomerId, StringComparer.Ordinal);
        foreach (var member in campaign.Members)
        {
            foreach (var customer in member.People().Concat(now[member.CustomerId].Members))
            {
                personOf.TryAdd(customer, member.CustomerId);
            }
        }

        return personOf;
    }

    /// <summary>Campaigns, newest first.</summary>
    [WolverineGet("/api/winback/campaigns")]
    [Authorize(Policy = Policies.ReadWinBack)]
    public static async Task<IResult> List(IQuerySession session, CancellationToken cancellation)
    {
        var campaigns = await session.Query<WinBackCampaign>().OrderByDescending(c => c.LaunchAt).ToListAsync(cancellation);
        return Results.Ok(campaigns.Select(c => new CampaignSummary(c.CampaignId, c.Name, c.Status, c.At, c.LaunchAt, c.Channel, c.Offer, c.Members.Count,
            c.Members.Count(m => m.Group == AudienceGroup.Treatment), c.Members.Count(m => m.Group == AudienceGroup.Control))).ToList());
    }

    private static WinBackCampaignPlanned? Read(FieldReader fields, string campaignId, string plannedBy, DateTimeOffset now, WinBackOptions options)
    {
        var name = fields.Text("name", maxLength: 200);
        var filterFields = fields.Object("filter", required: false);
        var filter = filterFields is null ? new CandidateFilter(null, null, null, null) : ReadFilter(filterFields);
        var offerFields = fields.Object("offer");
        WinBackOffer? offer = null;
        if (offerFields is not null)
        {
            var kind = offerFields.Choice("kind", OfferKinds);
            var value = offerFields.Amount("value", required: kind != OfferKind.FreeShipping) ?? 0m;
            var currency = offerFields.Currency("currency", required: false) ?? "USD";
            var validDays = offerFields.Integer("validDays", 1, 365, required: false) ?? 30;
            offerFields.RejectUndefined();
            if (kind == OfferKind.DiscountPercent && value is <= 0 or > 100)
            {
                fields.Errors.Add("offer.value", "a discount percent must be more than 0 and at most 100.");
            }
            else if (kind is OfferKind.DiscountAmount or OfferKind.GoodwillCredit && value <= 0)
            {
                fields.Errors.Add("offer.value", "must be more than 0.");
            }

            offer = kind is { } k ? new WinBackOffer(k, value, currency, validDays) : null;
        }

        var channel = fields.Choice("channel", Channels);
        var controlShare = fields.Number("controlShare", 0, 0.5, required: false) ?? options.DefaultControlShare;
        var seed = fields.Integer("seed", int.MinValue, int.MaxValue, required: false) ?? StableSeed(campaignId);
        var at = fields.Instant("at", required: false);
        var launchAt = fields.Instant("launchAt", required: false);
        var allowUnconverged = fields.Bool("allowUnconvergedModel", required: false) ?? false;
        fields.RejectUndefined();
        if (at is { } instant && instant > now)
        {
            fields.Errors.Add("at", "must not be in the future: a campaign run at an instant replays what was known then; use launchAt to launch later.");
        }

        if (at is not null && launchAt is not null)
        {
            fields.Errors.Add("launchAt", "cannot be combined with at.");
        }

        return name is null || offer is null || channel is null || fields.Errors.Any
            ? null
            : new WinBackCampaignPlanned(campaignId, name, filter, offer, channel.Value, controlShare, seed, at, launchAt is { } l && l > now ? l : now, plannedBy,
                allowUnconverged);
    }

    private static CandidateFilter ReadFilter(FieldReader fields)
    {
        var model = fields.Text("model", required: false, maxLength: 40);
        Guid? modelId = null;
        if (model is not null)
        {
            if (Guid.TryParse(model, out var id))
            {
                modelId = id;
            }
            else
            {
                fields.Errors.Add(fields.PathOf("model"), "must be the id of a fitted churn model (GET /api/churn/models).");
            }
        }

        var minValue = fields.Number("minValue", 0, double.MaxValue, required: false);
        var maxPAlive = fields.Number("maxPAlive", 0, 1, required: false);
        var segment = fields.Text("segment", required: false, maxLength: 40);
        if (segment is not null && !WinBackRules.Segments.Contains(segment))
        {
            fields.Errors.Add(fields.PathOf("segment"), $"must be one of: {string.Join(", ", WinBackRules.Segments)}.");
        }

        fields.RejectUndefined();
        return new CandidateFilter(modelId, minValue, maxPAlive, segment);
    }

    /// <summary>A retry with the same Idempotency-Key must name the same campaign, so the id derives from the key when there is one.</summary>
    private static string NewCampaignId(HttpRequest request, ClaimsPrincipal caller) =>
        request.Headers["Idempotency-Key"] is { Count: 1 } key
            ? "wb-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
                System.Text.Encoding.UTF8.GetBytes($"{AccessClaims.Actor(caller)}\n{key[0]}")))[..32]
            : "wb-" + Guid.CreateVersion7().ToString("N");

    private static int StableSeed(string campaignId) =>
        BitConverter.ToInt32(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(campaignId)), 0);
}

public static class LaunchWinBackCampaignHandler
{
    public const string Actor = "system:winback";

    /// <summary>
    /// Selects the audience at the campaign's instant, records it on the campaign's stream and queues one send per treated
    /// customer in the same transaction. A launch delivered twice finds the audience recorded and does nothing.
    /// </summary>
    public static async Task Handle(LaunchWinBackCampaign command, IDocumentSession session, IMessageContext context, TimeProvider clock,
        IOptions<ChurnOptions> churn, IOptions<WinBackOptions> options, SlaPolicies sla, UnreadableStreams unreadable, ILogger<LaunchWinBackCampaign> logger,
        CancellationToken cancellation)
    {
        var stream = await session.Events.FetchForWriting<WinBackCampaign>(WinBackCampaign.StreamKey(command.CampaignId), cancellation);
        if (stream.Aggregate is not { Status: CampaignStatus.Planned } campaign)
        {
            return;
        }

        var now = clock.GetUtcNow();
        var (at, model, members, excluded) = await SelectAudienceAsync(session, campaign, now, churn.Value, options.Value, sla, unreadable, cancellation);

        session.LastModifiedBy = Actor;
        stream.AppendOne(new WinBackAudienceSelected(campaign.CampaignId, at, model?.ModelId, members, excluded, now));
        foreach (var member in members.Where(m => m.Group == AudienceGroup.Treatment))
        {
            await context.PublishAsync(new SendWinBackOffer(campaign.CampaignId, member.CustomerId));
        }

        // Control members are measured too, and a campaign run at a past instant already has purchases in its window.
        foreach (var chunk in members.Where(m => m.Group == AudienceGroup.Control).Select(m => m.CustomerId).Chunk(500))
        {
            await context.PublishAsync(new AttributeWinBackPurchases(chunk));
        }

        logger.LogInformation("Win-back campaign {Campaign} selected {Members} people ({Treated} treated) at {At}; {Excluded} excluded",
            campaign.CampaignId, members.Count, members.Count(m => m.Group == AudienceGroup.Treatment), at, excluded.Count);
    }

    /// <summary>
    /// The audience a campaign selects when launched at <paramref name="now"/>: every person assessed at the campaign's
    /// instant with its pinned fit, the eligible ones ranked and split by its seed. The launch records it; the preview
    /// answers its sizes, so what is previewed is what a launch on the same data selects.
    /// </summary>
    public static async Task<(DateTimeOffset At, ChurnModel? Model, IReadOnlyList<AudienceMember> Members, IReadOnlyList<ExcludedCustomer> Excluded)> SelectAudienceAsync(
        IQuerySession session, WinBackCampaign campaign, DateTimeOffset now, ChurnOptions churn, WinBackOptions options, SlaPolicies sla, UnreadableStreams unreadable,
        CancellationToken cancellation)
    {
        var at = campaign.At ?? now;
        var model = campaign.Filter.ModelId is { } id
            ? await ChurnModels.LoadAsync(session, id.ToString(), cancellation)
            : await ChurnModels.LatestAsync(session, cancellation);
        var facts = await WinBackFacts.LoadAsync(session, unreadable, cancellation);
        var running = await WinBackFacts.InRunningCampaignsAsync(session, at, campaign.CampaignId, cancellation);
        var ranked = WinBackRules.Rank(facts.Select(f => WinBackRules.Assess(f, campaign.Filter, campaign.Channel, model, at, running, churn, options, sla, now))
            .OfType<Candidate>());
        var (members, excluded) = WinBackRules.Audience(campaign.CampaignId, ranked, campaign.ControlShare, campaign.Seed);
        return (at, model, members, excluded);
    }
}
