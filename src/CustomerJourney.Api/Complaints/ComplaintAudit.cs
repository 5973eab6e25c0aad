using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Npgsql;
using Weasel.Core;
using Weasel.Core.Migrations;
using Weasel.Postgresql;
using Weasel.Postgresql.Functions;
using Weasel.Postgresql.Tables;
using Weasel.Postgresql.Triggers;
using Wolverine.Http;

namespace CustomerJourney.Complaints;

/// <summary>
/// The tamper-evident trail of complaint cases.
/// <para>
/// Every event appended to a "complaint/..." stream is sealed in the same transaction by a PostgreSQL trigger: the
/// entry hash is SHA-256 of the row's canonical form (below), the chain hash is SHA-256 of the previous entry's chain
/// hash (32 zero bytes for the first) followed by this entry hash. Both are kept in <see cref="ChainTable"/>.
/// Verification recomputes everything from the stored rows and names the first entry that does not match. Because the
/// chain hashes what is stored (personal fields as their ciphertext), erasing a customer leaves it verifiable.
/// </para>
/// <para>
/// Canonical form (UTF-8, fields joined by a line feed): <c>cj-audit-v1</c>, stream key, version, global sequence,
/// event type name, record time as <c>YYYY-MM-DDTHH:MM:SS.ffffffZ</c> (UTC), user name, the <c>correlation_id</c>
/// column (which holds the trace id: see <see cref="AuditEntry"/>), causation id (missing values as empty strings),
/// the headers as PostgreSQL's jsonb text (<c>null</c> when absent), and the event body as PostgreSQL's jsonb text
/// (keys ordered as jsonb orders them, one space after ':' and ','); the body holds the caller's correlation id. It is
/// defined once, as the SQL function <c>cj_audit_canonical</c>, which the trigger and the verifier both call.
/// </para>
/// </summary>
public static class ComplaintAuditChain
{
    public const string ChainTable = "cj_complaint_audit_chain";
    public const string CanonicalFunction = "cj_audit_canonical";

    public static readonly byte[] Genesis = new byte[32];

    public static Table DefineTable(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, ChainTable, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<string>("stream_id").AsPrimaryKey();
        table.AddColumn<long>("version").AsPrimaryKey();
        table.AddColumn<long>("seq_id").NotNull();
        table.AddColumn<string>("entry_hash").NotNull();
        table.AddColumn<string>("chain_hash").NotNull();
        table.AddColumn("sealed_at", "timestamp with time zone").NotNull().DefaultValueByExpression("now()");
        return table;
    }

    public const string SealFunction = "cj_seal_complaint_event";
    public const string SealTrigger = "cj_seal_complaint_event";

    /// <summary>
    /// The canonical form as SQL. Written the way pg_get_functiondef renders it (header, <c>$function$</c> quoting), so
    /// Weasel's comparison with the database finds no difference and db-assert passes.
    /// </summary>
    public static Function DefineCanonicalFunction(string schema) => new ReplacedInPlaceFunction(
        new PostgresqlObjectName(schema, CanonicalFunction, SchemaUtils.IdentifierUsage.Function),
        $$"""
          CREATE OR REPLACE FUNCTION {{schema}}.{{CanonicalFunction}}(p_stream text, p_version bigint, p_seq bigint, p_type text, p_recorded timestamp with time zone, p_user text, p_correlation text, p_causation text, p_headers jsonb, p_data jsonb)
           RETURNS text
           LANGUAGE sql
           IMMUTABLE
          AS $function$
            select 'cj-audit-v1' || E'\n' || p_stream || E'\n' || p_version::text || E'\n' || p_seq::text || E'\n' || p_type || E'\n' ||
                   to_char(p_recorded at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || E'\n' ||
                   coalesce(p_user, '') || E'\n' || coalesce(p_correlation, '') || E'\n' || coalesce(p_causation, '') || E'\n' ||
                   coalesce(p_headers::text, 'null') || E'\n' || p_data::text
          $function$;
          """);

    /// <summary>The trigger function: seals one inserted event into <see cref="ChainTable"/>.</summary>
    public static Function DefineSealFunction(string schema) => new ReplacedInPlaceFunction(
        new PostgresqlObjectName(schema, SealFunction, SchemaUtils.IdentifierUsage.Function),
        $$"""
          CREATE OR REPLACE FUNCTION {{schema}}.{{SealFunction}}()
           RETURNS trigger
           LANGUAGE plpgsql
          AS $function$
          declare
            v_entry bytea;
            v_previous bytea;
          begin
            v_entry := sha256(convert_to({{schema}}.{{CanonicalFunction}}(NEW.stream_id, NEW.version, NEW.seq_id, NEW.type, NEW.timestamp,
                NEW.user_name, NEW.correlation_id, NEW.causation_id, NEW.headers, NEW.data), 'UTF8'));
            select decode(chain_hash, 'hex') into v_previous from {{schema}}.{{ChainTable}}
              where stream_id = NEW.stream_id and version = NEW.version - 1;
            insert into {{schema}}.{{ChainTable}} (stream_id, version, seq_id, entry_hash, chain_hash)
              values (NEW.stream_id, NEW.version, NEW.seq_id, encode(v_entry, 'hex'),
                      encode(sha256(coalesce(v_previous, decode(repeat('00', 32), 'hex')) || v_entry), 'hex'));
            return NEW;
          end
          $function$;
          """);

    /// <summary>Seals every event appended to a complaint stream, in the appending transaction.</summary>
    public static Trigger DefineSealTrigger(string schema) =>
        new(new PostgresqlObjectName(schema, SealTrigger, SchemaUtils.IdentifierUsage.General),
            new PostgresqlObjectName(schema, "mt_events", SchemaUtils.IdentifierUsage.General),
            $"{schema}.{SealFunction}()")
        {
            Timing = TriggerTiming.After,
            Events = TriggerEvents.Insert,
            ForEachRow = true,
            // As pg_get_triggerdef renders "NEW.stream_id like 'complaint/%'", so the comparison with the database matches.
            Condition = $"((new.stream_id)::text ~~ '{ComplaintCase.StreamPrefix}%'::text)",
        };

    public static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    public static byte[] Link(byte[] previousChain, byte[] entry) => SHA256.HashData([.. previousChain, .. entry]);
}

/// <summary>
/// The audit chain as part of the event store's schema: the chain table, the canonical-form function, the trigger
/// function and the trigger. Marten creates them with everything else (at start-up, db-apply, db-patch), db-assert
/// checks them and db-dump exports them into eventstore-schema/. A feature of its own, not
/// <c>Storage.ExtendedSchemaObjects</c>: Marten writes those before the event tables, while the trigger needs
/// <c>mt_events</c> to exist; custom features come after them.
/// </summary>
public sealed class ComplaintAuditSchema(string schema) : FeatureSchemaBase("ComplaintAudit", new PostgresqlMigrator())
{
    protected override IEnumerable<ISchemaObject> schemaObjects() =>
    [
        ComplaintAuditChain.DefineTable(schema),
        ComplaintAuditChain.DefineCanonicalFunction(schema),
        ComplaintAuditChain.DefineSealFunction(schema),
        ComplaintAuditChain.DefineSealTrigger(schema),
    ];
}

/// <summary>
/// A function whose change is written as CREATE OR REPLACE. Weasel's own update drops the function first, which
/// PostgreSQL refuses for a trigger function still in use by its trigger.
/// </summary>
internal sealed class ReplacedInPlaceFunction(DbObjectName identifier, string body) : Function(identifier, body)
{
    protected override ISchemaObjectDelta CreateFunctionDelta(FunctionBase? actual) => new InPlace(this, (Function?)actual);

    private sealed class InPlace(Function expected, Function? actual) : FunctionDelta(expected, actual)
    {
        public override void WriteUpdate(Migrator rules, TextWriter writer) => Expected.WriteCreateStatement(rules, writer);
    }
}

/// <summary>One event of a case's trail, as auditors read it.</summary>
/// <param name="CorrelationId">
/// The caller's correlation id: the <c>correlationId</c> the step or touchpoint was sent with, kept in the event body
/// (what the journey and the export show too). Null for what no caller sent, such as a breach the service detected.
/// </param>
/// <param name="TraceId">
/// The trace the event was written in. Marten fills its <c>correlation_id</c> column from the current trace, so that
/// column holds the W3C trace id (a request's, or for a timer the one Wolverine carried), never the caller's id.
/// </param>
public sealed record AuditEntry(
    long Version,
    long Sequence,
    string Type,
    DateTimeOffset? OccurredAt,
    DateTimeOffset RecordedAt,
    string? RecordedBy,
    string? Command,
    string? CorrelationId,
    string? TraceId,
    string? CausationId,
    string EntryHash,
    string PreviousHash,
    string ChainHash,
    JsonElement Data);

public sealed record AuditTrail(string ComplaintId, DateTimeOffset? AsOf, ComplaintCase? Case, IReadOnlyList<AuditEntry> Entries);

/// <summary>A signed statement that the case's chain had this hash at this version: exported, it lets auditors catch a rewritten or truncated tail.</summary>
public sealed record SignedChainHead
{
    public string Id { get; init; } = "";
    public required string ComplaintId { get; init; }
    public required long Version { get; init; }
    public required string ChainHash { get; init; }
    public required DateTimeOffset SignedAt { get; init; }
    public required string KeyId { get; init; }
    public string Algorithm { get; init; } = "HMAC-SHA256";
    public required string Signature { get; init; }
}

public sealed record ChainMismatch(long Version, string Problem);

public sealed record HeadCheck(string Source, long Version, bool SignatureValid, bool Matches, string? Problem);

public sealed record AuditVerification(string ComplaintId, bool Verified, int Entries, long? HeadVersion, string? HeadHash, ChainMismatch? FirstMismatch,
    IReadOnlyList<HeadCheck> Heads);

/// <summary>Configuration section "Complaints:Audit".</summary>
public sealed class AuditOptions
{
    /// <summary>Base64, at least 32 bytes. Required outside Development.</summary>
    public string? HeadSigningKey { get; set; }

    public TimeSpan HeadSigningPeriod { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>Signs chain heads with the configured key (HMAC-SHA256) and checks signatures.</summary>
public sealed class ChainHeadSigner
{
    // Public on purpose: it only lets a developer's machine start. Production refuses it (see the constructor).
    public const string DevelopmentKey = "Y2oNZGV2ZWxvcG1lbnQtb25seS1jaGFpbi1oZWFkLWtleS0wMDAwMDAwMDA=";
    private readonly byte[] _key;

    public ChainHeadSigner(IOptions<AuditOptions> options, IHostEnvironment environment)
    {
        var configured = options.Value.HeadSigningKey;
        if (string.IsNullOrWhiteSpace(configured))
        {
            if (!environment.IsDevelopment())
            {
                throw new InvalidOperationException(
                    "Complaints:Audit:HeadSigningKey is not set. Set it (base64, at least 32 random bytes) so signed chain heads can be trusted.");
            }

            configured = DevelopmentKey;
        }
        else if (configured == DevelopmentKey && !environment.IsDevelopment())
        {
            throw new InvalidOperationException("Complaints:Audit:HeadSigningKey is the published development key; set a secret one.");
        }

        try
        {
            _key = Convert.FromBase64String(configured);
        }
        catch (FormatException)
        {
            throw new InvalidOperationException("Complaints:Audit:HeadSigningKey must be base64.");
        }

        if (_key.Length < 32)
        {
            throw new InvalidOperationException("Complaints:Audit:HeadSigningKey must decode to at least 32 bytes.");
        }

        KeyId = Convert.ToHexStringLower(SHA256.HashData(_key))[..16];
    }

    /// <summary>Names the key without revealing it, so auditors know which key signed a head.</summary>
    public string KeyId { get; }

    public SignedChainHead Sign(string complaintId, long version, string chainHash, DateTimeOffset signedAt)
    {
        var at = signedAt.ToUniversalTime();
        return new SignedChainHead
        {
            Id = $"{complaintId}@{version}",
            ComplaintId = complaintId,
            Version = version,
            ChainHash = chainHash,
            SignedAt = at,
            KeyId = KeyId,
            Signature = Convert.ToBase64String(HMACSHA256.HashData(_key, Payload(complaintId, version, chainHash, at))),
        };
    }

    public bool IsValid(SignedChainHead head)
    {
        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(head.Signature);
        }
        catch (FormatException)
        {
            return false;
        }

        var expected = HMACSHA256.HashData(_key, Payload(head.ComplaintId, head.Version, head.ChainHash, head.SignedAt.ToUniversalTime()));
        return head.KeyId == KeyId && CryptographicOperations.FixedTimeEquals(expected, signature);
    }

    private static byte[] Payload(string complaintId, long version, string chainHash, DateTimeOffset at) => Encoding.UTF8.GetBytes(
        $"cj-chain-head-v1\n{complaintId}\n{version.ToString(CultureInfo.InvariantCulture)}\n{chainHash}\n{at.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture)}");
}

/// <summary>Reads a case's stored rows beside their seals, recomputes the chain, signs heads.</summary>
public sealed class ComplaintAuditor(IDocumentStore store, ChainHeadSigner signer, TimeProvider clock, IPersonalDataProtector personal,
    UnreadablePersonalData unreadable)
{
    // TraceId is mt_events.correlation_id, which Marten fills from the current trace (see AuditEntry).
    private sealed record Row(long Version, long? Sequence, string? Canonical, string? Type, DateTimeOffset? RecordedAt, string? UserName, string? TraceId,
        string? CausationId, string? Headers, string? Data, string? EntryHash, string? ChainHash, string? DotNetType);

    private async Task<List<Row>> RowsAsync(string complaintId, CancellationToken cancellation)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);
        await using var command = new NpgsqlCommand(
            $"""
             select coalesce(e.version, c.version), e.seq_id,
                    {schema}.{ComplaintAuditChain.CanonicalFunction}(e.stream_id, e.version, e.seq_id, e.type, e.timestamp, e.user_name,
                        e.correlation_id, e.causation_id, e.headers, e.data),
                    e.type, e.timestamp, e.user_name, e.correlation_id, e.causation_id, e.headers::text, e.data::text, c.entry_hash, c.chain_hash, e.mt_dotnet_type
             from (select * from {schema}.mt_events where stream_id = @key) e
             full outer join (select * from {schema}.{ComplaintAuditChain.ChainTable} where stream_id = @key) c on c.version = e.version
             order by 1, e.seq_id
             """, connection);
        command.Parameters.AddWithValue("key", ComplaintCase.StreamKey(complaintId));
        var rows = new List<Row>();
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
            rows.Add(new Row(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetInt64(1), Text(2), Text(3),
                reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4), Text(5), Text(6), Text(7), Text(8), Text(9), Text(10), Text(11), Text(12)));
        }

        return rows;
    }

    /// <summary>
    /// The case's entries as recorded by <paramref name="asOf"/>. Personal fields are shown as the reader may see them,
    /// through the same mapping as the journey; the hashes cover the stored, sealed form.
    /// </summary>
    public async Task<IReadOnlyList<AuditEntry>> TrailAsync(string complaintId, DateTimeOffset? asOf, bool mayReadPersonalData, CancellationToken cancellation)
    {
        var rows = await RowsAsync(complaintId, cancellation);
        var customerIds = rows.Where(r => r.Data is not null).Select(r => CustomerOf(r.Data!)).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var cipher = await personal.ForCustomersAsync(customerIds, forWriting: false, cancellation);
        var entries = new List<AuditEntry>();
        var previous = ComplaintAuditChain.Genesis;
        foreach (var row in rows)
        {
            if (row.Data is null || asOf is not null && row.RecordedAt > asOf)
            {
                continue;
            }

            var node = JsonNode.Parse(row.Data);
            var data = node as JsonObject;
            var occurredAt = data?["occurredAt"] is JsonValue o && o.TryGetValue<DateTimeOffset>(out var at) ? at
                : data?["detectedAt"] is JsonValue d && d.TryGetValue<DateTimeOffset>(out var detected) ? detected : (DateTimeOffset?)null;
            var correlationId = data?["correlationId"] is JsonValue cv && cv.TryGetValue<string>(out var caller) ? caller : null;
            if (data is not null)
            {
                ShowPersonalFields(data, row, cipher, mayReadPersonalData);
            }

            string? command = null;
            if (row.Headers is not null)
            {
                using var headers = JsonDocument.Parse(row.Headers);
                command = headers.RootElement.ValueKind == JsonValueKind.Object && headers.RootElement.TryGetProperty(AuditHeaders.Command, out var c)
                    ? c.ToString() : null;
            }

            entries.Add(new AuditEntry(row.Version, row.Sequence ?? 0, row.Type!, occurredAt, row.RecordedAt!.Value, row.UserName, command, correlationId,
                row.TraceId, row.CausationId, row.EntryHash ?? "", ComplaintAuditChain.Hex(previous), row.ChainHash ?? "", JsonSerializer.SerializeToElement(node)));
            previous = row.ChainHash is null ? previous : Convert.FromHexString(row.ChainHash);
        }

        return entries;
    }

    private static string? CustomerOf(string data) => JsonNode.Parse(data)?["customerId"] is JsonValue v && v.TryGetValue<string>(out var id) ? id : null;

    /// <summary>Replaces each stored personal field of the row's event type with what the reader may see.</summary>
    private void ShowPersonalFields(JsonObject data, Row row, IPersonalDataCipher cipher, bool mayReadPersonalData)
    {
        if (row.DotNetType is null || Type.GetType(row.DotNetType) is not { } type || data["customerId"] is not JsonValue customer ||
            !customer.TryGetValue<string>(out var customerId))
        {
            return;
        }

        foreach (var path in PersonalFields.JsonPathsOf(type))
        {
            var holder = path[..^1].Aggregate((JsonNode?)data, (node, name) => node?[name]) as JsonObject;
            if (holder?[path[^1]] is JsonValue value && value.TryGetValue<string>(out var stored))
            {
                holder[path[^1]] = PersonalFields.Show(cipher, customerId, stored, mayReadPersonalData, () => unreadable.Found(row.Sequence ?? 0, TouchpointCatalogue.KindOf(type) ?? type.Name));
            }
        }
    }

    /// <summary>Recomputes the chain from the stored rows; checks it against the stored heads and any exported one.</summary>
    public async Task<AuditVerification> VerifyAsync(string complaintId, SignedChainHead? exported, CancellationToken cancellation)
    {
        var rows = await RowsAsync(complaintId, cancellation);
        ChainMismatch? mismatch = null;
        var previous = ComplaintAuditChain.Genesis;
        var recomputed = new Dictionary<long, string>();
        long expectedVersion = 1;
        foreach (var row in rows)
        {
            string? problem = null;
            if (row.Version != expectedVersion)
            {
                problem = row.Version < expectedVersion
                    ? "appears twice"
                    : $"entries {expectedVersion} to {row.Version - 1} are missing";
            }
            else if (row.Canonical is null)
            {
                problem = "the event is missing: its seal exists but its row was deleted";
            }
            else if (row.EntryHash is null)
            {
                problem = "the event was never sealed: it did not pass through the sealing trigger";
            }

            var entry = row.Canonical is null ? null : SHA256.HashData(Encoding.UTF8.GetBytes(row.Canonical));
            if (problem is null && ComplaintAuditChain.Hex(entry!) != row.EntryHash)
            {
                problem = "its content differs from what was sealed";
            }

            if (entry is not null)
            {
                previous = ComplaintAuditChain.Link(previous, entry);
                recomputed[row.Version] = ComplaintAuditChain.Hex(previous);
                if (problem is null && recomputed[row.Version] != row.ChainHash)
                {
                    problem = "its chain hash does not follow from the entries before it";
                }
            }

            if (problem is not null && mismatch is null)
            {
                mismatch = new ChainMismatch(Math.Min(row.Version, expectedVersion), problem);
            }

            expectedVersion = Math.Max(expectedVersion, row.Version + 1);
        }

        var headVersion = recomputed.Count == 0 ? (long?)null : recomputed.Keys.Max();
        var headHash = headVersion is { } hv ? recomputed[hv] : null;
        var heads = new List<HeadCheck>();
        await using (var session = store.QuerySession())
        {
            var stored = await session.Query<SignedChainHead>().Where(h => h.ComplaintId == complaintId).OrderByDescending(h => h.Version).FirstOrDefaultAsync(cancellation);
            if (stored is not null)
            {
                heads.Add(Check("stored", stored, recomputed, headVersion));
            }
        }

        if (exported is not null)
        {
            heads.Add(Check("exported", exported, recomputed, headVersion));
        }

        var verified = mismatch is null && heads.All(h => h.SignatureValid && h.Matches) && rows.Count > 0;
        return new AuditVerification(complaintId, verified, rows.Count, headVersion, headHash, mismatch, heads);
    }

    private HeadCheck Check(string source, SignedChainHead head, Dictionary<long, string> recomputed, long? headVersion)
    {
        var valid = signer.IsValid(head);
        if (!valid)
        {
            return new HeadCheck(source, head.Version, false, false, "the signature does not verify with this service's key");
        }

        if (!recomputed.TryGetValue(head.Version, out var hash))
        {
            return new HeadCheck(source, head.Version, true, false,
                $"the head names version {head.Version} but the chain ends at version {headVersion?.ToString(CultureInfo.InvariantCulture) ?? "0"}: entries were removed");
        }

        return hash == head.ChainHash
            ? new HeadCheck(source, head.Version, true, true, null)
            : new HeadCheck(source, head.Version, true, false, $"the chain hash at version {head.Version} differs from the signed one: history was rewritten");
    }

    /// <summary>Signs the current head of every case whose chain moved since its last signed head; returns how many were signed.</summary>
    public async Task<int> SignHeadsAsync(CancellationToken cancellation)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        await using var session = store.LightweightSession();
        var latest = new List<(string Stream, long Version, string Hash)>();
        await using var connection = store.Storage.Database.CreateConnection();
        await connection.OpenAsync(cancellation);

        await using (var command = new NpgsqlCommand(
                         $"""
                          select distinct on (c.stream_id) c.stream_id, c.version, c.chain_hash
                          from {schema}.{ComplaintAuditChain.ChainTable} c
                          order by c.stream_id, c.version desc
                          """, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellation))
        {
            while (await reader.ReadAsync(cancellation))
            {
                latest.Add((reader.GetString(0), reader.GetInt64(1), reader.GetString(2)));
            }
        }

        var signedIds = (await session.Query<SignedChainHead>().Select(h => h.Id).ToListAsync(cancellation)).ToHashSet(StringComparer.Ordinal);
        var now = clock.GetUtcNow();
        var signed = 0;
        foreach (var (stream, version, hash) in latest)
        {
            var complaintId = stream[ComplaintCase.StreamPrefix.Length..];
            if (!signedIds.Contains($"{complaintId}@{version}"))
            {
                session.Store(signer.Sign(complaintId, version, hash, now));
                signed++;
            }
        }

        await session.SaveChangesAsync(cancellation);
        return signed;
    }
}

/// <summary>Signs chain heads periodically, so an exported head exists for every case that changed.</summary>
public sealed class ChainHeadSigning(ComplaintAuditor auditor, IOptions<AuditOptions> options, ILogger<ChainHeadSigning> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.HeadSigningPeriod);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var signed = await auditor.SignHeadsAsync(stoppingToken);
                logger.LogInformation("Signed {Count} complaint chain head(s)", signed);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Could not sign complaint chain heads; trying again next period");
            }
        }
    }
}

public static class ComplaintAuditEndpoints
{
    /// <summary>Every event of the case in order, with who, when, the causing command, the caller's correlation id, the trace id and the hash chain; JSON or CSV.</summary>
    [WolverineGet("/api/complaints/{complaintId}/audit")]
    [Authorize(Policy = Policies.AuditComplaints)]
    public static async Task<IResult> Trail(string complaintId, HttpRequest request, ComplaintAuditor auditor, IQuerySession session,
        CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var asOf = query.Instant("asOf");
        var format = query.Text("format");
        if (format is not (null or "json" or "csv"))
        {
            query.Errors.Add("format", "must be json or csv.");
        }

        if (ComplaintReadEndpoints.Invalid(complaintId, query) is { } problem)
        {
            return problem;
        }

        var entries = await auditor.TrailAsync(complaintId, asOf, Roles.MayReadPersonalData(request.HttpContext.User), cancellation);
        if (entries.Count == 0)
        {
            return ComplaintReadEndpoints.Unknown(complaintId, asOf);
        }

        var csv = format == "csv" || format is null && request.Headers.Accept.Any(a => a?.Contains("text/csv", StringComparison.OrdinalIgnoreCase) == true);
        if (csv)
        {
            return Results.Text(Csv(entries), "text/csv; charset=utf-8");
        }

        var state = await ComplaintReadEndpoints.LoadAsync(session, complaintId, asOf, cancellation);
        return Results.Ok(new AuditTrail(complaintId, asOf, state, entries));
    }

    /// <summary>Recomputes the chain from the stored events and checks it against the latest signed head.</summary>
    [WolverineGet("/api/complaints/{complaintId}/audit/verify")]
    [Authorize(Policy = Policies.AuditComplaints)]
    public static Task<IResult> Verify(string complaintId, ComplaintAuditor auditor, CancellationToken cancellation) =>
        VerifyAsync(complaintId, null, auditor, cancellation);

    /// <summary>As GET, and also against a head the auditor exported earlier and kept elsewhere (the request body).</summary>
    [WolverinePost("/api/complaints/{complaintId}/audit/verify")]
    [Authorize(Policy = Policies.AuditComplaints)]
    public static Task<IResult> VerifyAgainst(string complaintId, SignedChainHead head, ComplaintAuditor auditor, CancellationToken cancellation) =>
        head.ComplaintId != complaintId
            ? Task.FromResult(Results.ValidationProblem(new Dictionary<string, string[]> { ["complaintId"] = ["names another complaint than the route."] },
                title: "Invalid chain head"))
            : VerifyAsync(complaintId, head, auditor, cancellation);

    private static async Task<IResult> VerifyAsync(string complaintId, SignedChainHead? head, ComplaintAuditor auditor, CancellationToken cancellation)
    {
        if (!Touchpoints.TouchpointCatalogue.IdPattern().IsMatch(complaintId))
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["complaintId"] = [Touchpoints.TouchpointCatalogue.IdHint] }, title: "Invalid request");
        }

        var verification = await auditor.VerifyAsync(complaintId, head, cancellation);
        return verification.Entries == 0 ? ComplaintReadEndpoints.Unknown(complaintId, null) : Results.Ok(verification);
    }

    /// <summary>The signed chain heads, for auditors to export and keep elsewhere.</summary>
    [WolverineGet("/api/complaints/audit/heads")]
    [Authorize(Policy = Policies.AuditComplaints)]
    public static async Task<IResult> Heads(HttpRequest request, IQuerySession session, CancellationToken cancellation)
    {
        var query = new ReadQuery(request);
        var complaintId = query.Text("complaintId");
        if (query.Errors.Any)
        {
            return Results.ValidationProblem(query.Errors.ToDictionary(), title: "Invalid request");
        }

        IQueryable<SignedChainHead> heads = session.Query<SignedChainHead>();
        if (complaintId is not null)
        {
            heads = heads.Where(h => h.ComplaintId == complaintId);
        }

        return Results.Ok(await heads.OrderBy(h => h.ComplaintId).ThenBy(h => h.Version).Take(10_000).ToListAsync(cancellation));
    }

    /// <summary>Signs the current heads now rather than at the next period.</summary>
    [WolverinePost("/api/complaints/audit/heads")]
    [Authorize(Policy = Policies.SignChainHeads)]
    public static async Task<IResult> SignHeads(ComplaintAuditor auditor, CancellationToken cancellation) =>
        Results.Ok(new { signed = await auditor.SignHeadsAsync(cancellation) });

    private static string Csv(IReadOnlyList<AuditEntry> entries)
    {
        var csv = new StringBuilder("version,sequence,type,occurredAt,recordedAt,recordedBy,command,correlationId,traceId,causationId,entryHash,previousHash,chainHash,data\r\n");
        foreach (var e in entries)
        {
            string[] fields =
            [
                e.Version.ToString(CultureInfo.InvariantCulture), e.Sequence.ToString(CultureInfo.InvariantCulture), e.Type,
                e.OccurredAt?.ToString("O", CultureInfo.InvariantCulture) ?? "", e.RecordedAt.ToString("O", CultureInfo.InvariantCulture),
                e.RecordedBy ?? "", e.Command ?? "", e.CorrelationId ?? "", e.TraceId ?? "", e.CausationId ?? "", e.EntryHash, e.PreviousHash, e.ChainHash, e.Data.GetRawText(),
            ];
            csv.AppendJoin(',', fields.Select(Quote)).Append("\r\n");
        }

        return csv.ToString();
    }

    // RFC 4180 quoting; a leading =, +, - or @ is prefixed so spreadsheets do not run it as a formula.
    private static string Quote(string field)
    {
        var safe = field.Length > 0 && field[0] is '=' or '+' or '-' or '@' ? "'" + field : field;
        return safe.IndexOfAny([',', '"', '\r', '\n']) >= 0 || safe != field ? $"\"{safe.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : safe;
    }
}
