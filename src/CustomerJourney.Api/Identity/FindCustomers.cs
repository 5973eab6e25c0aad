using System.Security.Claims;
using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace CustomerJourney.Identity;

/// <summary>A customer who holds the identifier asked for, and the profile they are in now.</summary>
public sealed record FoundCustomer(string CustomerId, string ProfileId);

public sealed record FoundCustomers(string IdentifierType, IReadOnlyList<FoundCustomer> Customers);

public static class FindCustomersEndpoint
{
    /// <summary>
    /// The customers holding an e-mail (?email=) or a phone number (?phone=), exactly, through the blind index: the value
    /// is normalised and keyed as identity resolution keys it, so nothing is ever compared in clear. Only roles that see
    /// personal data may ask, since the answer says whether a person's address is known.
    /// </summary>
    [WolverineGet("/api/customers")]
    [Authorize(Policy = Policies.ReadCustomers)]
    public static async Task<IResult> Get(HttpRequest request, ClaimsPrincipal reader, IQuerySession session, BlindIndex index, IdentityRules rules,
        CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var email = query.Text("email", maxLength: 320);
        var phone = query.Text("phone", maxLength: 64);
        if ((email is null) == (phone is null))
        {
            query.Errors.Add(email is null ? "email" : "phone", "give exactly one of email and phone.");
        }

        var (type, raw) = email is not null ? (IdentifierType.Email, email) : (IdentifierType.Phone, phone ?? "");
        var normalised = query.Errors.Any ? null : Identifiers.Normalise(type, raw, rules);
        if (!query.Errors.Any && normalised is null)
        {
            query.Errors.Add(type == IdentifierType.Email ? "email" : "phone",
                type == IdentifierType.Email ? "is not an e-mail address identity resolution matches." : "is not a phone number identity resolution matches.");
        }

        if (query.Errors.Any)
        {
            return Results.ValidationProblem(query.Errors.ToDictionary(), title: "Invalid request", detail: "See errors for each parameter.");
        }

        if (!Roles.MayReadPersonalData(reader))
        {
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Not allowed",
                detail: "Finding customers by e-mail or phone is for roles that see personal data; find them by customer id.");
        }

        return Results.Ok(new FoundCustomers(type == IdentifierType.Email ? "email" : "phone", await HoldersAsync(session, index.Of(type, normalised!), cancellation)));
    }

    /// <summary>The customers whose touchpoints carried the identifier, each with their current profile.</summary>
    public static async Task<IReadOnlyList<FoundCustomer>> HoldersAsync(IQuerySession session, Identifier identifier, CancellationToken cancellation)
    {
        var key = IdentifierHolder.KeyOf(identifier);
        var holders = await session.Query<IdentifierHolder>().Where(h => h.Key == key).Select(h => h.CustomerId).ToListAsync(cancellation);
        var profiles = await MergeProfilesEndpoint.CurrentProfilesAsync(session, [.. holders], cancellation);
        return [.. profiles.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new FoundCustomer(p.Key, p.Value))];
    }
}
