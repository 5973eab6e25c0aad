using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Tests.Infrastructure;

public sealed class OperabilityTests(AppFixture app)
{
    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task Health_endpoints_answer_healthy(string path)
    {
        var answer = await app.Get(path);

        Assert.Equal(200, answer.Status);
        Assert.Equal("Healthy", await answer.Response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>
    /// The benchmark's server-side figures, which only a Development host serves (ProductionHostTests: 404 there): a route's
    /// request durations once it has answered, and the collector's counts.
    /// </summary>
    [Fact]
    public async Task In_development_the_benchmarks_figures_answer()
    {
        Assert.Equal(200, (await app.Get("/health/live")).Status);

        var durations = await app.Get("/api/dev/metrics/http.server.request.duration/health/live");
        var runtime = await app.Get("/api/dev/runtime");

        Assert.Equal(200, durations.Status);
        Assert.True(durations.Body!["count"]!.GetValue<int>() >= 1);
        Assert.Equal(200, runtime.Status);
        Assert.True(runtime.Body!["gen0Collections"]!.GetValue<int>() >= runtime.Body["gen2Collections"]!.GetValue<int>());
        Assert.True(runtime.Body["committedBytes"]!.GetValue<long>() > 0);
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_every_endpoint_and_the_reference_page_is_served()
    {
        var document = await app.Get("/openapi/v1.json");
        var reference = await app.Get("/scalar/v1");

        Assert.Equal(200, document.Status);
        var paths = document.Body!["paths"]!.AsObject().Select(p => p.Key).ToHashSet();
        Assert.Superset(new HashSet<string>
        {
            "/api/customers/{customerId}/touchpoints", "/api/touchpoints/batch", "/api/customers/{customerId}/journey", "/api/customers/{customerId}",
        }, paths);
        Assert.Equal(200, reference.Status);
        Assert.Equal("text/html", reference.Response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Touchpoints_appended_duplicated_and_rejected_are_counted_by_kind_and_source()
    {
        var source = Ids.Unique("metered");
        var measurements = new ConcurrentBag<(string Instrument, long Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == TouchpointMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            measurements.Add((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value))));
        listener.Start();

        var body = TouchpointJson.Purchase(source: source);
        await app.PostTouchpoint(Ids.Customer(), body);
        await app.PostTouchpoint(Ids.Customer(), body);
        await app.PostTouchpoint(Ids.Customer(), TouchpointJson.Kind("survey-answered", new JsonObject { ["csat"] = 9 }, source: source));

        var ours = measurements.Where(m => Equals(m.Tags.GetValueOrDefault("source"), source)).ToList();
        Assert.Single(ours, m => m.Instrument == "customerjourney.touchpoints.appended" && Equals(m.Tags["kind"], "purchase"));
        Assert.Single(ours, m => m.Instrument == "customerjourney.touchpoints.duplicates" && Equals(m.Tags["kind"], "purchase"));
        Assert.Contains(measurements, m => m.Instrument == "customerjourney.touchpoints.rejected" && Equals(m.Tags["kind"], "survey-answered"));
    }

    [Fact]
    public async Task Logs_never_contain_free_text_contact_details_tokens_or_keys()
    {
        var secret = $"my-secret-complaint-{Guid.NewGuid():N}";
        var email = $"x{Guid.NewGuid():N}@example.com";
        var customer = Ids.Customer();
        var key = await app.KeyFor(AppFixture.DefaultSource);
        var token = app.Token("log-reader", "agent");
        var complaint = TouchpointJson.Kind("complaint-logged",
            new JsonObject { ["complaintId"] = Ids.Unique("k"), ["category"] = "delivery", ["severity"] = "low", ["description"] = secret }, customer);

        await app.PostTouchpoint(customer, complaint);
        await app.PostTouchpoint(customer, complaint);
        await app.PostTouchpoint(customer, complaint.With("data.severity", "nope"));
        await app.PostTouchpoint(customer, TouchpointJson.Kind("contact-details-changed", new JsonObject { ["email"] = email }));
        await app.PostBatch([complaint.With("customerId", customer), complaint.With("customerId", "bad id")]);
        await app.PostTouchpoint(customer, complaint, Credentials.Key(key[..^3] + "abc"));
        await app.Get($"/api/customers/{customer}/journey", Credentials.Token(token));
        await app.Get($"/api/customers/{customer}/journey", Credentials.Token(token[..^4] + "AAAA"));

        Assert.NotEmpty(app.Logs.Messages);
        foreach (var sensitive in new[] { secret, email, key, key.Split('.')[2], token, token.Split('.')[2] })
        {
            Assert.DoesNotContain(app.Logs.Messages, m => m.Contains(sensitive, StringComparison.Ordinal));
        }
    }
}
