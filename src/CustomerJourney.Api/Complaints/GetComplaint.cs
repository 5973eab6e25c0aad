using System.Collections.Frozen;
using CustomerJourney.Access;
using CustomerJourney.Identity;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Marten;
using Marten.Services.BatchQuerying;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace CustomerJourney.Complaints;

/// <summary>
/// A case as staff see it: its state, and its promise clocks under a policy. <see cref="ProfileId"/> is the profile (the
/// person) its customer belonged to, by <see cref="AsOf"/>.
/// </summary>
public sealed record ComplaintView(ComplaintCase Case, string ProfileId, DateTimeOffset? AsOf, string Policy, IReadOnlyList<PromiseClock> Promises);

public sealed record ComplaintPage(int Total, int Page, int PageSize, IReadOnlyList<ComplaintCase> Cases);

/// <summary>The clocks of a case recomputed under a policy, beside the breaches the case actually recorded.</summary>
public sealed record SlaRecomputation(string ComplaintId, string Policy, string Clock, DateTimeOffset At, IReadOnlyList<PromiseClock> Promises,
    IReadOnlyList<RecordedBreach> RecordedBreaches);

public static class ComplaintReadEndpoints
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    public static readonly FrozenDictionary<string, ComplaintStatus> Statuses = Enum.GetValues<ComplaintStatus>()
        .ToFrozenDictionary(ComplaintDecisions.Name, StringComparer.Ordinal);

    public static readonly FrozenDictionary<string, ComplaintSeverity> Severities = Enum.GetValues<ComplaintSeverity>()
        .ToFrozenDictionary(s => s.ToString().ToLowerInvariant(), StringComparer.Ordinal);

    /// <summary>The case now (with its ETag), or as it was known at ?asOf=.</summary>
    [WolverineGet("/api/complaints/{complaintId}")]
    [Authorize(Policy = Policies.ReadComplaints)]
    public static async Task<IResult> Get(string complaintId, HttpRequest request, IQuerySession session, SlaPolicies policies, TimeProvider clock,
        CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var asOf = query.Instant("asOf");
        if (Invalid(complaintId, query) is { } problem)
        {
            return problem;
        }

        var view = await ViewAsync(session, policies, clock, complaintId, cancellation, asOf);
        if (view is null)
        {
            return Unknown(complaintId, asOf);
        }

        if (asOf is null)
        {
            request.HttpContext.Response.Headers.ETag = ComplaintStepWriter.ETag(view.Case.Version);
        }

        return Results.Ok(view);
    }

    /// <summary>Cases across customers, newest first, for supervisors.</summary>
    [WolverineGet("/api/complaints")]
    [Authorize(Policy = Policies.ListComplaints)]
    public static async Task<IResult> List(HttpRequest request, IQuerySession session, CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var status = query.Choice("status", Statuses);
        var severity = query.Choice("severity", Severities);
        var category = query.Text("category");
        var breached = query.Bool("breached");
        var from = query.Instant("from");
        var to = query.Instant("to");
        var page = query.Integer("page", 1, 1, 100_000);
        var pageSize = query.Integer("pageSize", DefaultPageSize, 1, MaxPageSize);
        if (query.Errors.Any)
        {
            return Results.ValidationProblem(query.Errors.ToDictionary(), title: "Invalid request", detail: "See errors for each parameter.");
        }

        IQueryable<ComplaintCase> cases = session.Query<ComplaintCase>();
        if (status is { } s)
        {
            cases = cases.Where(c => c.Status == s);
        }

        if (severity is { } v)
        {
            cases = cases.Where(c => c.Severity == v);
        }

        if (category is not null)
        {
            cases = cases.Where(c => c.Category == category);
        }

        if (breached is { } b)
        {
            cases = b ? cases.Where(c => c.Breaches.Any()) : cases.Where(c => !c.Breaches.Any());
        }

        if (from is { } f)
        {
            cases = cases.Where(c => c.LoggedAt >= f);
        }

        if (to is { } t)
        {
            cases = cases.Where(c => c.LoggedAt < t);
        }

        var total = await cases.CountAsync(cancellation);
        var slice = await cases.OrderByDescending(c => c.LoggedAt).ThenBy(c => c.Id).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(cancellation);
        return Results.Ok(new ComplaintPage(total, page, pageSize, slice));
    }

    /// <summary>A customer's cases, newest first.</summary>
    [WolverineGet("/api/customers/{customerId}/complaints")]
    [Authorize(Policy = Policies.ReadComplaints)]
    public static async Task<IResult> ForCustomer(string customerId, HttpRequest request, IQuerySession session, CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var page = query.Integer("page", 1, 1, 100_000);
        var pageSize = query.Integer("pageSize", DefaultPageSize, 1, MaxPageSize);
        if (!TouchpointCatalogue.IdPattern().IsMatch(customerId))
        {
            query.Errors.Add("customerId", TouchpointCatalogue.IdHint);
        }

        if (query.Errors.Any)
        {
            return Results.ValidationProblem(query.Errors.ToDictionary(), title: "Invalid request", detail: "See errors for each parameter.");
        }

        var cases = session.Query<ComplaintCase>().Where(c => c.CustomerId == customerId);
        var total = await cases.CountAsync(cancellation);
        var slice = await cases.OrderByDescending(c => c.LoggedAt).ThenBy(c => c.Id).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(cancellation);
        return Results.Ok(new ComplaintPage(total, page, pageSize, slice));
    }

    /// <summary>
    /// The case's promise clocks recomputed under another policy ("what if the new promises had applied?"), from the
    /// case's events; the breaches it recorded stay as they are.
    /// </summary>
    [WolverineGet("/api/complaints/{complaintId}/sla")]
    [Authorize(Policy = Policies.ReadComplaints)]
    public static async Task<IResult> Sla(string complaintId, HttpRequest request, IQuerySession session, SlaPolicies policies, TimeProvider clock,
        CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var policy = query.Text("policy") ?? policies.Current;
        var asOf = query.Instant("asOf");
        if (!policies.Names.Contains(policy))
        {
            query.Errors.Add("policy", $"must be one of: {string.Join(", ", policies.Names.Order(StringComparer.Ordinal))}.");
        }

        if (Invalid(complaintId, query) is { } problem)
        {
            return problem;
        }

        var c = await LoadAsync(session, complaintId, asOf, cancellation);
        if (c is null || !policies.TryGet(policy, c.Severity, out var promises))
        {
            return Unknown(complaintId, asOf);
        }

        var at = asOf ?? clock.GetUtcNow();
        return Results.Ok(new SlaRecomputation(complaintId, policy, promises.ClockName, at, SlaClocks.Evaluate(c, promises, at), c.Breaches));
    }

    public static async Task<ComplaintView?> ViewAsync(IQuerySession session, SlaPolicies policies, TimeProvider clock, string complaintId,
        CancellationToken cancellation, DateTimeOffset? asOf = null)
    {
        var c = await LoadAsync(session, complaintId, asOf, cancellation);
        if (c is null)
        {
            return null;
        }

        var profile = await ProfileStreams.FindMembersAsync(session, c.CustomerId, asOf, cancellation);
        return new ComplaintView(c, profile?.Id ?? ProfileIds.HomeOf(c.CustomerId), asOf, policies.Current,
            SlaClocks.Evaluate(c, policies.For(c.Severity), asOf ?? clock.GetUtcNow()));
    }

    /// <summary>Now: the inline projection's document. As of an instant: folded from the events recorded by then.</summary>
    public static async Task<ComplaintCase?> LoadAsync(IQuerySession session, string complaintId, DateTimeOffset? asOf, CancellationToken cancellation) =>
        asOf is null
            ? await session.LoadAsync<ComplaintCase>(ComplaintCase.StreamKey(complaintId), cancellation)
            : await session.Events.AggregateStreamAsync<ComplaintCase>(ComplaintCase.StreamKey(complaintId), timestamp: asOf, token: cancellation);

    public static IResult? Invalid(string complaintId, ReadQuery query)
    {
        if (!TouchpointCatalogue.IdPattern().IsMatch(complaintId))
        {
            query.Errors.Add("complaintId", TouchpointCatalogue.IdHint);
        }

        return query.Errors.Any
            ? Results.ValidationProblem(query.Errors.ToDictionary(), title: "Invalid request", detail: "See errors for each parameter.")
            : null;
    }

    public static IResult Unknown(string complaintId, DateTimeOffset? asOf) => Results.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Unknown complaint",
        detail: asOf is null ? $"No complaint '{complaintId}' has been logged." : $"No complaint '{complaintId}' had been logged by {asOf:O}.");
}

/// <summary>What other slices read of a customer's complaint cases: their events, for journeys and churn flags.</summary>
public static class CustomerComplaints
{
    /// <summary>The events of every case of these customers (a profile's members), as recorded by <paramref name="asOf"/>.</summary>
    public static async Task<IReadOnlyList<JasperFx.Events.IEvent>> EventsAsync(IQuerySession session, IReadOnlyCollection<string> customerIds, DateTimeOffset? asOf,
        CancellationToken cancellation)
    {
        var ids = customerIds.ToArray();
        var keys = await session.Query<ComplaintCase>().Where(c => c.CustomerId.IsOneOf(ids)).Select(c => c.Id).ToListAsync(cancellation);
        return await EventsOfCasesAsync(session, keys, asOf, cancellation);
    }

    /// <summary>
    /// As <see cref="EventsAsync(IQuerySession, IReadOnlyCollection{string}, DateTimeOffset?, CancellationToken)"/>, its first
    /// read (which cases) queued on the caller's batch, so a read that needs more than the cases makes one round trip for all of it.
    /// </summary>
    public static Func<CancellationToken, Task<IReadOnlyList<JasperFx.Events.IEvent>>> Events(IBatchedQuery batch, IQuerySession session,
        IReadOnlyCollection<string> customerIds, DateTimeOffset? asOf)
    {
        var ids = customerIds.ToArray();
        var keys = batch.Query<ComplaintCase>().Where(c => c.CustomerId.IsOneOf(ids)).Select(c => c.Id).ToList();
        return async cancellation => await EventsOfCasesAsync(session, await keys, asOf, cancellation);
    }

    /// <summary>The cases' streams, in the order of their ids, read together (one round trip, not one per case).</summary>
    private static async Task<IReadOnlyList<JasperFx.Events.IEvent>> EventsOfCasesAsync(IQuerySession session, IReadOnlyList<string> keys, DateTimeOffset? asOf,
        CancellationToken cancellation)
    {
        if (keys.Count == 0)
        {
            return [];
        }

        var batch = session.CreateBatchQuery();
        var streams = keys.Order(StringComparer.Ordinal).Select(key => batch.Events.FetchStream(key, timestamp: asOf)).ToList();
        await batch.Execute(cancellation);
        var events = new List<JasperFx.Events.IEvent>();
        foreach (var stream in streams)
        {
            events.AddRange(await stream);
        }

        return events;
    }

    /// <summary>The cases of these customers (a profile's members) now, newest first.</summary>
    public static async Task<IReadOnlyList<ComplaintCase>> CasesAsync(IQuerySession session, IReadOnlyCollection<string> customerIds, CancellationToken cancellation)
    {
        var ids = customerIds.ToArray();
        return await session.Query<ComplaintCase>().Where(c => c.CustomerId.IsOneOf(ids)).OrderByDescending(c => c.LoggedAt).ThenBy(c => c.Id).ToListAsync(cancellation);
    }
}
