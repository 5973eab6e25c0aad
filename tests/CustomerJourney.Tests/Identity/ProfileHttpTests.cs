using System.Globalization;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;
using CustomerJourney.Tests.Tracking;

namespace CustomerJourney.Tests.Identity;

/// <summary>Identity resolution over HTTP: touchpoints link their customers into profiles, a wrong merge is split, and the graph replays as of any record time.</summary>
public sealed class ProfileHttpTests(AppFixture app)
{
    // Resolution runs after the commit, through a durable local queue the whole host shares: while another test class
    // loads the CDNOW demo, that queue can be tens of seconds behind. The waits end as soon as the link is there.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);
    private static readonly DateTimeOffset May = DateTimeOffset.Parse("2024-05-01T10:00:00Z", CultureInfo.InvariantCulture);

    private Credentials Supervisor => Credentials.Token(app.Token("sam", "supervisor"));

    private static string UniqueEmail() => $"Person.{Guid.NewGuid():N}@Example.org";

    /// <summary>A valid US number no other test uses (area code 650, exchange 220-549).</summary>
    private static string UniquePhone() => $"(650) {Random.Shared.Next(220, 550)}-{Random.Shared.Next(0, 10_000):D4}";

    private Task<Answer> ContactDetails(string customer, DateTimeOffset at, string source, string channel, string? email = null, string? phone = null)
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

        return app.PostTouchpoint(customer, TouchpointJson.Kind("contact-details-changed", data, occurredAt: at, source: source, channel: channel));
    }

    /// <summary>The journey's touchpoint entries (member, kind), leaving out the graph's own merge and split entries.</summary>
    private static IEnumerable<(string Member, string Kind)> Touchpoints(Answer journey) =>
        journey.Body!["entries"]!.AsArray().Where(e => e!["source"]!.GetValue<string>() != "identity")
            .Select(e => (e!["member"]!.GetValue<string>(), e["kind"]!.GetValue<string>()));

    private static string[] GraphKinds(Answer journey) =>
        [.. journey.Body!["entries"]!.AsArray().Where(e => e!["source"]!.GetValue<string>() == "identity").Select(e => e!["kind"]!.GetValue<string>())];

    private Task<Answer> Profile(string id, string query = "", Credentials? as_ = null) => app.Get($"/api/profiles/{Uri.EscapeDataString(id)}{query}", as_);

    private static string[] Members(Answer profile) =>
        [.. profile.Body!["members"]!.AsArray().Select(m => m!["customerId"]!.GetValue<string>()).Order(StringComparer.Ordinal)];

    /// <summary>Reads the profile until it has exactly these members (the resolver runs right after the ingest commits).</summary>
    private Task<Answer> UntilMembers(string id, params string[] members) => Waiting.For(() => Profile(id),
        p => p.Status == 200 && Members(p).SequenceEqual(members.Order(StringComparer.Ordinal)) && p.Body!["identifiers"]!.AsArray().Count > 0,
        Patience, $"profile of {id} with members {string.Join(", ", members)}");

    [Fact]
    public async Task A_person_seen_on_web_phone_and_email_under_three_ids_becomes_one_profile_with_the_evidence_of_each_link()
    {
        var email = UniqueEmail();
        var phone = UniquePhone();
        var web = Ids.Customer("web");
        var callCentre = Ids.Customer("phone");
        var survey = Ids.Customer("survey");

        var identify = new JsonObject
        {
            ["type"] = "identify",
            ["anonymousId"] = web,
            ["traits"] = new JsonObject { ["email"] = email.ToUpperInvariant() },
            ["messageId"] = Ids.Unique("msg"),
            ["timestamp"] = May.ToString("O"),
        };
        Assert.Equal(200, (await app.PostV1("/v1/identify", identify)).Status);
        await UntilMembers(web, web);
        Assert.Equal(201, (await ContactDetails(callCentre, May.AddDays(1), "call-centre", "phone", email: email.ToLowerInvariant(), phone: phone)).Status);
        await UntilMembers(callCentre, web, callCentre);
        Assert.Equal(201, (await ContactDetails(survey, May.AddDays(2), "survey-tool", "email", phone: "+1 " + phone)).Status);

        var profile = await UntilMembers(survey, web, callCentre, survey);

        Assert.Equal($"pf~{web}", profile.Body!["profileId"]!.GetValue<string>());
        var links = profile.Body!["links"]!.AsArray();
        Assert.Equal(["shared-email", "shared-phone"], links.Select(l => l!["rule"]!.GetValue<string>()));
        Assert.All(links, l => Assert.Equal("identity-resolution", l!["decidedBy"]!.GetValue<string>()));
        Assert.Equal([callCentre, web], links[0]!["evidence"]!.AsArray().Select(e => e!["customerId"]!.GetValue<string>()));
        Assert.Equal([survey, callCentre], links[1]!["evidence"]!.AsArray().Select(e => e!["customerId"]!.GetValue<string>()));
        Assert.All(links.SelectMany(l => l!["evidence"]!.AsArray()), e => Assert.NotEqual(Guid.Empty, e!["touchpointId"]!.GetValue<Guid>()));
        Assert.All(links, l => Assert.Matches("^[0-9a-f]{64}$", l!["identifier"]!.GetValue<string>()));

        // Any member's customer id, or the profile id, finds the same profile; nothing personal is shown in clear.
        Assert.Equal(profile.Body.ToJsonString(), (await Profile($"pf~{web}")).Body!.ToJsonString());
        Assert.DoesNotContain(email.ToLowerInvariant(), profile.Body.ToJsonString(), StringComparison.Ordinal);
        var analystView = await Profile(web, as_: Credentials.Token(app.Token("ana", "analyst")));
        Assert.All(analystView.Body!["identifiers"]!.AsArray().Where(i => i!["type"]!.GetValue<string>() != "customer-id"),
            i => Assert.Equal("[redacted]", i!["value"]!.GetValue<string>()));
        Assert.All(analystView.Body!["links"]!.AsArray(), l => Assert.Equal("[redacted]", l!["identifier"]!.GetValue<string>()));

        var journey = await app.Get($"/api/profiles/{survey}/journey");
        Assert.Equal(200, journey.Status);
        Assert.Equal([(web, "identity-recorded"), (callCentre, "contact-details-changed"), (survey, "contact-details-changed")], Touchpoints(journey));
        // Each merge shows on the journey too, with who decided it.
        Assert.Equal(["profiles-merged", "profiles-merged"], GraphKinds(journey));
        Assert.All(journey.Body!["entries"]!.AsArray().Where(e => e!["source"]!.GetValue<string>() == "identity"),
            e => Assert.Equal("identity-resolution", e!["recordedBy"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_customer_who_showed_nothing_to_link_is_found_by_the_home_profile_id_pages_link_to()
    {
        var customer = Ids.Customer("home-alone");
        Assert.Equal(201, (await app.PostTouchpoint(customer, TouchpointJson.Purchase(occurredAt: May))).Status);

        // A purchase carries no identifier but the customer id: no profile stream is ever written, yet the customer's
        // summary names "pf~<id>" as their profile, and the console links it.
        var byHome = await Profile($"pf~{customer}");
        var byCustomer = await Profile(customer);

        Assert.Equal(200, byHome.Status);
        Assert.Equal(byCustomer.Body!["profileId"]!.GetValue<string>(), byHome.Body!["profileId"]!.GetValue<string>());
        Assert.Equal([customer], byHome.Body["members"]!.AsArray().Select(m => m!["customerId"]!.GetValue<string>()));
        Assert.Equal(404, (await Profile($"pf~{Ids.Customer("nobody")}")).Status);
    }

    [Fact]
    public async Task A_wrong_merge_is_split_and_the_reads_return_to_what_they_were_and_as_of_replays_before_during_and_after()
    {
        var shared = UniqueEmail();
        var ann = Ids.Customer("ann");
        var bob = Ids.Customer("bob");
        Assert.Equal(201, (await app.PostTouchpoint(ann, TouchpointJson.Purchase(occurredAt: May))).Status);
        Assert.Equal(201, (await ContactDetails(ann, May.AddHours(1), "crm", "store", email: shared)).Status);
        var annAlone = await Waiting.For(() => Profile(ann), p => p.Status == 200 && p.Body!["identifiers"]!.AsArray().Count == 2, Patience, "ann's e-mail");
        Assert.Equal(201, (await app.PostTouchpoint(bob, TouchpointJson.Purchase(occurredAt: May.AddHours(2)))).Status);
        Assert.Equal(201, (await ContactDetails(bob, May.AddHours(3), "crm", "store", phone: UniquePhone())).Status);
        var bobAlone = await Waiting.For(() => Profile(bob), p => p.Status == 200 && p.Body!["identifiers"]!.AsArray().Count == 2, Patience, "bob's phone");
        var beforeMerge = DateTimeOffset.UtcNow;

        // A household's shared address links two people: the resolver cannot know, a supervisor can.
        Assert.Equal(201, (await ContactDetails(bob, May.AddHours(4), "crm", "store", email: shared)).Status);
        var merged = await UntilMembers(bob, ann, bob);
        Assert.Equal($"pf~{ann}", merged.Body!["profileId"]!.GetValue<string>());
        var mergedJourney = await app.Get($"/api/profiles/{ann}/journey");
        Assert.Equal([ann, ann, bob, bob, bob], Touchpoints(mergedJourney).Select(e => e.Member));
        Assert.Equal(["profiles-merged"], GraphKinds(mergedJourney));
        var duringMerge = DateTimeOffset.UtcNow;

        var split = await app.Send(HttpMethod.Post, $"/api/profiles/{ann}/splits", new JsonObject { ["member"] = bob, ["reason"] = "two people" }.ToJsonString(),
            "application/json", Supervisor);
        Assert.Equal(200, split.Status);
        var afterSplit = DateTimeOffset.UtcNow;

        var annNow = await Profile(ann);
        var bobNow = await Profile(bob);
        Assert.Equal([ann], Members(annNow));
        Assert.Equal($"pf~{bob}", bobNow.Body!["profileId"]!.GetValue<string>());
        Assert.Equal(Shape(annAlone).Members, Shape(annNow).Members);
        Assert.Equal(Shape(annAlone).Identifiers, Shape(annNow).Identifiers);
        Assert.Equal(Shape(bobAlone).Identifiers.Append("email"), Shape(bobNow).Identifiers);
        Assert.Empty(annNow.Body!["links"]!.AsArray());
        var splitJourney = await app.Get($"/api/profiles/{ann}/journey");
        Assert.Equal([ann, ann], Touchpoints(splitJourney).Select(e => e.Member));
        Assert.Equal(["profiles-merged", "profile-split"], GraphKinds(splitJourney));

        var asOf = (DateTimeOffset t) => $"?asOf={Uri.EscapeDataString(t.ToString("O"))}";
        Assert.Equal([bob], Members(await Profile(bob, asOf(beforeMerge))));
        Assert.Equal([ann, bob], Members(await Profile(bob, asOf(duringMerge))));
        Assert.Equal([ann, bob], Members(await Profile($"pf~{bob}", asOf(duringMerge))));
        Assert.Equal([bob], Members(await Profile(bob, asOf(afterSplit))));
        Assert.Equal(5 + 1, (await app.Get($"/api/profiles/{ann}/journey{asOf(duringMerge)}")).Body!["total"]!.GetValue<int>());
        Assert.Equal(2 + 2, (await app.Get($"/api/profiles/{ann}/journey{asOf(afterSplit)}")).Body!["total"]!.GetValue<int>());
        Assert.Equal(404, (await Profile(bob, asOf(May))).Status);
    }

    /// <summary>
    /// c joins b's profile (a shared e-mail), that profile joins d's (c's phone), then b is split off: b's profile stands
    /// alone again, and c, linked to d by the phone, stays with d. Reading c's person must find d's profile, now and as of
    /// after the split, not follow c's home profile's old merge into b's (which no longer holds c).
    /// </summary>
    [Fact]
    public async Task A_member_that_stays_when_the_profile_it_came_through_is_split_off_is_read_in_the_profile_it_stayed_in()
    {
        var (email, phone) = (UniqueEmail(), UniquePhone());
        var d = Ids.Customer("d");
        var b = Ids.Customer("b");
        var c = Ids.Customer("c");
        Assert.Equal(201, (await ContactDetails(d, May, "crm", "store", phone: phone)).Status);
        await Waiting.For(() => Profile(d), p => p.Status == 200 && p.Body!["identifiers"]!.AsArray().Count == 2, Patience, "d's phone");
        Assert.Equal(201, (await ContactDetails(b, May.AddHours(1), "crm", "store", email: email)).Status);
        await Waiting.For(() => Profile(b), p => p.Status == 200 && p.Body!["identifiers"]!.AsArray().Count == 2, Patience, "b's e-mail");
        Assert.Equal(201, (await ContactDetails(c, May.AddHours(2), "crm", "store", email: email)).Status);
        await UntilMembers(c, b, c);
        Assert.Equal(201, (await ContactDetails(c, May.AddHours(3), "crm", "store", phone: phone)).Status);
        await UntilMembers(c, b, c, d);

        var split = await app.Send(HttpMethod.Post, $"/api/profiles/{d}/splits", new JsonObject { ["member"] = b, ["reason"] = "not the same person" }.ToJsonString(),
            "application/json", Supervisor);
        Assert.Equal(200, split.Status);
        var afterSplit = DateTimeOffset.UtcNow;

        Assert.Equal([b], Members(await Profile(b)));
        var cNow = await Profile(c);
        Assert.Equal($"pf~{d}", cNow.Body!["profileId"]!.GetValue<string>());
        Assert.Equal([c, d], Members(cNow));
        var cThen = await Profile(c, $"?asOf={Uri.EscapeDataString(afterSplit.ToString("O"))}");
        Assert.Equal([c, d], Members(cThen));
        Assert.Equal([c, d], Members(await Profile($"pf~{c}")));
    }

    /// <summary>
    /// c joins d's profile (a shared phone), a joins through c (a shared e-mail), b through a (another e-mail); then c is
    /// split off, and a and b, no longer connected to d, leave together into a's profile. Reading b's person must find a's
    /// profile, now and as of after the split, not follow b's home profile's old merge into d's, which no longer holds b.
    /// </summary>
    [Fact]
    public async Task A_member_that_left_with_another_in_a_split_is_read_in_the_profile_it_left_for()
    {
        var (shared, first, second) = (UniquePhone(), UniqueEmail(), UniqueEmail());
        var (a, b, c, d) = (Ids.Customer("a"), Ids.Customer("b"), Ids.Customer("c"), Ids.Customer("d"));
        Assert.Equal(201, (await ContactDetails(d, May, "crm", "store", phone: shared)).Status);
        await Waiting.For(() => Profile(d), p => p.Status == 200 && p.Body!["identifiers"]!.AsArray().Count == 2, Patience, "d's phone");
        Assert.Equal(201, (await ContactDetails(c, May.AddHours(1), "crm", "store", email: first, phone: shared)).Status);
        await UntilMembers(d, c, d);
        Assert.Equal(201, (await ContactDetails(a, May.AddHours(2), "crm", "store", email: first)).Status);
        await UntilMembers(d, a, c, d);
        Assert.Equal(201, (await ContactDetails(a, May.AddHours(3), "crm", "store", email: second)).Status);
        Assert.Equal(201, (await ContactDetails(b, May.AddHours(4), "crm", "store", email: second)).Status);
        await UntilMembers(d, a, b, c, d);

        var split = await app.Send(HttpMethod.Post, $"/api/profiles/{d}/splits", new JsonObject { ["member"] = c, ["reason"] = "not the same person" }.ToJsonString(),
            "application/json", Supervisor);
        Assert.Equal(200, split.Status);
        var afterSplit = DateTimeOffset.UtcNow;

        Assert.Equal([d], Members(await Profile(d)));
        var bNow = await Profile(b);
        Assert.Equal($"pf~{a}", bNow.Body!["profileId"]!.GetValue<string>());
        Assert.Equal([a, b], Members(bNow));
        Assert.Equal([a, b], Members(await Profile(b, $"?asOf={Uri.EscapeDataString(afterSplit.ToString("O"))}")));
        Assert.Equal([a, b], Members(await Profile($"pf~{b}")));
        Assert.Equal([c], Members(await Profile(c)));
    }

    /// <summary>A customer identity resolution has not placed yet, named twice in a hand merge, is one profile: nothing to merge.</summary>
    [Fact]
    public async Task A_hand_merge_naming_one_unplaced_customer_twice_merges_nothing_and_the_profile_still_reads()
    {
        var customer = Ids.Customer("twice");
        Assert.Equal(201, (await app.PostTouchpoint(customer, TouchpointJson.Purchase(occurredAt: May))).Status);

        var merge = await app.Send(HttpMethod.Post, "/api/profiles/merges", new JsonObject { ["profiles"] = new JsonArray(customer, $"pf~{customer}") }.ToJsonString(),
            "application/json", Supervisor);

        Assert.Equal(200, merge.Status);
        Assert.Equal(0, merge.Body!["recorded"]!.GetValue<int>());
        var profile = await Profile(customer);
        Assert.Equal((200, $"pf~{customer}"), (profile.Status, profile.Body!["profileId"]!.GetValue<string>()));
        Assert.Equal([customer], Members(profile));
    }

    [Fact]
    public async Task An_alias_links_the_shop_customer_to_the_signed_in_user_even_when_the_shop_customer_showed_nothing_else()
    {
        var shopCustomer = Ids.Customer("shop");
        var user = Ids.Customer("user");
        Assert.Equal(201, (await app.PostTouchpoint(shopCustomer, TouchpointJson.Purchase(occurredAt: May))).Status);
        Assert.Equal([shopCustomer], Members(await Profile(shopCustomer)));

        var alias = new JsonObject
        {
            ["type"] = "alias",
            ["userId"] = user,
            ["previousId"] = shopCustomer,
            ["messageId"] = Ids.Unique("msg"),
            ["timestamp"] = May.AddDays(1).ToString("O"),
        };
        Assert.Equal(200, (await app.PostV1("/v1/alias", alias)).Status);

        var profile = await UntilMembers(user, shopCustomer, user);
        Assert.Equal($"pf~{shopCustomer}", profile.Body!["profileId"]!.GetValue<string>());
        var link = Assert.Single(profile.Body!["links"]!.AsArray());
        Assert.Equal(("alias", user, shopCustomer), (link!["rule"]!.GetValue<string>(), link["from"]!.GetValue<string>(), link["to"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_alias_naming_a_customer_with_no_touchpoint_gives_it_a_key_and_its_identifier_is_sealed_with_it()
    {
        var ghost = Ids.Customer("ghost");
        var user = Ids.Customer("user");
        var alias = new JsonObject
        {
            ["type"] = "alias",
            ["userId"] = user,
            ["previousId"] = ghost,
            ["messageId"] = Ids.Unique("msg"),
            ["timestamp"] = May.ToString("O"),
        };
        Assert.Equal(200, (await app.PostV1("/v1/alias", alias)).Status);

        var profile = await UntilMembers(user, ghost, user);
        var ghostIds = profile.Body!["identifiers"]!.AsArray().Where(i => i!["customerId"]!.GetValue<string>() == ghost).ToList();
        Assert.NotEmpty(ghostIds);
        Assert.All(ghostIds, i => Assert.Matches("^[0-9a-f]{64}$", i!["value"]!.GetValue<string>()));
        await using var connection = new Npgsql.NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var count = new Npgsql.NpgsqlCommand(
            $"select (select count(wrapped_key) from {app.Schema}_keys.customer_keys where customer_id = $1), " +
            $"(select count(*) from {app.Schema}.mt_events where stream_id = $2 and data::text like '%\"pd1:%')", connection);
        count.Parameters.Add(new Npgsql.NpgsqlParameter { Value = ghost });
        count.Parameters.Add(new Npgsql.NpgsqlParameter { Value = $"pf~{ghost}" });
        await using var reader = await count.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        Assert.True(await reader.ReadAsync(TestContext.Current.CancellationToken));
        Assert.Equal((1L, true), (reader.GetInt64(0), reader.GetInt64(1) > 0));
    }

    private static (string[] Members, string[] Identifiers) Shape(Answer profile) =>
        (Members(profile), [.. profile.Body!["identifiers"]!.AsArray().Select(i => i!["type"]!.GetValue<string>())]);

    [Fact]
    public async Task A_supervisor_merges_by_hand_and_only_supervisors_and_analysts_may()
    {
        var first = Ids.Customer("hand");
        var second = Ids.Customer("hand");
        Assert.Equal(201, (await app.PostTouchpoint(first, TouchpointJson.Purchase())).Status);
        Assert.Equal(201, (await app.PostTouchpoint(second, TouchpointJson.Purchase())).Status);
        var body = new JsonObject { ["profiles"] = new JsonArray(first, second), ["reason"] = "same loyalty member" }.ToJsonString();

        var byAgent = await app.Send(HttpMethod.Post, "/api/profiles/merges", body, "application/json", Credentials.Token(app.Token("al", "agent")));
        var bySupervisor = await app.Send(HttpMethod.Post, "/api/profiles/merges", body, "application/json", Supervisor);

        Assert.Equal(403, byAgent.Status);
        Assert.Equal(200, bySupervisor.Status);
        var profile = await Profile(second);
        Assert.Equal(Members(await Profile(first)), Members(profile));
        Assert.Equal(new[] { first, second }.Order(StringComparer.Ordinal), Members(profile));
        var link = Assert.Single(profile.Body!["links"]!.AsArray());
        Assert.Equal(("manual", "user:sam"), (link!["rule"]!.GetValue<string>(), link["decidedBy"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_hand_merge_of_two_signed_in_users_breaks_the_one_user_id_limit_and_is_refused_naming_the_rule()
    {
        var first = Ids.Customer("user");
        var second = Ids.Customer("user");
        foreach (var user in new[] { first, second })
        {
            var identify = new JsonObject { ["type"] = "identify", ["userId"] = user, ["messageId"] = Ids.Unique("msg"), ["timestamp"] = May.ToString("O") };
            Assert.Equal(200, (await app.PostV1("/v1/identify", identify)).Status);
            await Waiting.For(() => Profile(user), p => p.Body!["identifiers"]!.AsArray().Any(i => i!["type"]!.GetValue<string>() == "user-id"), Patience,
                $"{user}'s user id");
        }

        var merge = await app.Send(HttpMethod.Post, "/api/profiles/merges", new JsonObject { ["profiles"] = new JsonArray(first, second) }.ToJsonString(),
            "application/json", Supervisor);

        Assert.Equal((409, "application/problem+json", "limit-exceeded"), (merge.Status, merge.ContentType, merge.Body!["rule"]!.GetValue<string>()));
        Assert.Equal([first], Members(await Profile(first)));
    }

    [Fact]
    public async Task Bad_merge_and_split_requests_are_problems_naming_the_field()
    {
        var customer = Ids.Customer("bad");
        Assert.Equal(201, (await app.PostTouchpoint(customer, TouchpointJson.Purchase())).Status);

        var one = await app.Send(HttpMethod.Post, "/api/profiles/merges", """{"profiles":["only-one"]}""", "application/json", Supervisor);
        var malformed = await app.Send(HttpMethod.Post, "/api/profiles/merges", """{"profiles":["ok-1","not ok"]}""", "application/json", Supervisor);
        var unknown = await app.Send(HttpMethod.Post, "/api/profiles/merges", $$"""{"profiles":["{{customer}}","{{Ids.Customer("nobody")}}"]}""", "application/json", Supervisor);
        var noMember = await app.Send(HttpMethod.Post, $"/api/profiles/{customer}/splits", "{}", "application/json", Supervisor);
        var founder = await app.Send(HttpMethod.Post, $"/api/profiles/{customer}/splits", $$"""{"member":"{{customer}}"}""", "application/json", Supervisor);
        var badId = await Profile("not ok");

        Assert.Equal((400, "application/problem+json"), (one.Status, one.ContentType));
        Assert.NotNull(one.Body!["errors"]!["profiles"]);
        Assert.NotNull(malformed.Body!["errors"]!["profiles[1]"]);
        Assert.Equal((404, "profiles[1]"), (unknown.Status, unknown.Body!["field"]!.GetValue<string>()));
        Assert.NotNull(noMember.Body!["errors"]!["member"]);
        Assert.Equal((422, "founding-member"), (founder.Status, founder.Body!["rule"]!.GetValue<string>()));
        Assert.NotNull(badId.Body!["errors"]!["id"]);
    }
}
