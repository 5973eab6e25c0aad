using System.Security.Claims;
using System.Text.Json;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace CustomerJourney.Access;

public sealed record CreatedApiKey(string Id, string Source, string Key, DateTimeOffset CreatedAt);

public sealed record ApiKeyView(string Id, string Source, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? RevokedAt, string? RevokedBy)
{
    public static ApiKeyView From(ApiKey key) => new(key.Id, key.Source, key.CreatedAt, key.CreatedBy, key.RevokedAt, key.RevokedBy);
}

public static class ManageApiKeysEndpoints
{
    /// <summary>Creates a key for one source system; the key is in this answer only, never again.</summary>
    [WolverinePost("/api/access/keys")]
    [Authorize(Policy = Policies.Administer)]
    public static async Task<IResult> Create(HttpRequest request, ClaimsPrincipal user, IDocumentSession session, TimeProvider clock, CancellationToken cancellation)
    {
        var errors = new FieldErrors();
        string? source = null;
        try
        {
            using var body = await FieldReader.ParseBodyAsync(request.Body, maxDepth: 4, cancellation);
            if (body.RootElement.ValueKind == JsonValueKind.Object)
            {
                var fields = new FieldReader(body.RootElement, "", errors);
                source = fields.Text("source", maxLength: 100, pattern: TouchpointCatalogue.IdPattern(), patternHint: TouchpointCatalogue.IdHint);
                if (source is not null && SourceOwnership.IsReservedForPeople(source))
                {
                    errors.Add("source", $"'{SourceOwnership.StaffSource}' is reserved for what people enter under their own names; name the source system instead.");
                }

                fields.RejectUndefined();
            }
            else
            {
                errors.Add("$", "must be a JSON object.");
            }
        }
        catch (JsonException e)
        {
            errors.Add("$", $"is not valid JSON: {e.Message}");
        }

        if (errors.Any || source is null)
        {
            return Results.ValidationProblem(errors.ToDictionary(), title: "Invalid key request");
        }

        var (key, stored) = ApiKeySecrets.Issue(source, AccessClaims.Actor(user), clock.GetUtcNow());
        // Wolverine commits the session after this method (AutoApplyTransactions).
        session.Store(stored);
        return Results.Created($"/api/access/keys/{stored.Id}", new CreatedApiKey(stored.Id, stored.Source, key, stored.CreatedAt));
    }

    [WolverineGet("/api/access/keys")]
    [Authorize(Policy = Policies.Administer)]
    public static async Task<IReadOnlyList<ApiKeyView>> List(IQuerySession session, CancellationToken cancellation) =>
        (await session.Query<ApiKey>().OrderBy(k => k.CreatedAt).ToListAsync(cancellation)).Select(ApiKeyView.From).ToList();

    /// <summary>Revokes a key; it stops working on this instance's next request, and on every other within <see cref="RecentLookups.Freshness"/>.</summary>
    [WolverineDelete("/api/access/keys/{id}")]
    [Authorize(Policy = Policies.Administer)]
    public static async Task<IResult> Revoke(string id, ClaimsPrincipal user, IDocumentSession session, TimeProvider clock, RecentLookups recent,
        CancellationToken cancellation)
    {
        var key = await session.LoadAsync<ApiKey>(id, cancellation);
        if (key is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown API key", detail: $"There is no API key '{id}'.");
        }

        if (!key.IsRevoked)
        {
            key.RevokedAt = clock.GetUtcNow();
            key.RevokedBy = AccessClaims.Actor(user);
            session.Store(key);
            // Committed here rather than after the handler, so this instance forgets the key only once the revocation is stored.
            await session.SaveChangesAsync(cancellation);
        }

        recent.Forget(ApiKeyAuthenticationHandler.Lookup, id);

        return Results.Ok(ApiKeyView.From(key));
    }
}
