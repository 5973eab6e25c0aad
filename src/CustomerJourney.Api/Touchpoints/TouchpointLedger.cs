using CustomerJourney.Access;
using CustomerJourney.Complaints;
using CustomerJourney.Identity;
using CustomerJourney.Infrastructure;
using CustomerJourney.WinBack;
using Marten;
using Npgsql;
using NpgsqlTypes;
using Weasel.Postgresql;
using Weasel.Postgresql.Tables;
using Wolverine.Marten;

namespace CustomerJourney.Touchpoints;

/// <summary>What became of a touchpoint handed to the ledger.</summary>
public enum TouchpointOutcome
{
    Appended,
    Duplicate,
    CustomerErased,

    /// <summary>A complaint step its case's rules refused; nothing of it was stored.</summary>
    RuleBroken,
}

/// <summary>
/// Who writes, through which command (kept as an event header for auditors), with which personal-data keys (those of new
/// customers are stored only when their touchpoints are), and for a single complaint step the version the writer read.
/// An imported history's complaint steps are <paramref name="Historic"/>: their promises are judged once the import is in.
/// </summary>
public sealed record LedgerWrite(string RecordedBy, string Command, IPersonalDataCipher Keys, long? ExpectedCaseVersion = null, bool Historic = false);

/// <summary>
/// A writer outside the ledger's locks stored a new customer's key first (or the customer was erased): the request seals its
/// items again with that key and retries. Between ledger writers the later one takes the stored key instead (TouchpointLedger).
/// </summary>
public sealed class PersonalDataKeyRaceException() : Exception("Another writer stored a personal-data key for a new customer first.");

/// <summary>One outcome per input; for refused complaint steps, the broken rule; for touched cases, their version after the commit.</summary>
public sealed record LedgerResult(TouchpointOutcome[] Outcomes, IReadOnlyDictionary<int, ComplaintRuleException> Broken, IReadOnlyDictionary<string, long> CaseVersions)
{
    public int Appended => Outcomes.Count(o => o == TouchpointOutcome.Appended);
}

/// <summary>
/// Appends touchpoints to their streams exactly once per (source, sourceId): a customer's own touchpoints to the
/// customer's stream, complaint steps to their case's stream after the case's rules accepted them.
/// <para>
/// The register of seen source ids is a table Marten manages beside the event store. In the same transaction
/// as the append, one multi-row <c>INSERT ... ON CONFLICT DO NOTHING RETURNING</c> claims the keys: whatever
/// it returns is new and gets appended, the rest are duplicates. PostgreSQL's unique index makes concurrent
/// claims of the same key wait for each other, so overlapping batches append each touchpoint once, and the
/// check costs one round trip per batch, not one per item. The same round trip reads the register of erased
/// customers, whose touchpoints are never appended. Complaint steps are handed, inside this transaction, to the one
/// seam of the complaint cases (<see cref="ComplaintSteps"/>), which decides and appends them, gives a refused step's
/// key back and schedules the case's next promise check in the same commit.
/// </para>
/// <para>
/// The session is opened by hand rather than by Wolverine's transactional middleware: one transaction must both claim
/// the source ids (the exactly-once guarantee) and append what was claimed, for any number of streams, with the
/// erased-customer check and the per-customer locks in the same round trips, and it is retried as a whole on a
/// transient conflict.
/// </para>
/// </summary>
public sealed partial class TouchpointLedger(IDocumentStore store, TouchpointMetrics metrics, LedgerAdmission admission, IServiceScopeFactory scopes,
    ComplaintSteps complaintSteps, ILogger<TouchpointLedger> logger)
{
    public const string TableName = "cj_touchpoint_sources";

    public static Table DefineTable(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, TableName, SchemaUtils.IdentifierUsage.General));
        table.AddColumn<string>("source").AsPrimaryKey();
        table.AddColumn<string>("source_id").AsPrimaryKey();
        table.AddColumn<string>("customer_id").NotNull();
        table.AddColumn("recorded_at", "timestamp with time zone").NotNull().DefaultValueByExpression("now()");
        return table;
    }

    /// <summary>Records the touchpoints on behalf of the write's <see cref="LedgerWrite.RecordedBy"/> (kept as Marten's user_name); one outcome per input.</summary>
    public async Task<LedgerResult> RecordAsync(IReadOnlyList<Touchpoint> touchpoints, LedgerWrite write, CancellationToken cancellation)
    {
        var outcomes = new TouchpointOutcome[touchpoints.Count];
        if (touchpoints.Count == 0)
        {
            return new LedgerResult(outcomes, new Dictionary<int, ComplaintRuleException>(), new Dictionary<string, long>());
        }

        Array.Fill(outcomes, TouchpointOutcome.Duplicate);
        var (claimed, erased, broken, versions) = Shareable(touchpoints, write)
            ? await RecordSharedAsync(touchpoints, write, cancellation)
            : await RecordAloneAsync(touchpoints, write, cancellation);

        foreach (var index in claimed)
        {
            outcomes[index] = TouchpointOutcome.Appended;
        }

        foreach (var index in broken.Keys)
        {
            outcomes[index] = TouchpointOutcome.RuleBroken;
        }

        for (var i = 0; i < touchpoints.Count; i++)
        {
            if (erased.Contains(touchpoints[i].CustomerId))
            {
                outcomes[i] = TouchpointOutcome.CustomerErased;
            }
        }

        for (var i = 0; i < touchpoints.Count; i++)
        {
            var kind = TouchpointCatalogue.KindOf(touchpoints[i]);
            switch (outcomes[i])
            {
                case TouchpointOutcome.Appended:
                    metrics.Appended(kind, touchpoints[i].Source);
                    break;
                case TouchpointOutcome.Duplicate:
                    metrics.Duplicate(kind, touchpoints[i].Source);
                    break;
                default:
                    metrics.Rejected(kind);
                    break;
            }
        }

        return new LedgerResult(outcomes, broken, versions);
    }

    /// <summary>One transaction of its own, when its turn comes (<see cref="LedgerAdmission"/>).</summary>
    private async Task<Written> RecordAloneAsync(IReadOnlyList<Touchpoint> touchpoints, LedgerWrite write, CancellationToken cancellation)
    {
        var keys = ClaimOrder(touchpoints);
        using (await admission.EnterAsync(cancellation))
        {
            return await TransientConflicts.RetryAsync(
                () => AppendNewAsync(touchpoints, keys, write, _ => write.Keys,
                    (claimed, token) => write.Keys.KeepNewKeysAsync(CustomersOf(touchpoints, claimed), token), cancellation),
                logger, "Touchpoint append", cancellation);
        }
    }

    /// <summary>Each source id once, at its first occurrence (a repeat inside the same batch is a duplicate of it), in one global order.</summary>
    private static KeyValuePair<(string Source, string SourceId), int>[] ClaimOrder(IReadOnlyList<Touchpoint> touchpoints)
    {
        var firstByKey = new Dictionary<(string Source, string SourceId), int>();
        for (var i = 0; i < touchpoints.Count; i++)
        {
            firstByKey.TryAdd((touchpoints[i].Source, touchpoints[i].SourceId), i);
        }

        // Claiming keys and streams in one global order keeps overlapping batches from deadlocking.
        return firstByKey.OrderBy(k => k.Key.Source, StringComparer.Ordinal).ThenBy(k => k.Key.SourceId, StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// Two requests may each make a key for one new customer; the first to commit stores its own. A request that waited for
    /// the customers' locks behind it takes the stored key and seals its items for that customer again here, rather than
    /// failing the whole write at <see cref="IPersonalDataCipher.KeepNewKeysAsync"/> and reading every item of a batch again.
    /// Each attempt starts from the touchpoints as their requests sealed them, so a retried transaction reseals them too.
    /// </summary>
    private static async Task<IReadOnlyList<Touchpoint>> WithKeysStoredMeanwhileAsync(IReadOnlyList<Touchpoint> touchpoints, IReadOnlyList<int> claimed,
        Func<int, IPersonalDataCipher> cipherOf, CancellationToken cancellation)
    {
        Touchpoint[]? resealed = null;
        foreach (var sealedBy in claimed.GroupBy(cipherOf))
        {
            var cipher = sealedBy.Key;
            var superseded = await cipher.TakeKeysStoredMeanwhileAsync(CustomersOf(touchpoints, sealedBy), cancellation);
            foreach (var i in sealedBy.Where(i => superseded.Contains(touchpoints[i].CustomerId)))
            {
                resealed ??= [.. touchpoints];
                resealed[i] = PersonalFields.Map(touchpoints[i], value => cipher.Reseal(touchpoints[i].CustomerId, value));
            }
        }

        return resealed ?? touchpoints;
    }

    private static HashSet<string> CustomersOf(IReadOnlyList<Touchpoint> touchpoints, IEnumerable<int> indices) =>
        indices.Select(i => touchpoints[i].CustomerId).ToHashSet(StringComparer.Ordinal);

    /// <summary>What one transaction did: the indices it appended, the erased customers it met, refused complaint steps, cases' versions.</summary>
    private sealed record Written(List<int> Claimed, HashSet<string> Erased, Dictionary<int, ComplaintRuleException> Broken, IReadOnlyDictionary<string, long> Versions);

    /// <param name="touchpoints">What to append, as sealed by their requests' ciphers.</param>
    /// <param name="keys">Their source ids in claim order (<see cref="ClaimOrder"/>).</param>
    /// <param name="write">Who records them, and how.</param>
    /// <param name="cipherOf">The cipher that sealed the touchpoint at an index.</param>
    /// <param name="keepNewKeys">Stores the keys of the new customers among the claimed indices; false when another writer stored one first.</param>
    /// <param name="cancellation">Cancels the write.</param>
    private async Task<Written> AppendNewAsync(IReadOnlyList<Touchpoint> touchpoints, KeyValuePair<(string Source, string SourceId), int>[] keys, LedgerWrite write,
        Func<int, IPersonalDataCipher> cipherOf, Func<IReadOnlyCollection<int>, CancellationToken, Task<bool>> keepNewKeys, CancellationToken cancellation)
    {
        await using var session = store.LightweightSession();
        session.LastModifiedBy = write.RecordedBy;
        session.SetHeader(AuditHeaders.Command, write.Command);
        var schema = store.Options.Events.DatabaseSchemaName;
        var customers = keys.Select(k => touchpoints[k.Value].CustomerId).ToArray();

        // Requests that share customers take turns instead of conflicting (CustomerLocks). Without this, overlapping
        // batches all lose to each other on the stream versions and retry whole batches of thousands.
        await CustomerLocks.TakeAsync(session, customers, cancellation);

        await using var batch = new NpgsqlBatch(session.Connection);
        var erasedQuery = new NpgsqlBatchCommand($"select customer_id from {schema}.{ErasedCustomers.TableName} where customer_id = any(@customers)");
        erasedQuery.Parameters.Add(new NpgsqlParameter<string[]>("customers", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = customers });
        var claim = new NpgsqlBatchCommand(
            $"""
             insert into {schema}.{TableName} (source, source_id, customer_id)
             select s, i, c from unnest(@sources, @ids, @customers) as k(s, i, c)
             where not exists (select 1 from {schema}.{ErasedCustomers.TableName} e where e.customer_id = k.c)
             order by s, i
             on conflict do nothing
             returning source, source_id
             """);
        claim.Parameters.Add(new NpgsqlParameter<string[]>("sources", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = keys.Select(k => k.Key.Source).ToArray() });
        claim.Parameters.Add(new NpgsqlParameter<string[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = keys.Select(k => k.Key.SourceId).ToArray() });
        claim.Parameters.Add(new NpgsqlParameter<string[]>("customers", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = customers });
        batch.BatchCommands.Add(erasedQuery);
        batch.BatchCommands.Add(claim);

        var erased = new HashSet<string>(StringComparer.Ordinal);
        var claimedKeys = new HashSet<(string, string)>();
        await using (var reader = await batch.ExecuteReaderAsync(cancellation))
        {
            while (await reader.ReadAsync(cancellation))
            {
                erased.Add(reader.GetString(0));
            }

            await reader.NextResultAsync(cancellation);
            while (await reader.ReadAsync(cancellation))
            {
                claimedKeys.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        var claimed = keys.Where(k => claimedKeys.Contains(k.Key)).Select(k => k.Value).Order().ToList();
        touchpoints = await WithKeysStoredMeanwhileAsync(touchpoints, claimed, cipherOf, cancellation);
        var eventIds = new Dictionary<int, Guid>();
        var streams = claimed.Where(i => !ComplaintSteps.IsStep(touchpoints[i])).GroupBy(i => touchpoints[i].CustomerId)
            .OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => (Customer: g.Key, Items: g.ToList())).ToList();
        var actions = ManyStreams.Append(session, streams.Select(s => (s.Customer, s.Items.Select(i => (object)touchpoints[i]))));
        foreach (var ((_, items), action) in streams.Zip(actions))
        {
            for (var j = 0; j < items.Count; j++)
            {
                eventIds[items[j]] = action.Events[j].Id;
            }
        }

        var broken = new Dictionary<int, ComplaintRuleException>();
        IReadOnlyDictionary<string, long> versions = new Dictionary<string, long>(StringComparer.Ordinal);
        if (claimed.Count == 0)
        {
            // All duplicates (a re-send): nothing to append, nothing to announce.
            await session.SaveChangesAsync(cancellation);
            return new Written(claimed, erased, broken, versions);
        }

        // Messages leave with the commit (Wolverine's outbox): timers for the cases, and word of what was recorded.
        await using var scope = scopes.CreateAsyncScope();
        var outbox = scope.ServiceProvider.GetRequiredService<IMartenOutbox>();
        outbox.Enroll(session);
        var steps = claimed.Where(i => ComplaintSteps.IsStep(touchpoints[i])).ToList();
        if (steps.Count > 0)
        {
            var pending = claimed.Select(i => touchpoints[i]).Where(t => t is PurchaseMade or PurchaseReturned).ToList();
            var decided = await complaintSteps.DecideAsync(session, outbox, steps.Select(i => touchpoints[i]).ToList(), pending,
                write.ExpectedCaseVersion, write.Historic, cancellation);
            foreach (var (step, rule) in decided.Refused)
            {
                broken[steps[step]] = rule;
            }

            versions = decided.Versions;
            claimed.RemoveAll(broken.ContainsKey);
        }

        foreach (var message in Announcements([.. claimed.Select(i => (touchpoints[i], eventIds.TryGetValue(i, out var id) ? id : (Guid?)null))]))
        {
            await outbox.PublishAsync(message);
        }

        // Keys of new customers are stored just before their first touchpoints commit, never for a refused item. Another
        // ledger writer cannot have stored one since WithKeysStoredMeanwhileAsync (it holds the locks); a writer that takes
        // no customer locks, or an erasure, still can: then the whole write is read again.
        if (!await keepNewKeys(claimed, cancellation))
        {
            throw new PersonalDataKeyRaceException();
        }

        await session.SaveChangesAsync(cancellation);
        return new Written(claimed, erased, broken, versions);
    }

    /// <summary>
    /// What the reactions hear of what one transaction recorded (a customer's own touchpoints with their event ids, complaint
    /// steps without, being on their case's stream), published through the outbox in that transaction, so exactly what was
    /// committed is reacted to even if the process dies right after the commit: whose churn-flag inputs changed, and whose
    /// can only clear a flag (<see cref="TouchpointsRecorded.Of"/>), who bought (<see cref="AttributeWhenPurchasesRecordedHandler.Hears"/>), and the touchpoints that may link
    /// identities (<see cref="Identifiers.MayLink"/>). A page view or loyalty points ask for none of them.
    /// </summary>
    public static IReadOnlyList<object> Announcements(IReadOnlyList<(Touchpoint Touchpoint, Guid? EventId)> recorded)
    {
        var messages = new List<object>();
        if (TouchpointsRecorded.Of(recorded.Select(r => r.Touchpoint)) is { } flagInputs)
        {
            messages.Add(flagInputs);
        }

        var buyers = recorded.Where(r => AttributeWhenPurchasesRecordedHandler.Hears(r.Touchpoint)).Select(r => r.Touchpoint.CustomerId)
            .Distinct(StringComparer.Ordinal).ToList();
        if (buyers.Count > 0)
        {
            messages.Add(new PurchasesRecorded(buyers));
        }

        var linking = recorded.Where(r => r.EventId is not null && Identifiers.MayLink(r.Touchpoint))
            .Select(r => new AppendedTouchpoint(r.Touchpoint.CustomerId, r.EventId!.Value)).ToList();
        if (linking.Count > 0)
        {
            messages.Add(new TouchpointsAppended(linking));
        }

        return messages;
    }

    /// <summary>
    /// Gives the source ids of touchpoints that were claimed in this transaction but will not be stored (complaint steps
    /// their case refused) back to the register, so a corrected resend is not taken for a duplicate.
    /// </summary>
    public static Task GiveBackAsync(IDocumentSession session, IReadOnlyList<Touchpoint> refused, CancellationToken cancellation) =>
        GiveBackAsync(session, refused.Select(t => (t.Source, t.SourceId)).ToList(), cancellation);

    /// <summary>As above, by key: for claims whose touchpoints are not at hand (an import's chunk that was cut short).</summary>
    public static async Task GiveBackAsync(IDocumentSession session, IReadOnlyList<(string Source, string SourceId)> keys, CancellationToken cancellation)
    {
        var schema = session.DocumentStore.Options.Events.DatabaseSchemaName;
        await using var release = new NpgsqlCommand(
            $"delete from {schema}.{TableName} where (source, source_id) in (select * from unnest(@sources, @ids))", session.Connection);
        release.Parameters.Add(new NpgsqlParameter<string[]>("sources", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = keys.Select(k => k.Source).ToArray() });
        release.Parameters.Add(new NpgsqlParameter<string[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = keys.Select(k => k.SourceId).ToArray() });
        await release.ExecuteNonQueryAsync(cancellation);
    }
}
