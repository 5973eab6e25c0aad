using CustomerJourney.Access;
using CustomerJourney.Identity;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace CustomerJourney.Churn;

/// <summary>A flagged person: <see cref="CustomerId"/> is their profile's founder, on whose stream the profile's flags are recorded.</summary>
public sealed record FlaggedCustomer(string CustomerId, string ProfileId, double ValueAtRisk, Guid? ModelId, IReadOnlyList<CurrentFlag> Flags);

public sealed record FlaggedPage(int Total, int Page, int PageSize, IReadOnlyList<FlaggedCustomer> Customers);

/// <summary>The flags of the person the customer is (their profile, by <see cref="AsOf"/>).</summary>
public sealed record CustomerFlags(string CustomerId, string ProfileId, DateTimeOffset? AsOf, IReadOnlyList<CurrentFlag> Flags);

public static class GetChurnFlagsEndpoints
{
    /// <summary>Flagged customers ranked by expected value at risk; ?reason= and ?minValue= narrow the list.</summary>
    [WolverineGet("/api/churn/flags")]
    [Authorize(Policy = Policies.ReadChurn)]
    public static async Task<IResult> List(HttpRequest request, IQuerySession session, CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var page = query.Integer("page", 1, 1, int.MaxValue);
        var pageSize = query.Integer("pageSize", 50, 1, 500);
        var reason = request.Query["reason"].ToString() is { Length: > 0 } r ? r : null;
        var minValue = request.Query["minValue"].ToString() is { Length: > 0 } m ? m : null;
        if (reason is not null && !FlagReasons.All.Contains(reason))
        {
            query.Errors.Add("reason", $"must be one of: {string.Join(", ", FlagReasons.All)}.");
        }

        double min = 0;
        if (minValue is not null && (!double.TryParse(minValue, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out min) || min < 0))
        {
            query.Errors.Add("minValue", "must be a non-negative number.");
        }

        if (query.Errors.Any)
        {
            return Results.ValidationProblem(query.Errors.ToDictionary(), title: "Invalid request");
        }

        var flagged = await session.Query<ChurnFlagsView>().Where(v => v.FlagCount > 0 && v.ValueAtRisk >= min)
            .OrderByDescending(v => v.ValueAtRisk).ThenBy(v => v.Id).ToListAsync(cancellation);
        var matching = flagged.Where(v => reason is null || v.Flags.Any(f => f.Reason == reason)).ToList();
        var slice = matching.Skip((int)Math.Min((long)(page - 1) * pageSize, int.MaxValue)).Take(pageSize)
            .Select(v => new FlaggedCustomer(v.Id, ProfileIds.HomeOf(v.Id), v.ValueAtRisk, v.ModelId, v.Flags)).ToList();
        return Results.Ok(new FlaggedPage(matching.Count, page, pageSize, slice));
    }

    /// <summary>The flags of the customer's person now, or as they stood at a record-time instant (?asOf=): recorded on their profile's founder's stream.</summary>
    [WolverineGet("/api/customers/{customerId}/churn/flags")]
    [Authorize(Policy = Policies.ReadChurn)]
    public static async Task<IResult> ForCustomer(string customerId, HttpRequest request, IQuerySession session, CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var asOf = query.Instant("asOf");
        if (!TouchpointCatalogue.IdPattern().IsMatch(customerId))
        {
            query.Errors.Add("customerId", TouchpointCatalogue.IdHint);
        }

        if (query.Errors.Any)
        {
            return Results.ValidationProblem(query.Errors.ToDictionary(), title: "Invalid request");
        }

        var events = await session.Events.FetchStreamAsync(customerId, timestamp: asOf, token: cancellation);
        if (events.Count == 0)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown customer",
                detail: $"No touchpoint for customer '{customerId}' had been recorded" + (asOf is null ? "." : $" by {asOf:O}."));
        }

        var profile = await ProfileStreams.FindMembersAsync(session, customerId, asOf, cancellation);
        var profileId = profile?.Id ?? ProfileIds.HomeOf(customerId);
        var founder = ProfileIds.FounderOf(profileId);
        var flagged = founder == customerId ? events : await session.Events.FetchStreamAsync(founder, timestamp: asOf, token: cancellation);
        var view = ChurnFlagsView.Of(founder, flagged.Select(e => e.Data));
        return Results.Ok(new CustomerFlags(customerId, profileId, asOf, view.Flags));
    }
}
