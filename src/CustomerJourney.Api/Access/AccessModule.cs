using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Timeouts;
using Npgsql;

namespace CustomerJourney.Access;

public static class AccessModule
{
    private const string BearerOrApiKey = "BearerOrApiKey";

    public static WebApplicationBuilder AddAccess(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var jwt = builder.Configuration.GetSection("Auth:Jwt").Get<JwtSettings>() ?? new JwtSettings();
        jwt.Validate(builder.Environment.IsDevelopment());
        services.AddSingleton(jwt);
        var organisation = builder.Configuration.GetSection(OrganisationProviderSettings.Section).Get<OrganisationProviderSettings>() ?? new OrganisationProviderSettings();
        organisation.Validate(builder.Environment.IsDevelopment());
        services.AddSingleton(organisation);

        var authentication = services.AddAuthentication(BearerOrApiKey)
            .AddPolicyScheme(BearerOrApiKey, "Bearer token or API key", o => o.ForwardDefaultSelector = context =>
                ConsoleSignIn.Selects(context) ? ConsoleSignIn.CookieScheme
                : context.Request.Headers.ContainsKey(ApiKeySecrets.Header) ? ApiKeyAuthenticationHandler.SchemeName
                : organisation.AcceptsTokens && OrganisationBearer.IsItsToken(context.Request) ? OrganisationBearer.SchemeName
                : JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(o =>
            {
                o.MapInboundClaims = false;
                o.TokenValidationParameters = jwt.ValidationParameters();
                // Only the API-key handler makes a source system: a signed token claiming to be one is refused (401).
                o.Events = new JwtBearerEvents
                {
                    OnTokenValidated = context =>
                    {
                        if (AccessClaims.BearerRefusal(context.Principal!) is { } refusal)
                        {
                            context.Fail(refusal);
                        }

                        return Task.CompletedTask;
                    },
                };
            })
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        if (organisation.AcceptsTokens)
        {
            authentication.AddOrganisationBearer(organisation, jwt.ClockSkew);
        }

        authentication.AddConsoleCookie(builder.Configuration, builder.Environment.IsDevelopment());
        if (organisation.SignsInPeople)
        {
            authentication.AddOrganisationSignIn(organisation);
        }

        services.AddAccountEndpoints();
        services.AddSharedDataProtection();

        services.AddAuthorizationBuilder()
            // An endpoint that declares no policy is denied, even to an authenticated caller. A request that matches no
            // mapped route passes through to routing's own 404, or 405 (a method the route lacks: not a RouteEndpoint).
            .SetFallbackPolicy(new AuthorizationPolicyBuilder()
                .RequireAssertion(context => context.Resource is HttpContext http && http.GetEndpoint() is null or not RouteEndpoint)
                .Build())
            .AddPolicies();

        services.AddClientRateLimits(builder.Configuration);
        services.AddRequestTimeouts(o => o.DefaultPolicy = new RequestTimeoutPolicy
        {
            Timeout = builder.Configuration.GetValue("Limits:RequestTimeout", TimeSpan.FromSeconds(30)),
        });

        services.ConfigureMarten(options =>
        {
            options.Schema.For<ApiKey>();
            options.Schema.For<DataProtectionKey>();
            options.Events.AddEventType<CustomerErased>();
            options.Storage.ExtendedSchemaObjects.Add(ErasedCustomers.DefineTable(options.Events.DatabaseSchemaName));
        });

        var keyStoreConnection = builder.Configuration.GetConnectionString("KeyStore") ??
                                 builder.Configuration.GetConnectionString(Infrastructure.CritterStackSetup.ConnectionStringName)!;
        var keyStoreSchema = builder.Configuration["KeyStore:Schema"] ?? $"{builder.Configuration["EventStore:Schema"] ?? "journey"}_keys";
        // Read at start-up, so a missing, short or (outside Development) public key-encryption key refuses to start.
        var keyEncryption = builder.Configuration.GetSection("KeyEncryption").Get<KeyEncryptionOptions>() ?? new KeyEncryptionOptions();
        var keyRing = new KeyEncryptionKeyRing(keyEncryption, builder.Environment.IsDevelopment(), TimeProvider.System);
        services.AddSingleton(keyRing);
        services.AddSingleton<IKeyEncryptionKeys>(keyRing);
        services.AddKeyedSingleton(PostgresKeyStore.DataSourceKey,
            (sp, _) => PostgresKeyStore.DataSource(keyStoreConnection, sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton(sp => new PostgresKeyStore(sp.GetRequiredKeyedService<NpgsqlDataSource>(PostgresKeyStore.DataSourceKey), keyStoreSchema, keyRing,
            sp.GetRequiredService<ILogger<PostgresKeyStore>>()));
        services.AddSingleton(sp => new Infrastructure.StatisticsTarget("the key store",
            async cancellation => await sp.GetRequiredKeyedService<NpgsqlDataSource>(PostgresKeyStore.DataSourceKey).OpenConnectionAsync(cancellation), [keyStoreSchema]));
        services.AddSingleton<RecentLookups>();
        services.AddSingleton<IPersonalDataKeyStore>(sp => new RecentKeyStore(sp.GetRequiredService<PostgresKeyStore>(), sp.GetRequiredService<RecentLookups>()));
        services.AddSingleton<IPersonalDataProtector, EncryptedPersonalData>();
        services.AddSingleton<UnreadablePersonalData>();
        services.AddHostedService<KeyStoreBootstrap>();
        return builder;
    }

    private static AuthorizationBuilder AddPolicies(this AuthorizationBuilder authorization)
    {
        foreach (var (policy, roles) in Policies.RolesOf)
        {
            authorization.AddPolicy(policy, p => p.RequireAuthenticatedUser().RequireRole(roles));
        }

        return authorization;
    }

    public static WebApplication UseAccess(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.UseRequestTimeouts();
        if (app.Environment.IsDevelopment())
        {
            app.MapDevelopmentTokens();
        }

        app.MapAccountEndpoints();

        return app;
    }

    /// <summary>Creates the key store's schema before anything needs a key.</summary>
    private sealed class KeyStoreBootstrap(PostgresKeyStore keys) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => keys.EnsureCreatedAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
