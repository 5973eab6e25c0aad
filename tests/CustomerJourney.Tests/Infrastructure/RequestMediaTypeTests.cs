using System.Text.RegularExpressions;
using CustomerJourney.Access;
using CustomerJourney.Infrastructure;
using CustomerJourney.Tests.Support;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerJourney.Tests.Infrastructure;

/// <summary>
/// Every endpoint a body can be sent to reads JSON in UTF-8 (the batch also NDJSON); any other charset or media
/// type is a 415 problem, never a 5xx. The endpoints come from the app's own routing, so a new one is walked too.
/// </summary>
public sealed class RequestMediaTypeTests(AppFixture app)
{
    private static readonly string[] BodyMethods = ["POST", "PUT", "PATCH"];

    private sealed record Target(string Name, HttpMethod Method, string Path, Credentials Credentials, IReadOnlyList<string> AlsoReads);

    /// <summary>Every mapped endpoint that a body can be sent to, with credentials its policy lets in.</summary>
    private async Task<List<Target>> BodyEndpoints()
    {
        var targets = new List<Target>();
        foreach (var endpoint in app.Host.Services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>())
        {
            var template = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            // A complaint step needs a known action to get as far as its body.
            var path = Regex.Replace(template, "{([^}:]+)[^}]*}", m => m.Groups[1].Value == "action" ? "acknowledge" : "media-probe");
            foreach (var method in (endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Intersect(BodyMethods))
            {
                targets.Add(new Target($"{method} {template}", new HttpMethod(method), path, await CredentialsFor(endpoint),
                    endpoint.Metadata.GetMetadata<AlsoReadsAttribute>()?.MediaTypes ?? []));
            }
        }

        // The walk is not vacuous: it reaches the capabilities' writes and the minimal-API token endpoint.
        Assert.Contains(targets, t => t.Name == "POST /api/touchpoints/batch");
        Assert.Contains(targets, t => t.Name == "POST /api/dev/tokens");
        Assert.True(targets.Count >= 10, $"only {targets.Count} endpoints take a body");
        return targets;
    }

    private async Task<Credentials> CredentialsFor(RouteEndpoint endpoint)
    {
        if (endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
        {
            return Credentials.None;
        }

        var role = Policies.RolesOf[endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Single().Policy!][0];
        return role == Roles.SourceSystem
            ? Credentials.Key(await app.KeyFor(AppFixture.DefaultSource))
            : Credentials.Token(app.Token($"media-{role}", role));
    }

    [Fact]
    public async Task Every_endpoint_that_takes_a_body_reads_utf8_json_also_when_the_charset_is_quoted()
    {
        var failures = new List<string>();
        foreach (var target in await BodyEndpoints())
        {
            foreach (var contentType in (string[])["application/json; charset=\"utf-8\"", "application/json; charset=\"UTF-8\"", "application/json; charset=UTF-8"])
            {
                var answer = await app.Send(target.Method, target.Path, "{}", contentType, target.Credentials);
                if (answer.Status is 415 or >= 500 or 401 or 403)
                {
                    failures.Add($"{target.Name} with {contentType}: {answer.Status}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public async Task Every_endpoint_that_takes_a_body_refuses_another_charset_or_media_type_with_a_415_problem()
    {
        var failures = new List<string>();
        foreach (var target in await BodyEndpoints())
        {
            // A type the endpoint declares it reads (the Segment endpoints read text/plain) is not "another" type.
            foreach (var contentType in ((string[])["application/json; charset=klingon", "application/json; charset=\"latin1\"", "text/plain", "application/xml"])
                         .Where(t => !target.AlsoReads.Contains(t)))
            {
                var answer = await app.Send(target.Method, target.Path, "{}", contentType, target.Credentials);
                if ((answer.Status, answer.ContentType) != (415, "application/problem+json"))
                {
                    failures.Add($"{target.Name} with {contentType}: {answer.Status} {answer.ContentType}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public async Task The_batch_reads_ndjson_with_a_quoted_charset_too()
    {
        var line = TouchpointJson.Purchase(Ids.Customer()).ToJsonString();

        var answer = await app.Send(HttpMethod.Post, "/api/touchpoints/batch", line + "\n", "application/x-ndjson; charset=\"utf-8\"");

        Assert.Equal(200, answer.Status);
        Assert.Equal(1, answer.Body.Int("appended"));
    }
}
