using System.Net;
using System.Text.Json.Nodes;
using Alba;
using CustomerJourney.Access;
using CustomerJourney.Tests.Support;
using Marten;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerJourney.Tests.Access;

/// <summary>
/// People sign in to the pages through the organisation's provider (a real one, on loopback): the console's challenge,
/// the provider's login form, the callback, the cookie; then sign-out here and at the provider; and the cookie read by a
/// second instance on the same database.
/// </summary>
public sealed class OrganisationSignInTests(AppFixture app)
{
    private Browser NewBrowser(IAlbaHost? host = null, CookieContainer? jar = null) => new((host ?? app.Host).Server.CreateHandler(), jar);

    /// <summary>Opens a page that needs a signed-in person, signs in at the provider's form, and returns the page's answer.</summary>
    private static async Task<HttpResponseMessage> SignIn(Browser browser, string person)
    {
        var form = await browser.Get("/console/account");
        Assert.Equal((HttpStatusCode.OK, "/login"), (form.StatusCode, browser.LastUrl.AbsolutePath));

        var html = await form.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return await browser.Post(new Uri(browser.LastUrl, "/login"), new Dictionary<string, string>
        {
            ["username"] = person, ["password"] = OrganisationIdentityProvider.Password, ["returnUrl"] = Browser.Input(html, "returnUrl"),
        });
    }

    private static async Task<JsonNode> Json(HttpResponseMessage answer) =>
        JsonNode.Parse(await answer.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;

    [Fact]
    public async Task Signing_in_through_the_provider_gives_a_secure_cookie_carrying_the_mapped_roles()
    {
        using var browser = NewBrowser();

        var page = await SignIn(browser, "oidc-alice");

        Assert.Equal((HttpStatusCode.OK, "/console/account"), (page.StatusCode, browser.LastUrl.AbsolutePath));
        var person = await Json(page);
        Assert.Equal("oidc-alice", (string?)person["name"]);
        // Her third group (wiki-editors) maps onto nothing and grants nothing.
        Assert.Equal(["analyst", "supervisor"], person["roles"]!.AsArray().Select(r => (string?)r).Order());
        // The authorization request went out with PKCE, and the cookie the callback set is Secure, HTTP-only and SameSite.
        var authorize = browser.Seen.First(s => s.Url.AbsolutePath == "/connect/authorize").Url.Query;
        Assert.Contains("code_challenge_method=S256", authorize, StringComparison.Ordinal);
        Assert.Contains("response_type=code", authorize, StringComparison.Ordinal);
        var cookie = browser.Seen.Single(s => s.Url.AbsolutePath == OrganisationSignIn.CallbackPath).Response.Headers.GetValues("Set-Cookie")
            .Single(c => c.StartsWith("cj-console=", StringComparison.Ordinal)).ToLowerInvariant();
        Assert.Contains("; secure", cookie, StringComparison.Ordinal);
        Assert.Contains("; httponly", cookie, StringComparison.Ordinal);
        Assert.Contains("; samesite=lax", cookie, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_pages_cookie_is_no_credential_for_the_API()
    {
        using var browser = NewBrowser();
        await SignIn(browser, "oidc-dana");

        var api = await browser.Get("/api/complaints");

        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    [Fact]
    public async Task A_person_whose_groups_claim_a_source_system_is_refused_at_sign_in()
    {
        using var browser = NewBrowser();

        var refused = await SignIn(browser, "oidc-mallory");

        Assert.Equal((HttpStatusCode.Unauthorized, OrganisationSignIn.CallbackPath), (refused.StatusCode, browser.LastUrl.AbsolutePath));
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain(browser.Jar.GetCookies(Browser.Service), c => c.Name.StartsWith("cj-console", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Signing_out_ends_the_session_here_and_at_the_provider()
    {
        using var browser = NewBrowser();
        await SignIn(browser, "oidc-dana");
        var form = await (await browser.Get("/console/account/signout")).Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        await browser.Post(new Uri(Browser.Service, "/console/account/signout"),
            new Dictionary<string, string> { ["__RequestVerificationToken"] = Browser.Input(form, "__RequestVerificationToken") });

        // The way out went through the provider's end-session endpoint and back to the service.
        var paths = browser.Seen.Select(s => $"{(int)s.Response.StatusCode} {s.Url.AbsolutePath}").ToList();
        var endSession = paths.FindIndex(p => p.EndsWith(" /connect/endsession", StringComparison.Ordinal));
        Assert.True(endSession > 0 && paths[endSession + 1].EndsWith(OrganisationSignIn.SignedOutCallbackPath, StringComparison.Ordinal), string.Join(", ", paths));
        // The next page needs a sign-in again, and the provider asks for the password again.
        var again = await browser.Get("/console/account");
        Assert.Equal((HttpStatusCode.OK, "/login"), (again.StatusCode, browser.LastUrl.AbsolutePath));
    }

    [Fact]
    public async Task Signing_out_without_the_forms_anti_forgery_token_is_refused()
    {
        using var browser = NewBrowser();
        await SignIn(browser, "oidc-dana");

        var refused = await browser.Post(new Uri(Browser.Service, "/console/account/signout"), new Dictionary<string, string>());

        Assert.Equal((HttpStatusCode.BadRequest, "application/problem+json"), (refused.StatusCode, refused.Content.Headers.ContentType?.MediaType));
        Assert.Equal(HttpStatusCode.OK, (await browser.Get("/console/account")).StatusCode);
    }

    /// <summary>
    /// Two instances of their own on a schema of their own (a second instance on the run's schema would share its durable
    /// queues and take other tests' messages with it when it stops).
    /// </summary>
    [Fact]
    public async Task A_cookie_issued_by_one_instance_is_accepted_by_another_on_the_same_database()
    {
        var schema = ServiceHost.NewSchema("dpshare");
        try
        {
            await using var one = await Instance(schema);
            using var first = NewBrowser(one);
            await SignIn(first, "oidc-alice");
            await using var other = await Instance(schema);
            using var elsewhere = NewBrowser(other, first.Jar);

            var page = await elsewhere.Get("/console/account");

            Assert.Equal((HttpStatusCode.OK, "/console/account"), (page.StatusCode, elsewhere.LastUrl.AbsolutePath));
            Assert.Equal("oidc-alice", (string?)(await Json(page))["name"]);
        }
        finally
        {
            await ServiceHost.DropSchemas(schema);
        }
    }

    private Task<IAlbaHost> Instance(string schema) => AlbaHost.For<Program>(builder =>
    {
        builder.UseSetting("EventStore:Schema", schema);
        foreach (var (key, value) in app.Provider.ServiceSettings())
        {
            builder.UseSetting(key, value);
        }
    });

    /// <summary>
    /// The ring is in PostgreSQL, sealed: a Data Protection stack whose only other place for keys is an empty folder reads
    /// what the service protected, and the stored keys hold no readable master key.
    /// </summary>
    [Fact]
    public async Task The_key_ring_is_read_from_the_database_and_stored_sealed()
    {
        var protectedText = app.Host.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("ring-test").Protect("shared");
        var empty = Directory.CreateTempSubdirectory("cj-dp-");
        try
        {
            var services = new ServiceCollection().AddLogging();
            services.AddSingleton(app.Store);
            services.AddSingleton(app.Host.Services.GetRequiredService<IKeyEncryptionKeys>());
            services.AddDataProtection().PersistKeysToFileSystem(empty);
            services.AddSharedDataProtection();
            await using var isolated = services.BuildServiceProvider();

            Assert.Equal("shared", isolated.GetRequiredService<IDataProtectionProvider>().CreateProtector("ring-test").Unprotect(protectedText));
            Assert.Empty(empty.GetFiles());
        }
        finally
        {
            empty.Delete(recursive: true);
        }

        await using var session = app.Store.QuerySession();
        var stored = await session.Query<DataProtectionKey>().ToListAsync(TestContext.Current.CancellationToken);
        Assert.NotEmpty(stored);
        Assert.All(stored, k =>
        {
            Assert.Contains("<sealedKey kek=", k.Xml, StringComparison.Ordinal);
            Assert.DoesNotContain("<masterKey", k.Xml, StringComparison.Ordinal);
        });
    }
}
