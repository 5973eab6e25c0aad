using Alba;
using CustomerJourney.Access;
using CustomerJourney.Complaints;
using CustomerJourney.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Npgsql;

namespace CustomerJourney.Tests.Access;

/// <summary>Outside Development there is no token endpoint, and a missing or public signing or key-encryption key stops start-up.</summary>
public sealed class ProductionHostTests
{
    private static readonly string ProductionHeadKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    private static readonly string ProductionKeyEncryptionKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    private static readonly string ProductionUnsubscribeKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    private static readonly string ProductionBlindIndexKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    private static Task<IAlbaHost> StartProduction(string? signingKey, string? headSigningKey = null, string? keyEncryptionKey = null, string? schema = null,
        string? unsubscribeKey = null, string? blindIndexKey = null) => AlbaHost.For<Program>(builder =>
    {
        builder.UseEnvironment("Production");
        if (schema is not null)
        {
            builder.UseSetting("EventStore:Schema", schema);
        }

        builder.UseSetting("WinBack:Unsubscribe:SigningKey", unsubscribeKey ?? ProductionUnsubscribeKey);
        builder.UseSetting("WinBack:Unsubscribe:BaseUrl", "https://journey.example.com");
        builder.UseSetting("Auth:Jwt:SigningKey", signingKey ?? "");
        builder.UseSetting("Complaints:Audit:HeadSigningKey", headSigningKey ?? ProductionHeadKey);
        builder.UseSetting("KeyEncryption:Key", keyEncryptionKey ?? ProductionKeyEncryptionKey);
        builder.UseSetting("Identity:BlindIndexKey", blindIndexKey ?? ProductionBlindIndexKey);
    });

    [Fact]
    public async Task Outside_development_the_token_endpoint_and_the_benchmarks_figures_do_not_exist()
    {
        await using var host = await StartProduction("a-production-secret-that-is-long-enough-0123456789");
        using var client = host.Server.CreateClient();

        var answer = await client.PostAsync("/api/dev/tokens", new StringContent("{\"name\":\"x\",\"roles\":[\"admin\"]}", System.Text.Encoding.UTF8, "application/json"),
            TestContext.Current.CancellationToken);

        Assert.Equal(404, (int)answer.StatusCode);

        // A request the Development host would have timed by its route, so its summary would be there to read.
        Assert.Equal(200, (int)(await client.GetAsync("/health/live", TestContext.Current.CancellationToken)).StatusCode);
        foreach (var figures in new[] { "/api/dev/runtime", "/api/dev/metrics/http.server.request.duration/health/live" })
        {
            Assert.Equal(404, (int)(await client.GetAsync(figures, TestContext.Current.CancellationToken)).StatusCode);
        }
    }

    /// <summary>
    /// The demo lives in its own host (src/CustomerJourney.Demo), so the service never fills a store by itself. The schema,
    /// the audit chain's sealing trigger included, is in place before anything could be appended.
    /// </summary>
    [Fact]
    public async Task A_production_start_on_a_fresh_store_writes_no_event_and_no_stream_but_creates_the_sealing_trigger()
    {
        var schema = ServiceHost.NewSchema("prod");
        await using var connection = new NpgsqlConnection(AppFixture.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        try
        {
            await using (var host = await StartProduction("a-production-secret-that-is-long-enough-0123456789", schema: schema))
            {
                var ready = await host.Server.CreateClient().GetAsync("/health/ready", TestContext.Current.CancellationToken);
                Assert.Equal(200, (int)ready.StatusCode);
            }

            Assert.Equal((0L, 0L, 1L), (
                await Scalar(connection, $"select count(*) from {schema}.mt_events"),
                await Scalar(connection, $"select count(*) from {schema}.mt_streams"),
                await Scalar(connection, $"""
                    select count(*) from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
                    where n.nspname = '{schema}' and c.relname = 'mt_events' and t.tgname = '{ComplaintAuditChain.SealTrigger}'
                    """)));
        }
        finally
        {
            await ServiceHost.DropSchemas(schema);
        }
    }

    private static async Task<long> Scalar(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    [Theory]
    [InlineData(null)]
    [InlineData("short")]
    [InlineData(JwtSettings.DevelopmentSigningKey)]
    public async Task Outside_development_start_up_refuses_a_missing_short_or_public_signing_key(string? key)
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => StartProduction(key));

        Assert.Contains("Auth:Jwt:SigningKey", failure.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("c2hvcnQ=")]
    [InlineData("not base64!")]
    [InlineData(ChainHeadSigner.DevelopmentKey)]
    public async Task Outside_development_start_up_refuses_a_missing_short_or_public_chain_head_key(string key)
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => StartProduction("a-production-secret-that-is-long-enough-0123456789", key));

        Assert.Contains("Complaints:Audit:HeadSigningKey", failure.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("c2hvcnQ=")]
    [InlineData(KeyEncryptionOptions.DevelopmentKey)]
    public async Task Outside_development_start_up_refuses_a_missing_short_or_public_key_encryption_key(string key)
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => StartProduction("a-production-secret-that-is-long-enough-0123456789", keyEncryptionKey: key));

        Assert.Contains("key-encryption key", failure.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("c2hvcnQ=")]
    [InlineData(CustomerJourney.WinBack.UnsubscribeLinks.DevelopmentKey)]
    public async Task Outside_development_start_up_refuses_a_missing_short_or_public_unsubscribe_key(string key)
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => StartProduction("a-production-secret-that-is-long-enough-0123456789", unsubscribeKey: key));

        Assert.Contains("WinBack:Unsubscribe:SigningKey", failure.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("c2hvcnQ=")]
    [InlineData("not base64!")]
    [InlineData(CustomerJourney.Identity.IdentityOptions.DevelopmentBlindIndexKey)]
    public async Task Outside_development_start_up_refuses_a_missing_short_or_public_blind_index_key(string key)
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => StartProduction("a-production-secret-that-is-long-enough-0123456789", blindIndexKey: key));

        Assert.Contains("Identity:BlindIndexKey", failure.ToString(), StringComparison.Ordinal);
    }
}
