using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Alba;
using CustomerJourney.Access;
using CustomerJourney.MailSink;
using CustomerJourney.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace CustomerJourney.Tests.WinBack;

/// <summary>
/// A host on a schema of its own, writing to a real SMTP sink on loopback. Campaigns select from the whole store, so
/// each win-back test gets a store that holds only its own customers; fault tests that must not disturb the shared
/// host (a projection stopped on purpose) use it too.
/// </summary>
public sealed class WinBackHost : ServiceHost, IAsyncDisposable
{
    public string Schema { get; private init; } = NewSchema("winback");

    public SmtpSink Sink { get; private init; } = null!;

    /// <summary>A second instance on another's schema and sink; the first one owns (and drops) both.</summary>
    private bool _joined;

    private IReadOnlyDictionary<string, string> _settings = new Dictionary<string, string>();

    public static async Task<WinBackHost> StartAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var host = new WinBackHost { _settings = settings ?? new Dictionary<string, string>(), Sink = new SmtpSink(FreePort()).Start() };
        await host.RestartAsync();
        return host;
    }

    /// <summary>Another instance of the service on the same database schema, delivering to the same sink.</summary>
    public static async Task<WinBackHost> JoinAsync(WinBackHost first)
    {
        var host = new WinBackHost { _settings = first._settings, Schema = first.Schema, Sink = first.Sink, _joined = true };
        await host.RestartAsync();
        return host;
    }

    /// <summary>Stops the host (if running) and starts a fresh one on the same schema, as a restarted service would.</summary>
    public async Task RestartAsync()
    {
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        Host = await AlbaHost.For<Program>(builder =>
        {
            builder.ConfigureLogging(logging => logging.AddProvider(Logs));
            builder.UseSetting("EventStore:Schema", Schema)
                .UseSetting("WinBack:Smtp:Host", "127.0.0.1")
                .UseSetting("WinBack:Smtp:Port", Sink.Port.ToString(System.Globalization.CultureInfo.InvariantCulture))
                // The tests give their customers real addresses; the demo's made-up ones stay out.
                .UseSetting("WinBack:Smtp:FallbackAddressTemplate", "");
            foreach (var (key, value) in _settings)
            {
                builder.UseSetting(key, value);
            }
        });
    }

    public async Task StopAsync()
    {
        await Host.DisposeAsync();
        Host = null!;
    }

    public async Task<(int Status, JsonNode? Body)> Send(HttpMethod method, string url, JsonNode? body, string role)
    {
        var (status, _, text) = await SendRaw(method, url, body?.ToJsonString(), role);
        return (status, text.Length > 0 && text[0] is '{' or '[' ? JsonNode.Parse(text) : null);
    }

    /// <summary>Any body, as bytes on the wire: what the bad-input soak sends.</summary>
    public async Task<(int Status, string? ContentType, string Text)> SendRaw(HttpMethod method, string url, string? body, string role)
    {
        var (response, text) = await this.Exchange(method, url, body, "application/json; charset=utf-8", Staff(role));
        using (response)
        {
            return ((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, text);
        }
    }

    /// <summary>A member of staff in <paramref name="role"/>.</summary>
    public Credentials Staff(string role) => Credentials.Token(Token($"{role}-1", [role], channel: null, TimeSpan.FromMinutes(10)));

    public Task<(int Status, JsonNode? Body)> Get(string url, string role = "marketing") => Send(HttpMethod.Get, url, null, role);

    /// <summary>A request without credentials (the probes, an unsubscribe link), with any body and media type.</summary>
    public async Task<(int Status, string Text)> SendAnonymous(HttpMethod method, string url, string? body = null, string contentType = "application/json")
    {
        using var client = Host.Server.CreateClient();
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        }

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>Touchpoints as staff record them (source "staff").</summary>
    public async Task Record(params JsonObject[] touchpoints)
    {
        foreach (var t in touchpoints)
        {
            t["source"] = SourceOwnership.StaffSource;
        }

        var answer = await this.PostBatch(touchpoints, Staff("agent"));
        Assert.True(answer.Status == 200 && answer.Body!["rejected"]!.AsArray().Count == 0, $"{answer.Status} {answer.Body}");
    }

    /// <summary>Polls a read until it holds, or fails with what it last saw.</summary>
    public async Task<JsonNode> Eventually(string url, Func<JsonNode, bool> holds, TimeSpan? within = null) =>
        (await Waiting.For(() => Get(url), answer => answer.Status == 200 && holds(answer.Body!), within ?? TimeSpan.FromSeconds(30),
            $"{url} to reach the expected state", TimeSpan.FromMilliseconds(200))).Body!;

    /// <summary>Offer messages (send decisions and deliveries) Wolverine still holds: incoming, in flight or waiting for a retry.</summary>
    public Task<long> PendingOffers() => Envelopes("status <> 'Handled' and message_type like '%WinBackOffer%'");

    /// <summary>Deliveries that failed and wait in the durable store for their scheduled retry.</summary>
    public Task<long> ScheduledDeliveries() => Envelopes("status = 'Scheduled' and message_type like '%DeliverWinBackOffer%'");

    private async Task<long> Envelopes(string condition)
    {
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand($"select count(*) from {Schema}_wolverine.wolverine_incoming_envelopes where {condition}", connection);
        return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    /// <summary>Until the sink holds <paramref name="distinct"/> messages and Wolverine holds no offer message any more.</summary>
    public Task Settled(int distinct, TimeSpan within) =>
        Waiting.Until(async () => Sink.Distinct.Count >= distinct && await PendingOffers() == 0, within, $"{distinct} distinct offers at the sink and none pending");

    public async ValueTask DisposeAsync()
    {
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        if (_joined)
        {
            return;
        }

        await Sink.DisposeAsync();
        await DropSchemas(Schema);
    }
}
