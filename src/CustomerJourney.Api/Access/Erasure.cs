using System.Security.Claims;
using System.Text.Json;
using CustomerJourney.Identity;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Npgsql;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;
using Wolverine.Http;

namespace CustomerJourney.Access;

/// <summary>A customer's personal data was made unreadable at their request. It holds no personal data itself.</summary>
public sealed record CustomerErased(string CustomerId, DateTimeOffset ErasedAt, string ErasedBy);

/// <summary>Erase a customer and every member of their profile: <see cref="Members"/> names them (all of them; optional for a customer alone in their profile).</summary>
public sealed record EraseCustomer(IReadOnlyList<string>? Members);

/// <summary>What an erasure did: the customer's profile ("pf~" and their id when alone, as the reads say) and every member erased with them.</summary>
public sealed record ErasureResult(string CustomerId, string ProfileId, IReadOnlyList<string> Members, DateTimeOffset ErasedAt, string ErasedBy, bool AlreadyErased);

/// <summary>
/// The register of erased customers, beside the event store: the ledger reads it in the same transaction
/// as every append, so no touchpoint is ever appended for an erased customer.
/// </summary>
public static class ErasedCustomers
{
    public const string TableName = "cj_erased_customers";

    public static Table DefineTable(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, TableName, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<string>("customer_id").AsPrimaryKey();
        table.AddColumn("erased_at", "timestamp with time zone").NotNull();
        table.AddColumn<string>("erased_by").NotNull();
        return table;
    }

    public static async Task<(DateTimeOffset ErasedAt, string ErasedBy)?> FindAsync(IQuerySession session, string customerId, CancellationToken cancellation)
    {
        var schema = session.DocumentStore.Options.Events.DatabaseSchemaName;
        await using var read = new NpgsqlCommand($"select erased_at, erased_by from {schema}.{TableName} where customer_id = $1", session.Connection)
        {
            Parameters = { new() { Value = customerId } },
        };
        await using var reader = await read.ExecuteReaderAsync(cancellation);
        return await reader.ReadAsync(cancellation) ? (reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1)) : null;
    }

    /// <summary>
    /// Registers the customers as erased and appends <see cref="CustomerErased"/> to the stream of each one not registered
    /// before, in the session's transaction; answers when and by whom <paramref name="customerId"/> was erased (the first
    /// erasure, should a concurrent one have committed first) and whether this one registered them.
    /// </summary>
    public static async Task<(DateTimeOffset ErasedAt, string ErasedBy, bool Inserted)> RegisterAsync(IDocumentSession session, string schema,
        IReadOnlyList<string> customerIds, string customerId, string erasedBy, DateTimeOffset erasedAt, CancellationToken cancellation)
    {
        await using var register = new NpgsqlCommand(
            $"""
             insert into {schema}.{TableName} (customer_id, erased_at, erased_by) select c, $2, $3 from unnest($1::text[]) as c
             on conflict (customer_id) do nothing
             returning customer_id
             """,
            session.Connection)
        {
            Parameters = { new() { Value = customerIds.ToArray() }, new() { Value = erasedAt }, new() { Value = erasedBy } },
        };
        var inserted = new List<string>();
        await using (var reader = await register.ExecuteReaderAsync(cancellation))
        {
            while (await reader.ReadAsync(cancellation))
            {
                inserted.Add(reader.GetString(0));
            }
        }

        session.LastModifiedBy = erasedBy;
        foreach (var id in inserted)
        {
            session.Events.Append(id, new CustomerErased(id, erasedAt, erasedBy));
        }

        // A separate statement, so it also sees an erasure that a concurrent request committed while this one waited.
        var (at, by) = (await FindAsync(session, customerId, cancellation))!.Value;
        return (at, by, inserted.Contains(customerId, StringComparer.Ordinal));
    }
}

public static class EraseCustomerEndpoint
{
    private const int MaxMembers = 1000;

    /// <summary>
    /// Forgets a customer and every member of their profile as it is now: destroys their personal-data keys
    /// (crypto-shredding), registers them as erased so no new touchpoint is accepted, records <see cref="CustomerErased"/>
    /// for each and <see cref="ProfileErased"/> on the profile, whose identifiers leave the blind index. The body names
    /// the members (<see cref="EraseCustomer"/>); a membership that differs answers 409 with the current members and
    /// erases nothing. The decision holds the profile's lock (<see cref="ProfileWriter"/>), so a merge or split of the
    /// same profile waits for it or comes first. Repeating it changes nothing.
    /// </summary>
    [WolverinePost("/api/customers/{customerId}/erasure")]
    [Authorize(Policy = Policies.Administer)]
    public static async Task<IResult> Post(string customerId, HttpRequest request, ClaimsPrincipal user, IDocumentStore store, IPersonalDataKeyStore keys,
        ProfileWriter writer, TimeProvider clock, CancellationToken cancellation)
    {
        var errors = new Dictionary<string, string[]>();
        if (!TouchpointCatalogue.IdPattern().IsMatch(customerId))
        {
            errors["customerId"] = [TouchpointCatalogue.IdHint];
        }

        var command = await ReadAsync(request, errors, cancellation);
        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors, title: "Invalid request");
        }

        await using (var query = store.QuerySession())
        {
            if (await query.Events.FetchStreamStateAsync(customerId, cancellation) is null &&
                !await query.Query<Complaints.ComplaintCase>().AnyAsync(c => c.CustomerId == customerId, cancellation))
            {
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown customer",
                    detail: $"No touchpoint has been recorded for customer '{customerId}'.");
            }

            // The register and ProfileErased commit together, so a registered customer's profile is erased already.
            if (await ErasedCustomers.FindAsync(query, customerId, cancellation) is { } done)
            {
                var profile = await ProfileStreams.FindMembersAsync(query, customerId, null, cancellation);
                IReadOnlyList<string> erased = profile is null ? [customerId] : [.. profile.Members.Select(m => m.CustomerId)];
                return Results.Ok(new ErasureResult(customerId, profile?.Id ?? ProfileIds.HomeOf(customerId), erased, done.ErasedAt, done.ErasedBy, AlreadyErased: true));
            }
        }

        var erasedBy = AccessClaims.Actor(user);
        var now = clock.GetUtcNow();
        var profileId = ProfileIds.HomeOf(customerId);
        IReadOnlyList<string> members = [customerId];
        (DateTimeOffset ErasedAt, string ErasedBy, bool Inserted)? registered = null;
        await writer.DecideAsync(erasedBy, async (session, token) =>
        {
            var current = (await MergeProfilesEndpoint.CurrentProfilesAsync(session, [customerId], token))[customerId];
            return new ProfilePlan([current], profiles =>
            {
                var profile = profiles.GetValueOrDefault(current);
                var (erasing, decided) = IdentityResolution.Erase(profile, customerId, command?.Members, erasedBy, now);
                (profileId, members) = (profile?.Id ?? ProfileIds.HomeOf(customerId), erasing);
                return decided;
            });
        }, async (session, _, token) =>
        {
            // Still holding the profile's lock, before the commit: if anything after fails, the data is already unreadable
            // and a retry (the membership unchanged, since the lookups go only with this commit) completes the rest.
            foreach (var member in members)
            {
                await keys.DestroyKeyAsync(member, token);
            }

            registered = await ErasedCustomers.RegisterAsync(session, store.Options.Events.DatabaseSchemaName, members, customerId, erasedBy, now, token);
        }, cancellation);

        var (erasedAt, firstErasedBy, inserted) = registered ?? throw new InvalidOperationException("The erasure committed without registering the customer.");
        return Results.Ok(new ErasureResult(customerId, profileId, members, erasedAt, firstErasedBy, !inserted));
    }

    /// <summary>
    /// The optional JSON body (read here rather than bound by Wolverine, which requires a body: a customer alone in their
    /// profile is still erased with none, as before profiles); a malformed one is a 400 naming "members".
    /// </summary>
    private static async Task<EraseCustomer?> ReadAsync(HttpRequest request, Dictionary<string, string[]> errors, CancellationToken cancellation)
    {
        if (request.ContentLength == 0 || !request.HasJsonContentType())
        {
            return null;
        }

        EraseCustomer? command;
        try
        {
            command = await request.ReadFromJsonAsync<EraseCustomer>(cancellation);
        }
        catch (JsonException)
        {
            errors["members"] = ["must be a JSON object { \"members\": [customer ids] }."];
            return null;
        }

        if (command?.Members is not { } named)
        {
            return command;
        }

        if (named.Count is 0 or > MaxMembers)
        {
            errors["members"] = [$"must name between 1 and {MaxMembers} customer ids: every member of the customer's profile."];
        }

        for (var i = 0; i < Math.Min(named.Count, MaxMembers); i++)
        {
            if (named[i] is null || !TouchpointCatalogue.IdPattern().IsMatch(named[i]))
            {
                errors[$"members[{i}]"] = [TouchpointCatalogue.IdHint];
            }
        }

        return command;
    }
}
