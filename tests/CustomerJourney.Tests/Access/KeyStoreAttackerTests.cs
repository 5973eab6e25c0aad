using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CustomerJourney.Access;
using CustomerJourney.Tests.Faults;
using CustomerJourney.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace CustomerJourney.Tests.Access;

/// <summary>
/// Erasure as an attacker sees it, with a throw-away cluster whose data directory and WAL the test can read.
/// Attacker one holds the database (every table of every schema, pg_catalog and its statistics included, the data
/// files and the WAL); attacker two also holds the current key-encryption key. Neither may find anything that opens a
/// field of an erased customer: attacker two only once the KEK that wrapped the erased key has been rotated away.
/// </summary>
public sealed class KeyStoreAttackerTests(ITestOutputHelper output)
{
    private const string Schema = "attack";
    private const string KeyTable = Schema + "_keys.customer_keys";
    private static readonly CancellationToken Cancellation = TestContext.Current.CancellationToken;

    [Fact]
    public async Task After_erasure_and_rotation_no_copy_of_the_key_or_of_a_personal_value_opens_anything()
    {
        await using var cluster = await TemporaryCluster.CreateAsync();
        var keyDirectory = Directory.CreateTempSubdirectory("cj-kek-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(keyDirectory, "kek-00000001.kek"), Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), Cancellation);
            await using var service = new ServiceProcess(cluster.ConnectionString, Schema)
            {
                Settings = { ["KeyEncryption__Directory"] = keyDirectory, ["KeyEncryption__ReloadInterval"] = "00:00:01" },
            };
            await service.StartAsync("crm");

            var victim = Ids.Unique("victim");
            var bystander = Ids.Unique("bystander");
            // Two people: a shared phone number would link them into one profile, whose erasure must name both.
            var secrets = await RecordPersonalDataAsync(service, victim, "+44 20 7946 0958");
            var bystanderSecrets = await RecordPersonalDataAsync(service, bystander, "+44 20 7946 0959");
            await using var db = new NpgsqlConnection(cluster.ConnectionString);
            await db.OpenAsync(Cancellation);
            await Settle(db);

            var ring = new KeyEncryptionKeyRing(new KeyEncryptionOptions { Directory = keyDirectory, ReloadInterval = TimeSpan.FromSeconds(1) }, false, TimeProvider.System);
            var victimWrapped = await WrappedKeyOf(db, victim);
            var victimKey = ring.Unwrap(victim, victimWrapped);

            // Before erasure: nothing personal in clear anywhere, and no raw key at all, while the sealed values are there.
            var before = await ScanTablesAsync(db, [.. secrets, .. bystanderSecrets, .. Renderings(victimKey)]);
            Assert.Empty(before.Found);
            Assert.Empty(ScanFiles(cluster.DataDirectory, [victimKey, .. secrets.Select(Encoding.UTF8.GetBytes)]).Found);
            Assert.NotEmpty((await ScanTablesAsync(db, ["pd1:"])).Found);

            await EraseAsync(service, victim);
            await Settle(db);

            // Attacker one: the database only. No copy of the key, raw or wrapped, in any table or statistic; no raw key in any file.
            var tables = await ScanTablesAsync(db, [.. secrets, .. Renderings(victimKey), .. Renderings(victimWrapped.Sealed)]);
            Assert.Empty(tables.Found);
            var files = ScanFiles(cluster.DataDirectory, [victimKey]);
            Assert.Empty(files.Found);
            // The scan does see what is there: the bystander's wrapped key in its table, and (before rotation) the victim's
            // wrapped key in the WAL, which is the window attacker two has until the KEK is rotated.
            var bystanderWrapped = await WrappedKeyOf(db, bystander);
            Assert.NotEmpty((await ScanTablesAsync(db, Renderings(bystanderWrapped.Sealed))).Found);
            Assert.Contains(ScanFiles(cluster.DataDirectory, [victimWrapped.Sealed]).Found, f => f.Contains("pg_wal", StringComparison.Ordinal));

            // Attacker two: the current KEK too. Rotation re-wraps the living keys and destroys the KEK the victim's key was wrapped with.
            await using (var keyStoreSource = NpgsqlDataSource.Create(cluster.ConnectionString))
            {
                var keyStore = new PostgresKeyStore(keyStoreSource, Schema + "_keys", ring, NullLogger<PostgresKeyStore>.Instance);
                await KeyEncryptionKeyRotation.RunAsync(keyStore, ring, TimeSpan.FromSeconds(1), TextWriter.Null, Cancellation);
            }

            Assert.Single(Directory.GetFiles(keyDirectory));
            Assert.NotEqual(victimWrapped.KekId, ring.CurrentId);
            await Settle(db);
            var stolen = Directory.CreateDirectory(Path.Combine(keyDirectory, "stolen")).FullName;
            var currentKek = Directory.GetFiles(keyDirectory).Single();
            File.Copy(currentKek, Path.Combine(stolen, Path.GetFileName(currentKek)));
            var attackerTwo = new KeyEncryptionKeyRing(new KeyEncryptionOptions { Directory = stolen }, false, TimeProvider.System);
            var opened = TryUnwrapEverywhere(cluster.DataDirectory, attackerTwo, victim);
            Assert.Empty(opened.Opened);
            // The same brute force opens the bystander's key, re-wrapped by the current KEK: it would have found the victim's.
            Assert.NotEmpty(TryUnwrapEverywhere(cluster.DataDirectory, attackerTwo, bystander).Opened);
            Assert.Empty((await ScanTablesAsync(db, [.. secrets, .. Renderings(victimKey), .. Renderings(victimWrapped.Sealed)])).Found);

            output.WriteLine(
                $"scan: {tables.Tables} tables in {tables.Schemas} schemas ({tables.Rows} rows); {files.Files} files, {files.Bytes} bytes, " +
                $"of which WAL {files.WalBytes} bytes; attacker two tried {opened.Windows} windows with the current KEK");

            // The service still reads the bystander after the rotation, and the victim stays erased.
            var journey = await GetAsync(service, $"/api/customers/{bystander}/journey");
            Assert.Contains(bystanderSecrets[0], journey, StringComparison.Ordinal);
            var erased = await GetAsync(service, $"/api/customers/{victim}/journey");
            Assert.DoesNotContain(secrets[0], erased, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(keyDirectory, recursive: true);
        }
    }

    private static async Task<string[]> RecordPersonalDataAsync(ServiceProcess service, string customer, string phone)
    {
        var tag = Guid.NewGuid().ToString("N")[..10];
        string[] secrets = [$"Name-{tag}", $"mail-{tag}@example.com", $"Complaint-text-{tag}", $"Survey-comment-{tag}", $"Call-notes-{tag}"];
        JsonObject[] touchpoints =
        [
            TouchpointJson.Kind("contact-details-changed", new JsonObject { ["name"] = secrets[0], ["email"] = secrets[1], ["phone"] = phone }, source: "crm"),
            TouchpointJson.Kind("complaint-logged", new JsonObject
            {
                ["complaintId"] = Ids.Unique("case"), ["category"] = "delivery", ["severity"] = "low", ["description"] = secrets[2],
            }, source: "crm"),
            TouchpointJson.Kind("survey-answered", new JsonObject { ["csat"] = 2, ["comment"] = secrets[3] }, source: "crm"),
            TouchpointJson.Kind("follow-up-call", new JsonObject { ["outcome"] = "reached", ["satisfied"] = false, ["notes"] = secrets[4] }, source: "crm"),
        ];
        foreach (var touchpoint in touchpoints)
        {
            var (status, body, _) = await service.PostAsync($"/api/customers/{customer}/touchpoints", touchpoint.ToJsonString());
            Assert.True(status == 201, body);
        }

        return secrets;
    }

    private static async Task EraseAsync(ServiceProcess service, string customer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/customers/{customer}/erasure");
        request.Headers.Authorization = new("Bearer", await TokenAsync(service));
        using var response = await service.Http.SendAsync(request, Cancellation);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Cancellation));
    }

    private static async Task<string> GetAsync(ServiceProcess service, string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new("Bearer", await TokenAsync(service));
        using var response = await service.Http.SendAsync(request, Cancellation);
        var body = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.True(response.IsSuccessStatusCode, body);
        return body;
    }

    private static async Task<string> TokenAsync(ServiceProcess service)
    {
        using var token = await service.Http.PostAsJsonAsync("/api/dev/tokens", new { name = "attack-admin", roles = new[] { "admin", "agent" } }, Cancellation);
        return (await token.Content.ReadFromJsonAsync<JsonObject>(Cancellation))!["token"]!.GetValue<string>();
    }

    /// <summary>As an attacker would find the cluster: fresh planner statistics everywhere, and everything flushed to the data files.</summary>
    private static async Task Settle(NpgsqlConnection db)
    {
        await using var command = new NpgsqlCommand("analyze; checkpoint;", db);
        await command.ExecuteNonQueryAsync(Cancellation);
    }

    private static async Task<WrappedKey> WrappedKeyOf(NpgsqlConnection db, string customer)
    {
        await using var command = new NpgsqlCommand($"select kek_id, wrapped_key from {KeyTable} where customer_id = $1", db) { Parameters = { new() { Value = customer } } };
        await using var reader = await command.ExecuteReaderAsync(Cancellation);
        Assert.True(await reader.ReadAsync(Cancellation), $"no key row for {customer}");
        return new WrappedKey(reader.GetString(0), (byte[])reader[1]);
    }

    /// <summary>How bytes can show up when a table is read as text: hex (bytea), base64 (JSON, text).</summary>
    private static string[] Renderings(byte[] bytes) => [Convert.ToHexStringLower(bytes), Convert.ToBase64String(bytes)];

    private sealed record TableScan(int Schemas, int Tables, long Rows, List<string> Found);

    /// <summary>Every table, TOAST table and materialised view of every schema, each row read as text, searched for each needle.</summary>
    private static async Task<TableScan> ScanTablesAsync(NpgsqlConnection db, IReadOnlyList<string> needles)
    {
        var relations = new List<(string Schema, string Name, bool Toast)>();
        await using (var list = new NpgsqlCommand(
                         "select n.nspname, c.relname, c.relkind = 't' from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r', 'm', 't')", db))
        await using (var reader = await list.ExecuteReaderAsync(Cancellation))
        {
            while (await reader.ReadAsync(Cancellation))
            {
                relations.Add((reader.GetString(0), reader.GetString(1), reader.GetBoolean(2)));
            }
        }

        var found = new List<string>();
        var rows = 0L;
        var patterns = needles.Select(n => "%" + n + "%").ToArray();
        foreach (var (schema, name, toast) in relations)
        {
            var table = $"\"{schema}\".\"{name}\"";
            // A TOAST table has no row type: its chunks are read as they are.
            var row = toast ? "t.chunk_data::text" : "t::text";
            await using var scan = new NpgsqlCommand(
                $"select count(*), count(*) filter (where lower({row}) like any (select lower(p) from unnest($1::text[]) p)) from {table} t", db)
            {
                Parameters = { new() { Value = patterns } },
            };
            await using var reader = await scan.ExecuteReaderAsync(Cancellation);
            await reader.ReadAsync(Cancellation);
            rows += reader.GetInt64(0);
            if (reader.GetInt64(1) > 0)
            {
                found.Add(table);
            }
        }

        return new TableScan(relations.Select(r => r.Schema).Distinct().Count(), relations.Count, rows, found);
    }

    private sealed record FileScan(int Files, long Bytes, long WalBytes, List<string> Found);

    /// <summary>Every file of the data directory (heap, indexes, free-space maps, pg_wal, pg_xact ...) searched byte for byte.</summary>
    private static FileScan ScanFiles(string dataDirectory, IReadOnlyList<byte[]> needles)
    {
        var found = new List<string>();
        var (files, bytes, wal) = (0, 0L, 0L);
        foreach (var (file, content) in DataFiles(dataDirectory))
        {
            files++;
            bytes += content.Length;
            wal += file.Contains("pg_wal", StringComparison.Ordinal) ? content.Length : 0;
            if (needles.Any(n => content.AsSpan().IndexOf(n) >= 0))
            {
                found.Add(file);
            }
        }

        return new FileScan(files, bytes, wal, found);
    }

    /// <summary>
    /// Every file of the data directory and its bytes, but the server's Unix socket (the test cluster keeps it there) and
    /// files the running server removed between listing and reading (e.g. pg_internal.init, recycled WAL).
    /// </summary>
    private static IEnumerable<(string File, byte[] Content)> DataFiles(string dataDirectory)
    {
        foreach (var file in Directory.EnumerateFiles(dataDirectory, "*", SearchOption.AllDirectories)
                     .Where(f => !Path.GetFileName(f).StartsWith(".s.PGSQL.", StringComparison.Ordinal)))
        {
            byte[] content;
            try
            {
                content = File.ReadAllBytes(file);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException && !File.Exists(file))
            {
                continue;
            }

            yield return (file, content);
        }
    }

    private sealed record BruteForce(long Windows, List<string> Opened);

    /// <summary>
    /// Attacker two's brute force: every 60-byte window of every file (a wrapped key's length) that PostgreSQL could have
    /// stored as a bytea value (behind the one-byte length header 0x7B of a 60-byte value, in heap pages and WAL records
    /// alike), unwrapped with the KEK for the customer; any window that opens is a surviving copy of their key.
    /// </summary>
    private static BruteForce TryUnwrapEverywhere(string dataDirectory, KeyEncryptionKeyRing kek, string customer)
    {
        const int wrappedLength = 12 + 16 + 32;
        const byte shortVarlenaHeader = ((wrappedLength + 1) << 1) | 1;
        var opened = new List<string>();
        var windows = 0L;
        var wrapped = new WrappedKey(kek.CurrentId, new byte[wrappedLength]);
        foreach (var (file, content) in DataFiles(dataDirectory))
        {
            for (var offset = 1; offset + wrappedLength <= content.Length; offset++)
            {
                if (content[offset - 1] != shortVarlenaHeader)
                {
                    continue;
                }

                windows++;
                content.AsSpan(offset, wrappedLength).CopyTo(wrapped.Sealed);
                try
                {
                    kek.Unwrap(customer, wrapped);
                    opened.Add($"{file}@{offset}");
                }
                catch (AuthenticationTagMismatchException)
                {
                    // Not a wrapped key of this customer under this KEK.
                }
            }
        }

        return new BruteForce(windows, opened);
    }
}
