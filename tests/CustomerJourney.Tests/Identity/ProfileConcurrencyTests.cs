using System.Globalization;
using System.Text.Json.Nodes;
using CustomerJourney.Identity;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerJourney.Tests.Identity;

/// <summary>
/// Merges of profiles being written at once: many clients post the touchpoints of a few people (each known under several
/// customer ids that share e-mails and phones in chains and crosses), so merges race, several of them on the same profile.
/// Whatever order they land in, each person ends as one profile, no customer is in two, and no touchpoint is lost or doubled.
/// </summary>
public sealed class ProfileConcurrencyTests(AppFixture app)
{
    // Resolution runs after the commit, through a durable local queue the whole host shares: while another test class
    // loads the CDNOW demo, that queue can be tens of seconds behind. The waits end as soon as the link is there.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);
    private static readonly DateTimeOffset June = DateTimeOffset.Parse("2024-06-01T10:00:00Z", CultureInfo.InvariantCulture);

    private static string UniqueEmail() => $"person.{Guid.NewGuid():N}@example.org";

    /// <summary>A valid US number no other test is likely to use (area code 651, exchange 220-549).</summary>
    private static string UniquePhone() => $"(651) {Random.Shared.Next(220, 550)}-{Random.Shared.Next(0, 10_000):D4}";

    /// <summary>A touchpoint to post: its customer, its source id and its body.</summary>
    private sealed record Posting(string Customer, string SourceId, bool Purchase, JsonObject Body);

    private static Posting Purchase(string customer, int n)
    {
        var sourceId = Ids.Unique("order");
        return new Posting(customer, sourceId, true, TouchpointJson.Purchase(occurredAt: June.AddHours(n), sourceId: sourceId));
    }

    private static Posting ContactDetails(string customer, int n, string? email = null, string? phone = null)
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

        var sourceId = Ids.Unique("contact");
        return new Posting(customer, sourceId, false, TouchpointJson.Kind("contact-details-changed", data, occurredAt: June.AddHours(n), source: "crm",
            sourceId: sourceId));
    }

    /// <summary>
    /// One person under five customer ids: a chain c0–c1 (e-mail), c1–c2 (phone), c2–c3 (e-mail), c3–c4 (phone), crossed by
    /// c4–c0 (the first e-mail) and c2–c0 (a second phone of c0's), so one touchpoint may merge three profiles at once.
    /// Two purchases each. Two e-mails in all: well inside the limit of five.
    /// </summary>
    private static (string[] Customers, List<Posting> Postings) Person(string name)
    {
        var c = Enumerable.Range(0, 5).Select(i => Ids.Customer($"{name}{i}")).ToArray();
        var (e0, e2, p1, p3, p0) = (UniqueEmail(), UniqueEmail(), UniquePhone(), UniquePhone(), UniquePhone());
        List<Posting> postings =
        [
            ContactDetails(c[0], 1, email: e0),
            ContactDetails(c[0], 2, phone: p0),
            ContactDetails(c[1], 3, email: e0.ToUpperInvariant()),
            ContactDetails(c[1], 4, phone: p1),
            ContactDetails(c[2], 5, phone: "+1 " + p1),
            ContactDetails(c[2], 6, email: e2, phone: p0),
            ContactDetails(c[3], 7, email: "Person" + e2["person".Length..]),
            ContactDetails(c[3], 8, phone: p3),
            ContactDetails(c[4], 9, phone: p3, email: e0),
        ];
        postings.AddRange(c.SelectMany((customer, i) => new[] { Purchase(customer, 20 + i), Purchase(customer, 30 + i) }));
        return (c, postings);
    }

    private Task<Answer> Profile(string id) => app.Get($"/api/profiles/{Uri.EscapeDataString(id)}");

    private static string[] Members(Answer profile) =>
        [.. profile.Body!["members"]!.AsArray().Select(m => m!["customerId"]!.GetValue<string>()).Order(StringComparer.Ordinal)];

    private async Task PostAllAtOnce(IEnumerable<Posting> postings)
    {
        var shuffled = postings.ToArray();
        Random.Shared.Shuffle(shuffled);
        var statuses = new System.Collections.Concurrent.ConcurrentBag<(string SourceId, int Status)>();
        await Parallel.ForEachAsync(shuffled, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = TestContext.Current.CancellationToken },
            async (posting, _) => statuses.Add((posting.SourceId, (await app.PostTouchpoint(posting.Customer, posting.Body)).Status)));
        Assert.All(statuses, s => Assert.Equal(201, s.Status));
    }

    /// <summary>Waits until every customer's profile has exactly the person's members, and every identifier shown is recorded.</summary>
    private async Task UntilResolved(IReadOnlyList<string[]> people, int identifiersPerPerson)
    {
        foreach (var person in people)
        {
            var expected = person.Order(StringComparer.Ordinal).ToArray();
            foreach (var customer in person)
            {
                await Waiting.For(() => Profile(customer),
                    p => p.Status == 200 && Members(p).SequenceEqual(expected) && p.Body!["identifiers"]!.AsArray().Count == identifiersPerPerson,
                    Patience, $"the profile of {customer} with members {string.Join(", ", expected)} and {identifiersPerPerson} identifiers");
            }
        }
    }

    /// <summary>Each customer's membership names one profile, and of all the profile streams, exactly one current one holds it.</summary>
    private async Task AssertEachCustomerInExactlyOneProfile(List<string[]> people)
    {
        var cancellation = TestContext.Current.CancellationToken;
        await using var session = app.Store.QuerySession();
        var everyone = people.SelectMany(p => p).ToArray();
        var memberships = (await session.LoadManyAsync<ProfileMembership>(cancellation, everyone)).ToDictionary(m => m.Id, m => m.ProfileId);
        Assert.Equal(everyone.Order(StringComparer.Ordinal), memberships.Keys.Order(StringComparer.Ordinal));

        // Every profile stream any of these customers ever started (a profile id is its founder's home), folded as it is now.
        var current = new List<CustomerJourney.Identity.Profile>();
        foreach (var customer in everyone)
        {
            var (profile, _) = await ProfileStreams.LoadAsync(session, app.Host.Services.GetRequiredService<IPersonalDataProtector>(), ProfileIds.HomeOf(customer), null, cancellation);
            if (profile is { MergedInto: null })
            {
                current.Add(profile);
            }
        }

        var holding = current.SelectMany(p => p.Members.Select(m => (m.CustomerId, Profile: p.Id))).ToList();
        Assert.All(holding.GroupBy(h => h.CustomerId), g => Assert.Single(g));
        Assert.Equal(everyone.Order(StringComparer.Ordinal), holding.Select(h => h.CustomerId).Order(StringComparer.Ordinal));
        Assert.All(holding, h => Assert.Equal(h.Profile, memberships[h.CustomerId]));
        Assert.Equal(people.Count, current.Count);
        foreach (var person in people)
        {
            var profile = Assert.Single(current, p => p.HasMember(person[0]));
            Assert.Equal(person.Order(StringComparer.Ordinal), profile.Members.Select(m => m.CustomerId).Order(StringComparer.Ordinal));
            Assert.All(profile.Members.GroupBy(m => m.CustomerId), g => Assert.Single(g));
        }
    }

    /// <summary>Every posted touchpoint is in its customer's stream once, the summaries count it once, and the profile journey shows it once.</summary>
    private async Task AssertEveryTouchpointOnce(IReadOnlyList<string[]> people, IReadOnlyList<Posting> postings)
    {
        var cancellation = TestContext.Current.CancellationToken;
        await using var session = app.Store.QuerySession();
        foreach (var customer in people.SelectMany(p => p))
        {
            var posted = postings.Where(p => p.Customer == customer).ToList();
            var stream = await session.Events.FetchStreamAsync(customer, token: cancellation);
            Assert.Equal(posted.Select(p => p.SourceId).Order(StringComparer.Ordinal),
                stream.Select(e => e.Data).OfType<Touchpoint>().Select(t => t.SourceId).Order(StringComparer.Ordinal));

            var summary = await app.Get($"/api/customers/{customer}");
            Assert.Equal(posted.Count, summary.Body!["touchpointCount"]!.GetValue<int>());
            Assert.Equal(posted.Count(p => p.Purchase), summary.Body!["purchaseCount"]!.GetValue<int>());
        }

        foreach (var person in people)
        {
            var journey = await app.Get($"/api/profiles/{person[^1]}/journey?pageSize=500");
            Assert.Equal(200, journey.Status);
            var expected = postings.Where(p => person.Contains(p.Customer)).Select(p => $"{p.Customer}|{p.SourceId}").Order(StringComparer.Ordinal);
            Assert.Equal(expected, journey.Body!["entries"]!.AsArray().Where(e => e!["source"]!.GetValue<string>() != "identity")
                .Select(e => $"{e!["member"]!.GetValue<string>()}|{e["sourceId"]!.GetValue<string>()}").Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task Merges_racing_from_many_writers_leave_each_person_one_profile_and_every_touchpoint_counted_once()
    {
        var people = Enumerable.Range(0, 6).Select(i => Person($"race{i}-")).ToList();
        var postings = people.SelectMany(p => p.Postings).ToList();

        await PostAllAtOnce(postings);

        // Per person, each customer's own id and what it showed: c0 e0 p0, c1 e0 p1, c2 p1 e2 p0, c3 e2 p3, c4 p3 e0.
        await UntilResolved([.. people.Select(p => p.Customers)], identifiersPerPerson: 16);
        await AssertEachCustomerInExactlyOneProfile([.. people.Select(p => p.Customers)]);
        await AssertEveryTouchpointOnce([.. people.Select(p => p.Customers)], postings);
    }

    [Fact]
    public async Task A_hand_merge_racing_an_automatic_merge_of_the_same_profiles_links_them_once()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var supervisor = Credentials.Token(app.Token("sam", "supervisor"));
        var pairs = Enumerable.Range(0, 6).Select(i => (A: Ids.Customer($"hand{i}-a"), B: Ids.Customer($"hand{i}-b"), Email: UniqueEmail())).ToList();
        var before = pairs.SelectMany(p => new[] { ContactDetails(p.A, 1, email: p.Email), ContactDetails(p.B, 2, phone: UniquePhone()) }).ToList();
        await PostAllAtOnce(before);
        foreach (var (a, b, _) in pairs)
        {
            await UntilResolved([[a], [b]], identifiersPerPerson: 2);
        }

        // For each pair at once: b shows a's e-mail (the resolver merges) while a supervisor merges the two by hand;
        // half the hands name the profiles, half the customers.
        var racing = pairs.Select(p => ContactDetails(p.B, 3, email: p.Email)).ToList();
        var hands = pairs.Select((p, i) => new JsonObject
        {
            ["profiles"] = i % 2 == 0 ? new JsonArray(p.A, p.B) : new JsonArray(ProfileIds.HomeOf(p.B), ProfileIds.HomeOf(p.A)),
            ["reason"] = "same person",
        }).ToList();
        var answers = await Task.WhenAll(racing.Select(async r => (await app.PostTouchpoint(r.Customer, r.Body)).Status)
            .Concat(hands.Select(async h => (await app.Send(HttpMethod.Post, "/api/profiles/merges", h.ToJsonString(), "application/json", supervisor)).Status)));
        Assert.All(answers.Take(pairs.Count), status => Assert.Equal(201, status));
        Assert.All(answers.Skip(pairs.Count), status => Assert.Equal(200, status));

        var people = pairs.Select(p => new[] { p.A, p.B }).ToList();
        // a: its id and the e-mail; b: its id, its phone and a's e-mail.
        await UntilResolved(people, identifiersPerPerson: 5);
        await AssertEachCustomerInExactlyOneProfile(people);
        await AssertEveryTouchpointOnce(people, [.. before, .. racing]);

        await using var session = app.Store.QuerySession();
        foreach (var (a, b, _) in pairs)
        {
            var merges = new List<ProfilesMerged>();
            foreach (var stream in new[] { ProfileIds.HomeOf(a), ProfileIds.HomeOf(b) })
            {
                merges.AddRange((await session.Events.FetchStreamAsync(stream, token: cancellation)).Select(e => e.Data).OfType<ProfilesMerged>());
            }

            Assert.Single(merges);
        }
    }

    [Fact]
    public async Task Customers_first_showing_the_same_new_identifier_at_the_same_moment_are_linked()
    {
        // Each pair has one chance to link: neither customer was seen before, and each shows the shared e-mail once. The two
        // resolutions race (on one node's parallel handlers, or on two nodes), each looking for the other's identifier.
        var pairs = Enumerable.Range(0, 20).Select(i => (A: Ids.Customer($"twin{i}-a"), B: Ids.Customer($"twin{i}-b"), Email: UniqueEmail())).ToList();
        var postings = pairs.SelectMany(p => new[] { ContactDetails(p.A, 1, email: p.Email), ContactDetails(p.B, 1, email: p.Email) }).ToList();

        await PostAllAtOnce(postings);

        var people = pairs.Select(p => new[] { p.A, p.B }).ToList();
        await UntilResolved(people, identifiersPerPerson: 4);
        await AssertEachCustomerInExactlyOneProfile(people);
    }
}
