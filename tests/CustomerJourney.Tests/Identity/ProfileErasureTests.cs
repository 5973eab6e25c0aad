using System.Globalization;
using System.Text.Json.Nodes;
using CustomerJourney.Identity;
using CustomerJourney.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CustomerJourney.Tests.Identity;

/// <summary>Erasure of a member erases its whole profile as it stands, and refuses a request that names another membership.</summary>
public sealed class ProfileErasureTests(AppFixture app)
{
    // Resolution runs after the commit, through a durable local queue the whole host shares: while another test class
    // loads the CDNOW demo, that queue can be tens of seconds behind. The waits end as soon as the link is there.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);
    private static readonly DateTimeOffset May = DateTimeOffset.Parse("2024-05-01T10:00:00Z", CultureInfo.InvariantCulture);

    private Credentials Admin => Credentials.Token(app.Token("admin-ada", "admin"));

    private Credentials Supervisor => Credentials.Token(app.Token("sam", "supervisor"));

    private Task<Answer> Merge(string first, string second) => app.Send(HttpMethod.Post, "/api/profiles/merges",
        new JsonObject { ["profiles"] = new JsonArray(first, second) }.ToJsonString(), "application/json", Supervisor);

    private static string UniqueEmail() => $"Erasable.{Guid.NewGuid():N}@Example.org";

    /// <summary>A valid US number no other test uses (area code 650, exchange 220-549).</summary>
    private static string UniquePhone() => $"(650) {Random.Shared.Next(220, 550)}-{Random.Shared.Next(0, 10_000):D4}";

    private Task<Answer> ContactDetails(string customer, DateTimeOffset at, string? email = null, string? phone = null)
    {
        var data = new JsonObject();
        if (email is not null)
        {
            data["email"] = email;
        }

        if (phone is not null)
        {
            data["phone"] = phone;
        }

        return app.PostTouchpoint(customer, TouchpointJson.Kind("contact-details-changed", data, occurredAt: at));
    }

    /// <summary>Erasure naming these members; naming none sends no body.</summary>
    private Task<Answer> Erase(string customer, params string[] members) => EraseWith(customer,
        members.Length == 0 ? null : new JsonObject { ["members"] = new JsonArray([.. members.Select(m => JsonValue.Create(m))]) }.ToJsonString());

    private Task<Answer> EraseWith(string customer, string? body) =>
        app.Send(HttpMethod.Post, $"/api/customers/{customer}/erasure", body, body is null ? null : "application/json", Admin);

    private static string[] Members(Answer profile) =>
        [.. profile.Body!["members"]!.AsArray().Select(m => m!["customerId"]!.GetValue<string>()).Order(StringComparer.Ordinal)];

    private Task<Answer> UntilMembers(string id, params string[] members) => Waiting.For(() => app.Get($"/api/profiles/{id}"),
        p => p.Status == 200 && Members(p).SequenceEqual(members.Order(StringComparer.Ordinal)) && p.Body!["identifiers"]!.AsArray().Count > 0,
        Patience, $"profile of {id} with members {string.Join(", ", members)}");

    /// <summary>Three customers linked by e-mail (web–phone) and phone (phone–survey): one profile.</summary>
    private async Task<(string Web, string Phone, string Survey, string Email)> ProfileOfThree()
    {
        var (email, phone) = (UniqueEmail(), UniquePhone());
        var (web, call, survey) = (Ids.Customer("erase-web"), Ids.Customer("erase-call"), Ids.Customer("erase-survey"));
        Assert.Equal(201, (await ContactDetails(web, May, email: email)).Status);
        await UntilMembers(web, web);
        Assert.Equal(201, (await ContactDetails(call, May.AddDays(1), email: email.ToLowerInvariant(), phone: phone)).Status);
        await UntilMembers(call, web, call);
        Assert.Equal(201, (await ContactDetails(survey, May.AddDays(2), phone: "+1 " + phone)).Status);
        await UntilMembers(survey, web, call, survey);
        return (web, call, survey, email);
    }

    private static async Task<long> Count(string sql, string[] customers)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var count = new NpgsqlCommand(sql, connection);
        count.Parameters.Add(new NpgsqlParameter { Value = customers });
        return (long)(await count.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    private Task<long> KeysOf(params string[] customers) =>
        Count($"select count(wrapped_key) from {app.Schema}_keys.customer_keys where customer_id = any($1)", customers);

    private Task<long> HoldersOf(params string[] customers) =>
        Count($"select count(*) from {app.Schema}.mt_doc_identifierholder where data ->> 'customerId' = any($1)", customers);

    [Fact]
    public async Task The_customer_endpoints_say_which_profile_the_customer_belongs_to()
    {
        var (web, call, survey, _) = await ProfileOfThree();
        var loner = Ids.Customer("erase-loner");
        Assert.Equal(201, (await app.PostTouchpoint(loner, TouchpointJson.Purchase())).Status);

        Assert.Equal($"pf~{web}", (await app.Get($"/api/customers/{survey}")).Body!["profileId"]!.GetValue<string>());
        Assert.Equal($"pf~{web}", (await app.Get($"/api/customers/{call}")).Body!["profileId"]!.GetValue<string>());
        Assert.Equal($"pf~{loner}", (await app.Get($"/api/customers/{loner}")).Body!["profileId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Erasure_naming_all_three_members_erases_all_of_them_and_the_same_email_later_starts_a_fresh_profile()
    {
        var (web, call, survey, email) = await ProfileOfThree();
        Assert.Equal(3, await KeysOf(web, call, survey));
        Assert.True(await HoldersOf(web, call, survey) >= 4);

        var erased = await Erase(call, survey, web, call);

        Assert.Equal(200, erased.Status);
        Assert.Equal($"pf~{web}", erased.Body!["profileId"]!.GetValue<string>());
        Assert.Equal([call, survey, web], erased.Body!["members"]!.AsArray().Select(m => m!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.False(erased.Body!["alreadyErased"]!.GetValue<bool>());
        foreach (var member in new[] { web, call, survey })
        {
            var journey = await app.Get($"/api/customers/{member}/journey");
            Assert.Equal("user:admin-ada", journey.Body!["erasure"]!["erasedBy"]!.GetValue<string>());
            var details = journey.Body!["entries"]!.AsArray().Single(e => e!["kind"]!.GetValue<string>() == "contact-details-changed")!;
            Assert.All(details["data"]!.AsObject().Where(p => p.Key is "email" or "phone" && p.Value is not null),
                p => Assert.Equal("[erased]", p.Value!.GetValue<string>()));
            Assert.Equal(410, (await app.PostTouchpoint(member, TouchpointJson.Purchase())).Status);
        }

        Assert.Equal(0, await KeysOf(web, call, survey));
        Assert.Equal(0, await HoldersOf(web, call, survey));
        Assert.Equal(0, await Count($"select count(*) from {app.Schema}.mt_doc_profilemembership where id = any($1)", [web, call, survey]));
        var profile = await app.Get($"/api/profiles/{web}");
        Assert.All(profile.Body!["identifiers"]!.AsArray().Where(i => i!["type"]!.GetValue<string>() != "customer-id"),
            i => Assert.Equal("[erased]", i!["value"]!.GetValue<string>()));
        Assert.True((await Erase(survey, web, call, survey)).Body!["alreadyErased"]!.GetValue<bool>());

        var newcomer = Ids.Customer("erase-newcomer");
        Assert.Equal(201, (await ContactDetails(newcomer, May.AddDays(3), email: email)).Status);
        var fresh = await UntilMembers(newcomer, newcomer);
        Assert.Equal($"pf~{newcomer}", fresh.Body!["profileId"]!.GetValue<string>());
        Assert.Empty(fresh.Body!["links"]!.AsArray());
        Assert.Equal(3, Members(await app.Get($"/api/profiles/{web}")).Length);
        var handMerge = await Merge(newcomer, call);
        Assert.Equal((409, "profile-erased"), (handMerge.Status, handMerge.Body!["rule"]!.GetValue<string>()));
    }

    /// <summary>The stored JSON of every event of the members' profile streams (each member's home profile is "pf~" and its id).</summary>
    private Task<IReadOnlyList<string>> ProfileEventRows(params string[] members) =>
        Strings($"select data::text from {app.Schema}.mt_events where stream_id like 'pf~%' and stream_id = any($1)", [.. members.Select(m => $"pf~{m}")]);

    [Fact]
    public async Task The_profile_events_hold_no_blind_index_in_clear_before_or_after_the_erasure()
    {
        var (web, call, survey, email) = await ProfileOfThree();
        // Every blind index the members hold, as the lookups keep it for matching, and the e-mail's as the service computes it.
        var keys = await Strings($"select data ->> 'key' from {app.Schema}.mt_doc_identifierholder where data ->> 'customerId' = any($1)", [web, call, survey]);
        var emailIndex = app.Host.Services.GetRequiredService<BlindIndex>().Of(IdentifierType.Email, email.ToLowerInvariant()).BlindIndex;
        var blindIndexes = keys.Select(k => k[(k.IndexOf(':', StringComparison.Ordinal) + 1)..]).Append(emailIndex).Distinct().ToList();
        Assert.True(blindIndexes.Count >= 5, $"expected the members' ids, the e-mail and the phone, found {blindIndexes.Count}");
        Assert.All(blindIndexes, b => Assert.Matches("^[0-9a-f]{64}$", b));

        var before = await ProfileEventRows(web, call, survey);
        // Identifiers recorded on three streams, two merges carrying their links and contents: all sealed.
        Assert.Equal(2, before.Count(r => r.Contains("\"merged\"", StringComparison.Ordinal)));
        Assert.True(before.Count(r => r.Contains("\"pd1:", StringComparison.Ordinal)) >= 5, string.Join("\n", before));
        Assert.All(blindIndexes, b => Assert.DoesNotContain(before, r => r.Contains(b, StringComparison.Ordinal)));
        var shown = await app.Get($"/api/profiles/{web}");
        Assert.Contains(shown.Body!["identifiers"]!.AsArray(), i => i!["value"]!.GetValue<string>() == emailIndex);
        Assert.Contains(shown.Body!["links"]!.AsArray(), l => l!["identifier"]?.GetValue<string>() == emailIndex);

        Assert.Equal(200, (await Erase(web, web, call, survey)).Status);

        var after = await ProfileEventRows(web, call, survey);
        Assert.True(after.Count > before.Count);
        Assert.All(blindIndexes, b => Assert.DoesNotContain(after, r => r.Contains(b, StringComparison.Ordinal)));
        var erased = await app.Get($"/api/profiles/{web}");
        Assert.All(erased.Body!["identifiers"]!.AsArray(), i => Assert.Equal("[erased]", i!["value"]!.GetValue<string>()));
        Assert.All(erased.Body!["links"]!.AsArray(), l => Assert.Equal("[erased]", l!["identifier"]!.GetValue<string>()));
    }

    private static async Task<IReadOnlyList<string>> Strings(string sql, string[] customers)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var select = new NpgsqlCommand(sql, connection);
        select.Parameters.Add(new NpgsqlParameter { Value = customers });
        var values = new List<string>();
        await using var reader = await select.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    [Fact]
    public async Task Erasure_naming_a_stale_membership_answers_409_with_the_current_members_and_erases_nothing()
    {
        var (web, call, survey, _) = await ProfileOfThree();

        // The person looked before the survey customer was linked; and a request that names no members for a shared profile.
        var stale = await Erase(web, web, call);
        var unnamed = await Erase(survey);

        Assert.Equal((409, "application/problem+json"), (stale.Status, stale.ContentType));
        Assert.Equal("membership-changed", stale.Body!["rule"]!.GetValue<string>());
        Assert.Equal($"pf~{web}", stale.Body!["profileId"]!.GetValue<string>());
        Assert.Equal([call, survey, web], stale.Body!["members"]!.AsArray().Select(m => m!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Equal(409, unnamed.Status);
        Assert.Equal("membership-changed", unnamed.Body!["rule"]!.GetValue<string>());
        Assert.Equal(3, await KeysOf(web, call, survey));
        Assert.True(await HoldersOf(web, call, survey) >= 4);
        foreach (var member in new[] { web, call, survey })
        {
            Assert.Null((await app.Get($"/api/customers/{member}/journey")).Body!["erasure"]);
            Assert.Equal(201, (await app.PostTouchpoint(member, TouchpointJson.Purchase())).Status);
        }
    }

    [Fact]
    public async Task A_malformed_member_list_is_a_problem_naming_the_field()
    {
        var customer = Ids.Customer("erase-bad");
        Assert.Equal(201, (await app.PostTouchpoint(customer, TouchpointJson.Purchase())).Status);

        var badId = await Erase(customer, customer, "not valid");
        var empty = await EraseWith(customer, "{\"members\": []}");
        var notJson = await EraseWith(customer, "{\"members\": ");

        Assert.Equal(400, badId.Status);
        Assert.NotNull(badId.Body!["errors"]!["members[1]"]);
        Assert.Equal(400, empty.Status);
        Assert.NotNull(empty.Body!["errors"]!["members"]);
        Assert.Equal(400, notJson.Status);
        Assert.NotNull(notJson.Body!["errors"]!["members"]);
        Assert.Equal(1, await KeysOf(customer));
    }

    [Fact]
    public async Task An_erasure_and_a_merge_of_the_same_profile_take_turns_and_never_erase_a_member_the_request_did_not_name()
    {
        var (web, call, survey, _) = await ProfileOfThree();
        var other = Ids.Customer("erase-other");
        Assert.Equal(201, (await app.PostTouchpoint(other, TouchpointJson.Purchase())).Status);

        var erasing = Task.Run(() => Erase(web, web, call, survey));
        var merging = Task.Run(() => Merge(other, web));
        var (erased, merged) = (await erasing, await merging);

        if (erased.Status == 200)
        {
            // The erasure came first: the merge finds an erased profile.
            Assert.Equal((409, "profile-erased"), (merged.Status, merged.Body!["rule"]!.GetValue<string>()));
            Assert.Equal(0, await KeysOf(web, call, survey));
        }
        else
        {
            // The merge came first: the erasure names a membership that changed, and erases nobody.
            Assert.Equal((409, 200), (erased.Status, merged.Status));
            Assert.Equal([call, other, survey, web], erased.Body!["members"]!.AsArray().Select(m => m!.GetValue<string>()).Order(StringComparer.Ordinal));
            Assert.Equal(3, await KeysOf(web, call, survey));
        }

        Assert.Equal(1, await KeysOf(other));
    }
}
