using System.Security.Claims;
using CustomerJourney.Infrastructure;
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

public sealed record ErasureResult(string CustomerId, DateTimeOffset ErasedAt, string ErasedBy, bool AlreadyErased);

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
}

public static class EraseCustomerEndpoint
{
    /// <summary>
    /// Forgets a customer: destroys their personal-data key (crypto-shredding), registers them as erased so no
    /// new touchpoint is accepted, and records <see cref="CustomerErased"/>. Repeating it changes nothing.
    /// </summary>
    [WolverinePost("/api/customers/{customerId}/erasure")]
    [Authorize(Policy = Policies.Administer)]
    public static async Task<IResult> Post(string customerId, ClaimsPrincipal user, IDocumentStore store, IPersonalDataKeyStore keys,
        TimeProvider clock, ILoggerFactory logs, CancellationToken cancellation)
    {
        if (!TouchpointCatalogue.IdPattern().IsMatch(customerId))
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["customerId"] = [TouchpointCatalogue.IdHint] }, title: "Invalid request");
        }

        await using var session = store.LightweightSession();
        if (await session.Events.FetchStreamStateAsync(customerId, cancellation) is null &&
            !await session.Query<Complaints.ComplaintCase>().AnyAsync(c => c.CustomerId == customerId, cancellation))
        {
            return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown customer",
                detail: $"No touchpoint has been recorded for customer '{customerId}'.");
        }

        // The key goes first: if anything below fails, the data is already unreadable and a retry completes the rest.
        await keys.DestroyKeyAsync(customerId, cancellation);

        var erasure = new CustomerErased(customerId, clock.GetUtcNow(), AccessClaims.Actor(user));
        var (erasedAt, erasedBy, inserted) = await TransientConflicts.RetryAsync(
            () => RegisterAsync(store, erasure, cancellation), logs.CreateLogger(typeof(EraseCustomerEndpoint)), "Erasure", cancellation);
        return Results.Ok(new ErasureResult(customerId, erasedAt, erasedBy, !inserted));
    }

    /// <summary>Registers the erasure and appends <see cref="CustomerErased"/> once, in one transaction.</summary>
    private static async Task<(DateTimeOffset ErasedAt, string ErasedBy, bool Inserted)> RegisterAsync(IDocumentStore store, CustomerErased erasure,
        CancellationToken cancellation)
    {
        var customerId = erasure.CustomerId;
        await using var session = store.LightweightSession();
        var schema = store.Options.Events.DatabaseSchemaName;
        await session.BeginTransactionAsync(cancellation);
        await using var register = new NpgsqlCommand(
            $"""
             insert into {schema}.{ErasedCustomers.TableName} (customer_id, erased_at, erased_by) values ($1, $2, $3)
             on conflict (customer_id) do nothing
             """,
            session.Connection)
        {
            Parameters = { new() { Value = customerId }, new() { Value = erasure.ErasedAt }, new() { Value = erasure.ErasedBy } },
        };
        var inserted = await register.ExecuteNonQueryAsync(cancellation) == 1;

        // A separate statement, so it also sees an erasure that a concurrent request committed while this one waited.
        await using var read = new NpgsqlCommand($"select erased_at, erased_by from {schema}.{ErasedCustomers.TableName} where customer_id = $1", session.Connection)
        {
            Parameters = { new() { Value = customerId } },
        };
        DateTimeOffset erasedAt;
        string erasedBy;
        await using (var reader = await read.ExecuteReaderAsync(cancellation))
        {
            await reader.ReadAsync(cancellation);
            (erasedAt, erasedBy) = (reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1));
        }

        if (inserted)
        {
            session.LastModifiedBy = erasure.ErasedBy;
            session.Events.Append(customerId, erasure);
        }

        await session.SaveChangesAsync(cancellation);
        return (erasedAt, erasedBy, inserted);
    }
}
