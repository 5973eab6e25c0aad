using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using CustomerJourney.Access;
using CustomerJourney.Tests.Complaints;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CustomerJourney.Tests.Access;

/// <summary>
/// A sealed field damaged in storage (disk, bad restore) reads as [unreadable], never as [erased] and never as a 500;
/// operators hear of it once per event and in a counter.
/// </summary>
public sealed class UnreadablePersonalDataTests(AppFixture app)
{
    /// <summary>Keys in memory: the customer "kept" has one, "erased" had theirs destroyed.</summary>
    private sealed class Keys : IPersonalDataKeyStore
    {
        private readonly Dictionary<string, byte[]?> _keys = new(StringComparer.Ordinal)
        {
            ["kept"] = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32),
            ["other"] = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32),
            ["erased"] = null,
        };

        public Task<IReadOnlyDictionary<string, byte[]?>> GetKeysAsync(IReadOnlyCollection<string> customerIds, CancellationToken cancellation) =>
            Task.FromResult<IReadOnlyDictionary<string, byte[]?>>(customerIds.Where(_keys.ContainsKey).ToDictionary(c => c, c => _keys[c], StringComparer.Ordinal));

        public Task<IReadOnlyDictionary<string, byte[]?>> AddKeysAsync(IReadOnlyDictionary<string, byte[]> keys, CancellationToken cancellation) =>
            throw new NotSupportedException();

        public Task DestroyKeyAsync(string customerId, CancellationToken cancellation) => throw new NotSupportedException();
    }

    private static async Task<IPersonalDataCipher> Cipher() =>
        await new EncryptedPersonalData(new Keys()).ForCustomersAsync(["kept", "other", "erased", "keyless"], forWriting: false, CancellationToken.None);

    /// <summary>Flips one character of the base64 inside, so the text still decodes but the tag no longer verifies.</summary>
    private static string Flip(string sealedText, int at) =>
        sealedText[..at] + (sealedText[at] == 'A' ? 'B' : 'A') + sealedText[(at + 1)..];

    public static TheoryData<string> Damages => new("bad-base64", "too-short", "changed-byte", "other-customers", "no-prefix", "no-key");

    [Theory]
    [MemberData(nameof(Damages))]
    public async Task Damaged_ciphertext_opens_as_unreadable_not_erased(string damage)
    {
        var cipher = await Cipher();
        var stored = cipher.Seal("kept", "My parcel is late");
        var (customer, text) = damage switch
        {
            "bad-base64" => ("kept", "pd1:not*base64!"),
            "too-short" => ("kept", "pd1:" + Convert.ToBase64String(new byte[20])),
            "changed-byte" => ("kept", Flip(stored, 10)),
            "other-customers" => ("kept", cipher.Seal("other", "My parcel is late")),
            "no-prefix" => ("kept", "My parcel is late"),
            _ => ("keyless", stored),
        };
        var reported = 0;

        var opened = cipher.Open(customer, text);

        Assert.Equal(OpenedState.Unreadable, opened.State);
        Assert.Null(opened.Plaintext);
        Assert.Equal(PersonalFields.Unreadable, PersonalFields.Show(cipher, customer, text, mayReadPersonalData: true, () => reported++));
        Assert.Equal(1, reported);
    }

    [Fact]
    public async Task Sound_ciphertext_opens_and_an_erased_customer_reads_as_erased_for_every_reader()
    {
        var cipher = await Cipher();
        var stored = cipher.Seal("kept", "My parcel is late");
        var reported = 0;

        Assert.Equal(OpenedField.Of("My parcel is late"), cipher.Open("kept", stored));
        Assert.Equal(OpenedField.Erased, cipher.Open("erased", stored));
        Assert.Equal("My parcel is late", PersonalFields.Show(cipher, "kept", stored, mayReadPersonalData: true, () => reported++));
        Assert.Equal(PersonalFields.Redacted, PersonalFields.Show(cipher, "kept", "pd1:damaged", mayReadPersonalData: false, () => reported++));
        Assert.Equal(PersonalFields.Erased, PersonalFields.Show(cipher, "erased", stored, mayReadPersonalData: true, () => reported++));
        Assert.Equal(PersonalFields.Erased, PersonalFields.Show(cipher, "erased", stored, mayReadPersonalData: false, () => reported++));
        Assert.Equal(0, reported);
    }

    [Fact]
    public async Task A_damaged_field_reads_as_unreadable_on_every_view_is_logged_once_and_counted()
    {
        var customer = Ids.Customer("damaged");
        var complaintId = Ids.Unique("k");
        var email = $"d{Guid.NewGuid():N}@example.com";
        var version = (await app.Log(customer, complaintId)).Version();
        Assert.Equal(2, (await app.Step(complaintId, "apologize", version, new JsonObject { ["by"] = "Ann", ["wording"] = "We are sorry" })).Version());
        Assert.Equal(1, (await app.PostTouchpoint(customer, TouchpointJson.Kind("contact-details-changed", new JsonObject { ["email"] = email }))).Body.Int("appended"));
        var (sequence, damaged) = await DamageDescription(complaintId);

        var factory = app.Host.Services.GetRequiredService<IMeterFactory>();
        var counted = new ConcurrentBag<(long Value, object? Kind)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == factory && instrument.Name == "customerjourney.personal_data.unreadable")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) => counted.Add((value, tags.ToArray().Single(t => t.Key == "kind").Value)));
        listener.Start();

        var journey = await app.Get($"/api/customers/{customer}/journey");
        var summary = await app.Get($"/api/customers/{customer}");
        var view = await app.Get($"/api/complaints/{complaintId}");
        var audit = await app.Get($"/api/complaints/{complaintId}/audit", app.As("auditor"));
        var export = await app.Get($"/api/customers/{customer}/export", app.As("admin"));

        Assert.Equal((200, 200, 200, 200, 200), (journey.Status, summary.Status, view.Status, audit.Status, export.Status));
        JsonNode Data(JsonNode answer, string list, string kindField, string kind) =>
            answer[list]!.AsArray().Single(e => e![kindField]!.GetValue<string>() == kind)!["data"]!;
        Assert.Equal("[unreadable]", Data(journey.Body!, "entries", "kind", "complaint-logged")["description"]!.GetValue<string>());
        Assert.Equal("We are sorry", Data(journey.Body!, "entries", "kind", "apology-issued")["wording"]!.GetValue<string>());
        Assert.Equal(email, Data(journey.Body!, "entries", "kind", "contact-details-changed")["email"]!.GetValue<string>());
        Assert.Equal("[unreadable]", Data(audit.Body!, "entries", "type", "complaint_logged")["description"]!.GetValue<string>());
        Assert.Equal("We are sorry", Data(audit.Body!, "entries", "type", "apology_issued")["wording"]!.GetValue<string>());
        Assert.Equal("[unreadable]", Data(export.Body!, "events", "kind", "complaint-logged")["description"]!.GetValue<string>());
        Assert.Equal(email, Data(export.Body!, "events", "kind", "contact-details-changed")["email"]!.GetValue<string>());
        Assert.Equal(complaintId, view.Body!["case"]!["complaintId"]!.GetValue<string>());
        Assert.Equal(3, summary.Body.Int("touchpointCount"));

        // Journey, audit trail and export each showed the one damaged field once.
        Assert.Equal(3, counted.Count);
        Assert.All(counted, c => Assert.Equal((1L, "complaint-logged"), (c.Value, c.Kind)));
        var warnings = app.Logs.Messages.Where(m => m.Contains($"event {sequence} (complaint-logged)", StringComparison.Ordinal)).ToList();
        Assert.Single(warnings);
        Assert.StartsWith("Warning", warnings[0], StringComparison.Ordinal);
        Assert.DoesNotContain(app.Logs.Messages, m => m.Contains(damaged[4..], StringComparison.Ordinal));
    }

    /// <summary>Changes one character of the stored complaint description, as a damaged disk block would; returns the event's sequence and the new text.</summary>
    private async Task<(long Sequence, string Damaged)> DamageDescription(string complaintId)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        long sequence;
        string stored;
        await using (var read = new NpgsqlCommand(
                         $"select seq_id, data ->> 'description' from {app.Schema}.mt_events where stream_id = @stream and type = 'complaint_logged'", connection))
        {
            read.Parameters.AddWithValue("stream", $"complaint/{complaintId}");
            await using var reader = await read.ExecuteReaderAsync(TestContext.Current.CancellationToken);
            Assert.True(await reader.ReadAsync(TestContext.Current.CancellationToken));
            (sequence, stored) = (reader.GetInt64(0), reader.GetString(1));
        }

        Assert.StartsWith("pd1:", stored, StringComparison.Ordinal);
        var damaged = Flip(stored, stored.Length / 2);
        await using var write = new NpgsqlCommand(
            $"update {app.Schema}.mt_events set data = jsonb_set(data, '{{description}}', to_jsonb(@text::text)) where seq_id = @seq", connection);
        write.Parameters.AddWithValue("text", damaged);
        write.Parameters.AddWithValue("seq", sequence);
        Assert.Equal(1, await write.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));
        return (sequence, damaged);
    }
}
