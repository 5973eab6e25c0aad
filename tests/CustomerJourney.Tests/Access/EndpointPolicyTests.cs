using CustomerJourney.Access;
using CustomerJourney.Tests.Support;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerJourney.Tests.Access;

/// <summary>Every mapped endpoint declares who may call it, and exactly those roles get through.</summary>
public sealed class EndpointPolicyTests(AppFixture app)
{
    private const string SourceKey = "source-key";

    /// <summary>The endpoint table: route, a request that passes authorization and then fails harmlessly, and who may call it.</summary>
    private sealed record Row(string Method, string Template, string Path, string? Body, string? Policy);

    private static readonly Row[] Table =
    [
        new("POST", "/api/customers/{customerId}/touchpoints", "/api/customers/policy-probe/touchpoints", "{}", Policies.WriteTouchpoints),
        new("POST", "/api/touchpoints/batch", "/api/touchpoints/batch", "{}", Policies.WriteTouchpoints),
        new("POST", "/api/imports", "/api/imports", "{}", Policies.WriteTouchpoints),
        new("GET", "/api/imports/{id}", "/api/imports/policy-probe", null, Policies.WriteTouchpoints),
        new("GET", "/api/customers/{customerId}", "/api/customers/policy-probe", null, Policies.ReadCustomers),
        new("GET", "/api/customers", "/api/customers", null, Policies.ReadCustomers),
        new("GET", "/api/customers/{customerId}/journey", "/api/customers/policy-probe/journey", null, Policies.ReadCustomers),
        new("GET", "/api/customers/{customerId}/consents", "/api/customers/policy-probe/consents", null, Policies.ReadConsent),
        new("POST", "/api/customers/{customerId}/erasure", "/api/customers/policy-probe/erasure", null, Policies.Administer),
        new("GET", "/api/customers/{customerId}/export", "/api/customers/policy-probe/export", null, Policies.Administer),
        new("POST", "/api/access/keys", "/api/access/keys", "{}", Policies.Administer),
        new("GET", "/api/access/keys", "/api/access/keys", null, Policies.Administer),
        new("DELETE", "/api/access/keys/{id}", "/api/access/keys/0000000000000000", null, Policies.Administer),
        new("POST", "/api/churn/models", "/api/churn/models", "{}", Policies.FitChurnModels),
        new("GET", "/api/churn/flags", "/api/churn/flags", null, Policies.ReadChurn),
        new("GET", "/api/customers/{customerId}/churn/flags", "/api/customers/policy-probe/churn/flags", null, Policies.ReadChurn),
        new("GET", "/api/churn/models", "/api/churn/models", null, Policies.ReadChurn),
        new("GET", "/api/churn/models/{id}", "/api/churn/models/00000000-0000-0000-0000-000000000000", null, Policies.ReadChurn),
        new("GET", "/api/churn/fits/{jobId}", "/api/churn/fits/00000000-0000-0000-0000-000000000000", null, Policies.ReadChurn),
        new("DELETE", "/api/churn/fits/{jobId}", "/api/churn/fits/00000000-0000-0000-0000-000000000000", null, Policies.FitChurnModels),
        new("GET", "/api/churn/models/{id}/evaluation", "/api/churn/models/00000000-0000-0000-0000-000000000000/evaluation", null, Policies.ReadChurn),
        new("GET", "/api/customers/{customerId}/churn", "/api/customers/policy-probe/churn?model=00000000-0000-0000-0000-000000000000", null, Policies.ReadChurn),
        new("POST", "/api/complaints", "/api/complaints", "{}", Policies.WriteComplaints),
        new("POST", "/api/complaints/{complaintId}/acknowledge", "/api/complaints/policy-probe/acknowledge", "{}", Policies.WriteComplaints),
        new("POST", "/api/complaints/{complaintId}/escalate", "/api/complaints/policy-probe/escalate", "{}", Policies.WriteComplaints),
        new("POST", "/api/complaints/{complaintId}/apologize", "/api/complaints/policy-probe/apologize", "{}", Policies.WriteComplaints),
        new("POST", "/api/complaints/{complaintId}/offer-remedy", "/api/complaints/policy-probe/offer-remedy", "{}", Policies.WriteComplaints),
        new("POST", "/api/complaints/{complaintId}/accept-remedy", "/api/complaints/policy-probe/accept-remedy", "{}", Policies.WriteComplaints),
        new("POST", "/api/complaints/{complaintId}/decline-remedy", "/api/complaints/policy-probe/decline-remedy", "{}", Policies.WriteComplaints),
        new("POST", "/api/complaints/{complaintId}/await-customer", "/api/complaints/policy-probe/await-customer", "{}", Policies.WriteComplaints),
        new("POST", "/api/complaints/{complaintId}/customer-responded", "/api/complaints/policy-probe/customer-responded", "{}", Policies.WriteComplaints),
        new("POST", "/api/complaints/{complaintId}/resolve", "/api/complaints/policy-probe/resolve", "{}", Policies.WriteComplaints),
        new("POST", "/api/complaints/{complaintId}/follow-up-call", "/api/complaints/policy-probe/follow-up-call", "{}", Policies.WriteComplaints),
        new("POST", "/api/complaints/{complaintId}/close", "/api/complaints/policy-probe/close", "{}", Policies.WriteComplaints),
        new("POST", "/api/complaints/{complaintId}/reopen", "/api/complaints/policy-probe/reopen", "{}", Policies.WriteComplaints),
        new("GET", "/api/complaints", "/api/complaints", null, Policies.ListComplaints),
        new("GET", "/api/complaints/{complaintId}", "/api/complaints/policy-probe", null, Policies.ReadComplaints),
        new("GET", "/api/customers/{customerId}/complaints", "/api/customers/policy-probe/complaints", null, Policies.ReadComplaints),
        new("GET", "/api/complaints/{complaintId}/sla", "/api/complaints/policy-probe/sla", null, Policies.ReadComplaints),
        new("GET", "/api/complaints/{complaintId}/audit", "/api/complaints/policy-probe/audit", null, Policies.AuditComplaints),
        new("GET", "/api/complaints/{complaintId}/audit/verify", "/api/complaints/policy-probe/audit/verify", null, Policies.AuditComplaints),
        new("POST", "/api/complaints/{complaintId}/audit/verify", "/api/complaints/policy-probe/audit/verify", "{}", Policies.AuditComplaints),
        new("GET", "/api/complaints/audit/heads", "/api/complaints/audit/heads?complaintId=policy-probe", null, Policies.AuditComplaints),
        new("POST", "/api/complaints/audit/heads", "/api/complaints/audit/heads", null, Policies.SignChainHeads),
        new("GET", "/api/complaints/metrics", "/api/complaints/metrics", null, Policies.ComplaintMetrics),
        new("GET", "/api/winback/candidates", "/api/winback/candidates?pageSize=1", null, Policies.ReadWinBack),
        new("GET", "/api/winback/campaigns", "/api/winback/campaigns", null, Policies.ReadWinBack),
        new("GET", "/api/winback/campaigns/{campaignId}", "/api/winback/campaigns/wb-policy-probe", null, Policies.ReadWinBack),
        new("POST", "/api/winback/campaigns", "/api/winback/campaigns", "{}", Policies.RunWinBack),
        new("POST", "/api/winback/campaigns/preview", "/api/winback/campaigns/preview", "{}", Policies.RunWinBack),
        new("POST", "/v1/track", "/v1/track", "{}", Policies.WriteTracking),
        new("POST", "/v1/identify", "/v1/identify", "{}", Policies.WriteTracking),
        new("POST", "/v1/page", "/v1/page", "{}", Policies.WriteTracking),
        new("POST", "/v1/screen", "/v1/screen", "{}", Policies.WriteTracking),
        new("POST", "/v1/group", "/v1/group", "{}", Policies.WriteTracking),
        new("POST", "/v1/alias", "/v1/alias", "{}", Policies.WriteTracking),
        new("POST", "/v1/batch", "/v1/batch", "{}", Policies.WriteTracking),
        new("GET", "/api/tracking/rejections", "/api/tracking/rejections", null, Policies.Administer),
        new("GET", "/api/profiles/{id}", "/api/profiles/policy-probe", null, Policies.ReadCustomers),
        new("GET", "/api/profiles/{id}/audit", "/api/profiles/policy-probe/audit", null, Policies.ReadCustomers),
        new("GET", "/api/profiles/{id}/complaints", "/api/profiles/policy-probe/complaints", null, Policies.ReadComplaints),
        new("GET", "/api/profiles/{id}/journey", "/api/profiles/policy-probe/journey", null, Policies.ReadCustomers),
        new("POST", "/api/profiles/merges", "/api/profiles/merges", "{}", Policies.LinkProfiles),
        new("POST", "/api/profiles/{id}/splits", "/api/profiles/policy-probe/splits", "{}", Policies.LinkProfiles),
        // Wolverine's own dead-letter endpoints: list, re-drive, discard.
        new("POST", "/api/dead-letters/", "/api/dead-letters/", "{}", Policies.Administer),
        new("POST", "/api/dead-letters/replay", "/api/dead-letters/replay", "{\"ids\":[]}", Policies.Administer),
        new("DELETE", "/api/dead-letters/", "/api/dead-letters/", "{\"ids\":[]}", Policies.Administer),
    ];

    /// <summary>
    /// Open on purpose: probes (projection status names shards, sequences and unreadable streams; deliveries name dead-letter
    /// ids; no customer data), the API description, (Development only) the token endpoint, the summaries of our histograms
    /// (durations, no customer data) and the collector's figures (sizes and pauses), and the one-click unsubscribe,
    /// whose signed token is the credential.
    /// </summary>
    private static readonly string[] Anonymous =
        ["/health/live", "/health/ready", "/health/projections", "/health/deliveries", "/openapi/{documentName}.json", "/api/dev/tokens",
            "/api/dev/metrics/{**instrument}", "/api/dev/runtime", "/api/winback/unsubscribe/{token}", "/console/account/signout"];

    /// <summary>
    /// The pages' routes: their credential is the console's sign-in cookie, never a bearer token or an API key, so they are
    /// not in the table above; the sign-in tests (OrganisationSignInTests) cover them.
    /// </summary>
    private static readonly string[] Pages = ["/console/account"];

    /// <summary>The API reference page and its static assets.</summary>
    private const string ReferencePage = "/scalar/";

    private static readonly string[] Callers = [.. Roles.People, SourceKey];

    [Fact]
    public void Every_endpoint_declares_a_policy_from_the_table_or_is_deliberately_open()
    {
        var endpoints = app.Host.Services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>().ToList();

        var declared = new List<(string Method, string Template, string? Policy)>();
        foreach (var endpoint in endpoints)
        {
            var template = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            // The console's pages: each role's pages and refusals are checked in a browser (WebConsole.ConsoleTests).
            if (template.StartsWith("/console", StringComparison.Ordinal))
            {
                continue;
            }

            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"];
            if (endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            {
                Assert.True(Anonymous.Contains(template) || template.StartsWith(ReferencePage, StringComparison.Ordinal), $"{template} is open to anyone");
                continue;
            }

            var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).ToList();
            if (Pages.Contains(template))
            {
                Assert.Equal([AccountEndpoints.SignedInPolicy], policies);
                continue;
            }

            Assert.True(policies.Count == 1 && policies[0] is not null, $"{template} declares no single named policy");
            declared.AddRange(methods.Select(m => (m, template, policies[0])));
        }

        Assert.Equal(
            Table.Select(r => (r.Method, r.Template, r.Policy)).OrderBy(r => r.Template).ThenBy(r => r.Method),
            declared.OrderBy(r => r.Template).ThenBy(r => r.Method));
    }

    public static TheoryData<string, string> EveryEndpointAndCaller()
    {
        var data = new TheoryData<string, string>();
        foreach (var row in Table)
        {
            foreach (var caller in Callers)
            {
                data.Add($"{row.Method} {row.Template}", caller);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryEndpointAndCaller))]
    public async Task Each_role_reaches_exactly_the_endpoints_its_policies_allow(string endpoint, string caller)
    {
        var row = Table.Single(r => $"{r.Method} {r.Template}" == endpoint);
        var allowed = Policies.RolesOf[row.Policy!].Contains(caller == SourceKey ? Roles.SourceSystem : caller);
        var credentials = caller == SourceKey
            ? Credentials.Key(await app.KeyFor(AppFixture.DefaultSource))
            : Credentials.Token(app.Token($"policy-{caller}", caller));

        var answer = await app.Send(new HttpMethod(row.Method), row.Path, row.Body, row.Body is null ? null : "application/json", credentials);

        if (allowed)
        {
            Assert.True(answer.Status is not (401 or 403), $"{caller} was refused {endpoint} ({answer.Status})");
        }
        else
        {
            Assert.Equal((403, "application/problem+json"), (answer.Status, answer.ContentType));
        }
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Without_credentials_every_endpoint_answers_401_with_a_problem_document(string endpoint)
    {
        var row = Table.Single(r => $"{r.Method} {r.Template}" == endpoint);

        var answer = await app.Send(new HttpMethod(row.Method), row.Path, row.Body, row.Body is null ? null : "application/json", Credentials.None);

        Assert.Equal((401, "application/problem+json"), (answer.Status, answer.ContentType));
    }

    public static TheoryData<string> Endpoints() => new(Table.Select(r => $"{r.Method} {r.Template}"));

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    [InlineData("/openapi/v1.json")]
    public async Task Probes_and_the_API_description_stay_open(string path)
    {
        Assert.Equal(200, (await app.Get(path, Credentials.None)).Status);
    }

    [Fact]
    public async Task A_path_that_matches_no_endpoint_answers_404_and_a_missing_method_405()
    {
        Assert.Equal(404, (await app.Get("/api/not-a-route", Credentials.None)).Status);
        Assert.Equal(404, (await app.Get("/api/not-a-route")).Status);
        Assert.Equal(405, (await app.Send(HttpMethod.Put, "/api/touchpoints/batch", "[]", "application/json")).Status);
    }
}
