using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Marten;
using Npgsql;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace CustomerJourney.Infrastructure;

/// <summary>What became of a request's Idempotency-Key when it was claimed.</summary>
public enum IdempotencyClaim
{
    /// <summary>First seen (or the earlier attempt was refused or abandoned): carry on.</summary>
    New,

    /// <summary>A retry of a request that completed: carry on, and the write path finds its events already stored.</summary>
    Retry,

    /// <summary>The same key from the same caller for the same target with another body: 422.</summary>
    OtherBody,

    /// <summary>The same request is still being served: 409.</summary>
    InFlight,
}

/// <summary>
/// Idempotency-Key as the IETF draft means it: "this caller's retry of this request". A key is scoped by the caller
/// (person or API key) and by what the request targets (route and resource), so the same short counter from two
/// people, or from one person on two cases, names two requests. The request's fingerprint (a digest of its parsed
/// body) is kept with the key: the same key with another body is refused, never answered with the first request's
/// outcome. Beside the event store, in a table Marten manages.
/// </summary>
public sealed class IdempotencyKeys(IDocumentStore store, TimeProvider clock)
{
    public const string Header = "Idempotency-Key";
    public const string TableName = "cj_idempotency_keys";

    /// <summary>A request still unfinished after this long was abandoned (its process died): a retry may take it over.</summary>
    public static readonly TimeSpan InFlightLimit = TimeSpan.FromMinutes(2);

    public static Table DefineTable(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, TableName, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<string>("scope").AsPrimaryKey();
        table.AddColumn<string>("fingerprint").NotNull();
        table.AddColumn("started_at", "timestamp with time zone").NotNull();
        table.AddColumn("completed_at", "timestamp with time zone");
        return table;
    }

    /// <summary>The request's key, or null when it sent none.</summary>
    public static string? KeyOf(HttpRequest request) => request.Headers[Header] is { Count: 1 } key ? key[0] : null;

    /// <summary>The key scoped by caller and target: what the request's events carry as their source id.</summary>
    public static string Scoped(string caller, string target, string key) =>
        "idem-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{caller}\n{target}\n{key}")))[..40];

    /// <summary>A digest of the parsed body: the same JSON however it was spaced or ordered, since the typed body is serialised again.</summary>
    public static string Fingerprint(object body) => Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(body, body.GetType())));

    public async Task<IdempotencyClaim> ClaimAsync(string scope, string fingerprint, CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        var table = Table;
        await using var connection = await OpenAsync(cancellation);
        await using var claim = new NpgsqlCommand(
            $"""
             insert into {table} (scope, fingerprint, started_at) values ($1, $2, $3)
             on conflict (scope) do update set started_at = excluded.started_at, completed_at = null
               where {table}.fingerprint = excluded.fingerprint and {table}.completed_at is null and {table}.started_at < $4
             returning true
             """, connection)
        {
            Parameters = { new() { Value = scope }, new() { Value = fingerprint }, new() { Value = now }, new() { Value = now - InFlightLimit } },
        };
        if (await claim.ExecuteScalarAsync(cancellation) is true)
        {
            return IdempotencyClaim.New;
        }

        await using var read = new NpgsqlCommand($"select fingerprint, completed_at is not null from {table} where scope = $1", connection)
        {
            Parameters = { new() { Value = scope } },
        };
        await using var reader = await read.ExecuteReaderAsync(cancellation);
        if (!await reader.ReadAsync(cancellation))
        {
            // Released between the two statements: a refused first attempt. This one is new again.
            await reader.DisposeAsync();
            return await ClaimAsync(scope, fingerprint, cancellation);
        }

        return reader.GetString(0) != fingerprint ? IdempotencyClaim.OtherBody
            : reader.GetBoolean(1) ? IdempotencyClaim.Retry
            : IdempotencyClaim.InFlight;
    }

    /// <summary>The request was served: later uses of the key are retries.</summary>
    public async Task CompleteAsync(string scope, CancellationToken cancellation)
    {
        await using var connection = await OpenAsync(cancellation);
        await using var complete = new NpgsqlCommand($"update {Table} set completed_at = $2 where scope = $1", connection)
        {
            Parameters = { new() { Value = scope }, new() { Value = clock.GetUtcNow() } },
        };
        await complete.ExecuteNonQueryAsync(cancellation);
    }

    /// <summary>The request was refused (or failed): nothing of it is stored, so the key is free for a corrected request.</summary>
    public async Task ReleaseAsync(string scope, CancellationToken cancellation)
    {
        await using var connection = await OpenAsync(cancellation);
        await using var release = new NpgsqlCommand($"delete from {Table} where scope = $1 and completed_at is null", connection)
        {
            Parameters = { new() { Value = scope } },
        };
        await release.ExecuteNonQueryAsync(cancellation);
    }

    private string Table => $"{store.Options.DatabaseSchemaName}.{TableName}";

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellation)
    {
        var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        return connection;
    }

    public static IResult OtherBodyProblem() => Results.Problem(statusCode: StatusCodes.Status422UnprocessableEntity,
        title: "Idempotency-Key reused",
        detail: "This Idempotency-Key was already used by you for this request with another body. Send a new key for a new request.",
        type: "https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/");

    public static IResult InFlightProblem() => Results.Problem(statusCode: StatusCodes.Status409Conflict,
        title: "Request in progress",
        detail: "A request with this Idempotency-Key is still being served. Retry once it has answered.",
        type: "https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/");
}
