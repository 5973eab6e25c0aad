using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CustomerJourney.Identity;
using JasperFx.Events;
using Npgsql;
using NpgsqlTypes;
using Weasel.Core;

namespace Load;

/// <summary>What the identity workload measured.</summary>
public sealed record IdentityResult(int Profiles, double SeedSeconds, double CatchUpSeconds, int Touchpoints, int ExpectedLinks, int Linked, double Rate,
    double IngestSeconds, JsonObject? Resolution, JsonObject? ResolutionWholeRun, JsonObject? PassLookups, JsonObject? PassLookupsWholeRun, Latencies LinkLagMs,
    Waits Waits, IdentityWarmUp WarmUp);

/// <summary>The touchpoints posted before the measured ones, how many had to link and did, how long it took, and the resolver's lookups meanwhile.</summary>
public sealed record IdentityWarmUp(int Touchpoints, int ExpectedLinks, int Linked, WarmUp Took, JsonObject? Resolution);

/// <summary>
/// Identity resolution at scale: a store of <c>profiles</c> profiles of 3 identifiers each (customer id, e-mail, phone),
/// seeded directly in the shape <see cref="ProfileWriter"/> writes them (each profile's stream: ProfileStarted and three
/// ProfileIdentifierRecorded; the lookups ProfileMembership and three IdentifierHolder), with blind indexes computed by
/// the service's own <see cref="BlindIndex"/> under the Development key. Then new customers' contact-details-changed
/// touchpoints go through POST /api/touchpoints/batch at a fixed rate, after a warm-up of the same kind: 40 % show a seeded profile's e-mail, 20 % its phone,
/// 10 % both (each of those 70 % must link), 30 % details nobody holds. Measured: the resolver's lookup (the service's
/// histogram customerjourney.identity.resolution.duration, read from /api/dev/metrics) and the link lag, from mt_events:
/// the ProfilesMerged event's timestamp minus its evidence touchpoint's.
/// </summary>
public static class IdentityWorkload
{
    private const string Prefix = "ids-";

    public static string CustomerOf(int n) => $"{Prefix}{n:0000000}";

    public static string EmailOf(int n) => $"p{n}@ids.bench.example";

    /// <summary>Manhattan numbers 212-200-0000 onwards: valid to libphonenumber, and outside the fictional 555 range.</summary>
    public static string PhoneOf(int n) => $"+1212{2_000_000 + n}";

    public static string RawPhoneOf(int n)
    {
        var digits = (2_000_000 + n).ToString(CultureInfo.InvariantCulture);
        return $"(212) {digits[..3]}-{digits[3..]}";
    }

    public static async Task<IdentityResult> RunAsync(Service service, NpgsqlDataSource db, string connectionString, string schema, int profiles, int rate,
        TimeSpan duration, Action<string> say)
    {
        if (profiles > 7_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(profiles), "at most 7,000,000 (the phone numbers run out)");
        }

        var clock = Stopwatch.StartNew();
        await SeedAsync(db, connectionString, schema, profiles, say);
        var seedSeconds = clock.Elapsed.TotalSeconds;
        say($"Identity: seeded {profiles:N0} profiles in {seedSeconds:F0} s; waiting for the async daemon to pass them");
        clock.Restart();
        await CatchUpAsync(db, schema, TimeSpan.FromMinutes(10));
        var catchUpSeconds = clock.Elapsed.TotalSeconds;

        var random = new Random(5);
        var count = Math.Max(100, (int)(rate * duration.TotalSeconds));
        var run = DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture);
        const int batchSize = 50;
        // The resolver also ran for every tracked and ingested touchpoint before this phase, on two saturated cores: that
        // figure is kept beside this one, and the histogram starts afresh for the lookups this workload makes.
        var wholeRun = await MetricAsync(service, IdentityMetrics.ResolutionDuration);
        var passesWholeRun = await MetricAsync(service, IdentityMetrics.PassLookupDuration);
        await ClearAsync(service);

        // A warm-up first (Workloads.WarmUpAsync), reported on its own row: the first links after a start run code the
        // runtime has not compiled yet, and its background compiler then took about 5 CPU-s of a 20 s phase on 2 cores
        // (per-thread CPU from /proc, twenty-first round in bench/README), which is what the first hundred lookups waited behind.
        // Each slice posts its touchpoints at the workload's rate and waits for their links.
        var (warmUpCount, warmUpExpected, warmUpLinked, warmUpSlices) = (0, 0, 0, 0);
        say($"Identity: warming up at {rate:N0} touchpoints/s (not measured)");
        var warmedUp = await Workloads.WarmUpAsync(service, async slice =>
        {
            var tag = $"w{warmUpSlices++}{run}";
            var (sliceItems, sliceExpected) = Items(tag, Math.Max(batchSize, (int)(rate * slice.TotalSeconds)), profiles, random);
            await PostAtRateAsync(service, Workloads.Batches(sliceItems, batchSize), batchSize, rate);
            (warmUpCount, warmUpExpected) = (warmUpCount + sliceItems.Count, warmUpExpected + sliceExpected);
            warmUpLinked += await WaitForLinksAsync(db, schema, tag, sliceExpected);
        });
        var warmUp = await MetricAsync(service, IdentityMetrics.ResolutionDuration);
        await ClearAsync(service);

        var (items, expected) = Items(run, count, profiles, random);
        say($"Identity: {count:N0} contact-details-changed touchpoints of new customers at {rate:N0}/s in batches of {batchSize}");
        clock.Restart();
        // From the first post until the last link: every lookup of this workload runs in that time.
        var measured = await Waits.StartAsync(service);
        await PostAtRateAsync(service, Workloads.Batches(items, batchSize), batchSize, rate);
        var ingestSeconds = clock.Elapsed.TotalSeconds;
        say($"Identity: ingested in {ingestSeconds:F1} s ({count / ingestSeconds:N0}/s); waiting for {expected:N0} links");
        var linked = await WaitForLinksAsync(db, schema, run, expected);

        var waits = await measured();
        var lags = new Latencies();
        await using (var command = db.CreateCommand(
                         $"select min(extract(epoch from (m.timestamp - t.timestamp)) * 1000) from {schema}.mt_events m " +
                         $"join {schema}.mt_events t on t.stream_id = m.data->'evidence'->0->>'customerId' and t.id = (m.data->'evidence'->0->>'touchpointId')::uuid " +
                         $"where m.type = 'profiles_merged' and m.data->'evidence'->0->>'customerId' like 'idn-{run}-%' group by t.id"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                lags.Add(Convert.ToDouble(reader.GetValue(0), CultureInfo.InvariantCulture));
            }
        }

        return new IdentityResult(profiles, seedSeconds, catchUpSeconds, count, expected, linked, rate, ingestSeconds, await MetricAsync(service, IdentityMetrics.ResolutionDuration), wholeRun,
            await MetricAsync(service, IdentityMetrics.PassLookupDuration), passesWholeRun, lags, waits, new IdentityWarmUp(warmUpCount, warmUpExpected, warmUpLinked, warmedUp, warmUp));
    }

    /// <summary>
    /// New customers' contact-details-changed touchpoints (ids <c>idn-{run}-000000</c> on): 40 % show a seeded profile's
    /// e-mail, 20 % its phone, 10 % both (each of those 70 % must link), 30 % details nobody holds. Returns them and how many must link.
    /// </summary>
    private static (List<Item> Items, int ExpectedLinks) Items(string run, int count, int profiles, Random random)
    {
        var items = new List<Item>(count);
        var expected = 0;
        for (var k = 0; k < count; k++)
        {
            var (roll, seeded) = (random.Next(100), random.Next(profiles));
            var data = roll switch
            {
                < 40 => new JsonObject { ["email"] = EmailOf(seeded), ["phone"] = $"+44 7911 {random.Next(100_000, 999_999)}" },
                < 60 => new JsonObject { ["email"] = $"new{k}-{run}@ids.bench.example", ["phone"] = RawPhoneOf(seeded) },
                < 70 => new JsonObject { ["email"] = EmailOf(seeded).ToUpperInvariant(), ["phone"] = RawPhoneOf(seeded) },
                _ => new JsonObject { ["email"] = $"new{k}-{run}@ids.bench.example", ["phone"] = $"+44 7911 {random.Next(100_000, 999_999)}" },
            };
            expected += roll < 70 ? 1 : 0;
            items.Add(Dataset.Make($"idn-{run}-{k:000000}", "contact-details-changed", new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(k), $"idn-{run}-{k}", data));
        }

        return (items, expected);
    }

    /// <summary>Posts the batches at <paramref name="rate"/> touchpoints per second (up to 8 in flight); each must be appended whole.</summary>
    private static async Task PostAtRateAsync(Service service, List<List<Item>> batches, int batchSize, int rate)
    {
        var clock = Stopwatch.StartNew();
        var posts = new List<Task>();
        using var inFlight = new SemaphoreSlim(8);
        for (var i = 0; i < batches.Count; i++)
        {
            var due = TimeSpan.FromSeconds(i * batchSize / (double)rate);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed);
            }

            await inFlight.WaitAsync();
            var batch = batches[i];
            posts.Add(Task.Run(async () =>
            {
                try
                {
                    var result = await Workloads.IngestHttpAsync(service, [batch], 1);
                    if (result.Appended != batch.Count)
                    {
                        throw new InvalidOperationException($"{result.Appended} of {batch.Count} identity touchpoints appended.");
                    }
                }
                finally
                {
                    inFlight.Release();
                }
            }));
        }

        await Task.WhenAll(posts);
    }

    /// <summary>
    /// Links are made after the commit, through the outbox: waits until the run's <paramref name="expected"/> new customers
    /// are linked, or none was for 30 s. Returns how many are.
    /// </summary>
    private static async Task<int> WaitForLinksAsync(NpgsqlDataSource db, string schema, string run, int expected)
    {
        var (last, since) = (-1, Stopwatch.StartNew());
        while (true)
        {
            // Cheap while the resolver works (a range of the memberships' primary key), where a count of merge events would
            // scan mt_events and take CPU from what is measured: a new customer that now lives in another profile was linked.
            var linked = (int)(long)(await ScalarAsync(db, $"select count(*) from {schema}.mt_doc_profilemembership " +
                                                        $"where id between 'idn-{run}-000000' and 'idn-{run}-999999' and data->>'profileId' not like 'pf~idn-%'"))!;
            if (linked >= expected || since.Elapsed > TimeSpan.FromSeconds(30))
            {
                return linked;
            }

            if (linked != last)
            {
                (last, since) = (linked, Stopwatch.StartNew());
            }

            await Task.Delay(1_000);
        }
    }

    /// <summary>Starts the resolver's histograms afresh.</summary>
    private static async Task ClearAsync(Service service)
    {
        foreach (var instrument in new[] { IdentityMetrics.ResolutionDuration, IdentityMetrics.PassLookupDuration })
        {
            using var cleared = await service.Http.DeleteAsync($"/api/dev/metrics/{instrument}");
            if (cleared.StatusCode is not (HttpStatusCode.NoContent or HttpStatusCode.NotFound))
            {
                // Not cleared: the row would silently report every lookup since start again.
                throw new InvalidOperationException($"Clearing the histogram {instrument} answered {(int)cleared.StatusCode}.");
            }
        }
    }

    private static async Task<JsonObject?> MetricAsync(Service service, string instrument)
    {
        using var metric = await service.Http.GetAsync($"/api/dev/metrics/{instrument}");
        return metric.IsSuccessStatusCode ? await metric.Content.ReadFromJsonAsync<JsonObject>() : null;
    }

    /// <summary>
    /// The profiles' streams and events by binary COPY (as Marten's rich append would write them: versions 1..4, one
    /// block of the event sequence), their lookups by Marten's own bulk insert (COPY as well).
    /// </summary>
    private static async Task SeedAsync(NpgsqlDataSource db, string connectionString, string schema, int profiles, Action<string> say)
    {
        using var store = ServiceStore.For(connectionString, schema, o =>
        {
            o.Schema.For<ProfileMembership>();
            o.Schema.For<IdentifierHolder>().Index(h => h.Key);
            foreach (var type in CustomerJourney.Identity.Profile.EventTypes)
            {
                o.Events.AddEventType(type);
            }
        });
        var serializer = store.Options.Serializer();
        // Marten's names: the alias in mt_events.type, "<full name>, <assembly>" in mt_dotnet_type.
        static (string Name, string DotNet) Mapping(Type type) => (type.GetEventTypeName(), $"{type.FullName}, {type.Assembly.GetName().Name}");
        var (started, recorded) = (Mapping(typeof(ProfileStarted)), Mapping(typeof(ProfileIdentifierRecorded)));
        var index = new BlindIndex(Convert.FromBase64String(IdentityOptions.DevelopmentBlindIndexKey));
        var rules = IdentityRules.From(new IdentityOptions());
        for (var n = 0; n < Math.Min(profiles, 1_000); n += 97)
        {
            if (Identifiers.NormalisePhone(RawPhoneOf(n), rules.PhoneRegion) != PhoneOf(n) || Identifiers.NormaliseEmail(EmailOf(n).ToUpperInvariant()) != EmailOf(n))
            {
                throw new InvalidOperationException($"The seeded identifiers of {n} do not normalise as the service reads them.");
            }
        }

        var first = (long)(await ScalarAsync(db, $"select nextval('{schema}.mt_events_sequence')"))!;
        await ScalarAsync(db, $"select setval('{schema}.mt_events_sequence', {first + 4L * profiles})");
        const int chunk = 50_000;
        var at = DateTimeOffset.UtcNow;
        var chunks = Enumerable.Range(0, (profiles + chunk - 1) / chunk).ToList();
        var done = 0;
        await Parallel.ForEachAsync(chunks, new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (c, token) =>
        {
            var range = Enumerable.Range(c * chunk, Math.Min(chunk, profiles - c * chunk)).ToList();
            var memberships = new List<ProfileMembership>(range.Count);
            var holders = new List<IdentifierHolder>(range.Count * 3);
            await using var connection = await db.OpenConnectionAsync(token);
            await using var transaction = await connection.BeginTransactionAsync(token);
            await using (var streams = await connection.BeginBinaryImportAsync($"copy {schema}.mt_streams (id, version, timestamp, created) from stdin (format binary)", token))
            {
                foreach (var n in range)
                {
                    await streams.WriteRowAsync(token, ProfileIds.HomeOf(CustomerOf(n)), 4L, at, at);
                }

                await streams.CompleteAsync(token);
            }

            await using (var events = await connection.BeginBinaryImportAsync(
                             $"copy {schema}.mt_events (seq_id, id, stream_id, version, data, type, timestamp, mt_dotnet_type, user_name) from stdin (format binary)", token))
            {
                foreach (var n in range)
                {
                    var (customer, profile) = (CustomerOf(n), ProfileIds.HomeOf(CustomerOf(n)));
                    var seq = first + 4L * n;
                    Identifier[] identifiers =
                    [
                        index.Of(IdentifierType.CustomerId, customer), index.Of(IdentifierType.Email, EmailOf(n)), index.Of(IdentifierType.Phone, PhoneOf(n)),
                    ];
                    await WriteEventAsync(events, seq, profile, 1, serializer.ToJson(new ProfileStarted(profile, customer, at)), started, at, token);
                    for (var i = 0; i < identifiers.Length; i++)
                    {
                        var identifier = identifiers[i];
                        var e = new ProfileIdentifierRecorded(profile, customer, identifier.Type, identifier.BlindIndex, Guid.CreateVersion7(), at);
                        await WriteEventAsync(events, seq + 1 + i, profile, 2 + i, serializer.ToJson(e), recorded, at, token);
                        var key = IdentifierHolder.KeyOf(identifier);
                        holders.Add(new IdentifierHolder { Id = IdentifierHolder.IdOf(key, customer), Key = key, CustomerId = customer });
                    }

                    memberships.Add(new ProfileMembership { Id = customer, ProfileId = profile });
                }

                await events.CompleteAsync(token);
            }

            await transaction.CommitAsync(token);
            await store.BulkInsertDocumentsAsync(memberships, BulkInsertMode.InsertsOnly, batchSize: chunk, cancellation: token);
            await store.BulkInsertDocumentsAsync(holders, BulkInsertMode.InsertsOnly, batchSize: chunk, cancellation: token);
            var total = Interlocked.Add(ref done, range.Count);
            if (total % 200_000 < chunk)
            {
                say($"Identity: seeded {total:N0} of {profiles:N0} profiles");
            }
        });

        await ScalarAsync(db, $"analyze {schema}.mt_events; analyze {schema}.mt_streams; analyze {schema}.mt_doc_identifierholder; analyze {schema}.mt_doc_profilemembership");
    }

    private static async Task WriteEventAsync(NpgsqlBinaryImporter copy, long seq, string stream, long version, string json, (string Name, string DotNet) mapping, DateTimeOffset at,
        CancellationToken token)
    {
        await copy.StartRowAsync(token);
        await copy.WriteAsync(seq, NpgsqlDbType.Bigint, token);
        await copy.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid, token);
        await copy.WriteAsync(stream, NpgsqlDbType.Varchar, token);
        await copy.WriteAsync(version, NpgsqlDbType.Bigint, token);
        await copy.WriteAsync(json, NpgsqlDbType.Jsonb, token);
        await copy.WriteAsync(mapping.Name, NpgsqlDbType.Varchar, token);
        await copy.WriteAsync(at, NpgsqlDbType.TimestampTz, token);
        await copy.WriteAsync(mapping.DotNet, NpgsqlDbType.Varchar, token);
        await copy.WriteAsync(IdentityResolution.Resolver, NpgsqlDbType.Varchar, token);
    }

    /// <summary>Until every async shard has passed the highest event (the seeded block is in the store at once).</summary>
    private static async Task CatchUpAsync(NpgsqlDataSource db, string schema, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            var behind = (bool)(await ScalarAsync(db, $"select coalesce((select min(last_seq_id) from {schema}.mt_event_progression where name like '%:%'), 0) " +
                                                      $"< (select coalesce(max(seq_id), 0) from {schema}.mt_events)"))!;
            if (!behind)
            {
                return;
            }

            await Task.Delay(1_000);
        }
    }

    private static async Task<object?> ScalarAsync(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        command.CommandTimeout = 600;
        return await command.ExecuteScalarAsync();
    }
}
