using System.Text.Json;
using System.Text.Json.Serialization;
using JasperFx;
using JasperFx.CodeGeneration;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using Marten;
using Npgsql;
using Weasel.Core;
using Weasel.Postgresql.Connections;
using Wolverine;
using Wolverine.ErrorHandling;
using Wolverine.Http;
using Wolverine.Marten;

namespace CustomerJourney.Infrastructure;

/// <summary>Marten and Wolverine defaults every slice relies on.</summary>
public static class CritterStackSetup
{
    /// <summary>Wolverine's envelope tables live beside the event store, in their own schema.</summary>
    public static string WolverineSchema(string eventStoreSchema) => $"{eventStoreSchema}_wolverine";

    public const string ConnectionStringName = "Marten";

    /// <summary>Batches of up to this many statements get an Npgsql trace span.</summary>
    public const int TracedBatchStatements = 50;

    /// <summary>How enums look on the wire and in the store: "goodwill-credit", "not-reached", "store".</summary>
    public static void ConfigureJson(JsonSerializerOptions options)
    {
        // First in the list, so it wins over the default-named enum converter Marten registers for EnumStorage.AsString.
        options.Converters.Insert(0, new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
    }

    /// <summary>How typed request bodies are bound: by the framework for the endpoints, by <see cref="FieldReader.Bind{T}"/> for a batch item.</summary>
    public static void ConfigureRequestJson(JsonSerializerOptions options)
    {
        ConfigureJson(options);
        // Request bodies refuse members they do not define; a typo must not pass silently.
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        // The web defaults read "12" as a number; an amount sent as a string is the wrong type, as the touchpoint intake says.
        options.NumberHandling = JsonNumberHandling.Strict;
        options.MaxDepth = 32;
    }

    /// <summary>A stable advisory-lock id per event-store schema (string.GetHashCode differs per process).</summary>
    public static int DaemonLockId(string schema)
    {
        var hash = 2166136261u;
        foreach (var c in schema)
        {
            hash = unchecked((hash ^ c) * 16777619u);
        }

        return (int)(hash & 0x3FFFFFFF) + 1_000_000;
    }

    /// <summary>
    /// Npgsql prepares a statement on a connection once it has run there twice, unless the connection string sets
    /// <c>Max Auto Prepare</c> itself (0 turns it off): an ingest batch runs the same quick append and the same upserts
    /// thousands of times, and PostgreSQL parsed and planned each one (bench/README.md).
    /// </summary>
    public static NpgsqlDataSourceBuilder PreparingRepeatedStatements(NpgsqlDataSourceBuilder builder)
    {
        // The base builder knows no keywords: it holds only the keys the connection string has.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = builder.ConnectionString };
        if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey("MaxAutoPrepare"))
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
            builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        }

        return builder;
    }

    /// <summary>
    /// How each of the service's data sources is built (the event store's and the key store's): repeated statements prepared,
    /// Npgsql's log through the service's, and no trace span for a batch of more than <see cref="TracedBatchStatements"/>
    /// statements: Npgsql names each span after its SQL, and for a batch it joins every statement's text first, whether or
    /// not a span is then recorded. An ingest batch is thousands of statements; joining them was 8 % of everything the
    /// service allocated under load (bench/README.md). Commands and small batches keep their spans.
    /// </summary>
    public static NpgsqlDataSourceBuilder ServiceDataSource(string connectionString, ILoggerFactory logging) =>
        PreparingRepeatedStatements(new NpgsqlDataSourceBuilder(connectionString))
            .UseLoggerFactory(logging)
            .ConfigureTracing(tracing => tracing.ConfigureBatchFilter(batch => batch.BatchCommands.Count <= TracedBatchStatements));

    public static WebApplicationBuilder AddCritterStack(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                "ConnectionStrings:Marten is not set. Start the service with scripts/run (it starts a project-local " +
                "PostgreSQL), or set the environment variable ConnectionStrings__Marten to an existing PostgreSQL.");
        }

        var schema = builder.Configuration["EventStore:Schema"] ?? "journey";

        builder.Services.ConfigureHttpJsonOptions(o => ConfigureRequestJson(o.SerializerOptions));

        builder.Services.AddMarten(services =>
            {
                var options = new StoreOptions();
                // Marten's own data source factory, building its data source as the service builds each of its own.
                var logging = services.GetRequiredService<ILoggerFactory>();
                options.DataSourceFactory(new DefaultNpgsqlDataSourceFactory(connection => ServiceDataSource(connection, logging)), connectionString);
                options.DatabaseSchemaName = schema;
                options.Events.DatabaseSchemaName = schema;
                options.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.CamelCase, ConfigureJson);
                options.Storage.ExtendedSchemaObjects.Add(IdempotencyKeys.DefineTable(schema));

                // Customer ids come from source systems as strings; streams are keyed by them.
                options.Events.StreamIdentity = StreamIdentity.AsString;
                // Quick: the database numbers each stream's versions in the append itself, with no read of mt_streams per
                // stream first (Rich read one row per customer before every batch: the load benchmark's most frequent
                // statement). Safe because no writer depends on Rich's implicit check: every writer of a customer stream
                // either takes the customers' locks (CustomerLocks: ingest, flag evaluations) or appends at the version it
                // read (complaint steps through FetchForWriting, win-back, profiles, unsubscribes), which Marten checks in
                // the database under Quick as under Rich; the per-customer projections are async.
                options.Events.AppendMode = EventAppendMode.Quick;
                // A commit PostgreSQL refuses is never replayed by Marten: its retry would run only Marten's own part of the
                // unit of work, in a fresh transaction, without what the writer did on the same connection first (the
                // claim of the source ids, the customers' locks, the keys of new customers), so a touchpoint was stored
                // unclaimed and its re-send stored again (a full disk did it). Writers try again whole (TransientConflicts,
                // Wolverine's retries) or fail, and the client sends again.
                options.ConfigureWritePolly(_ => { });
                options.Events.MetadataConfig.CorrelationIdEnabled = true;
                options.Events.MetadataConfig.CausationIdEnabled = true;
                options.Events.MetadataConfig.UserNameEnabled = true;

                // The busy per-customer projections run in the async daemon. A projection that throws on an event
                // stops there and says so (health, log, metric): skipping it would leave a summary silently wrong.
                // Unknown event types are still skipped, so an older node survives a newer one's events.
                options.Projections.Errors.SkipApplyErrors = false;
                options.Projections.Errors.SkipSerializationErrors = false;
                options.Events.EnableExtendedProgressionTracking = true;
                // Marten's default, said out loud: a gap in the event sequence is skipped only once PostgreSQL shows no
                // transaction that could still fill it. Skipping on the clock alone lost a slow batch's purchases from the
                // purchase history for good (SlowTransactionTests).
                options.Projections.UseTransactionEvidenceForGapSkipping = true;
                // HotCold takes an advisory lock per async shard. Schemas sharing one database (tests, benchmarks) each
                // get their own base id, so their daemons never wait on each other's locks.
                options.Projections.DaemonLockId = DaemonLockId(schema);

                options.OpenTelemetry.TrackConnections = JasperFx.OpenTelemetry.TrackLevel.Normal;
                options.OpenTelemetry.TrackEventCounters();
                options.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
                return options;
            })
            .UseLightweightSessions()
            // HotCold, not Solo: with two or more instances each projection still runs on exactly one of them.
            .AddAsyncDaemon(DaemonMode.HotCold)
            .ApplyAllDatabaseChangesOnStartup()
            .IntegrateWithWolverine(w => w.MessageStorageSchemaName = WolverineSchema(schema));

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IdempotencyKeys>();
        builder.Services.AddSingleton(services => new StatisticsTarget("the event store", async cancellation =>
        {
            var connection = services.GetRequiredService<IDocumentStore>().Storage.Database.CreateConnection();
            await connection.OpenAsync(cancellation);
            return connection;
        }, [schema, WolverineSchema(schema)]));
        builder.Services.AddHostedService<PlannerStatistics>();

        builder.Host.UseWolverine(options =>
        {
            // Without it a test host (whose entry assembly is the test runner) finds no endpoints.
            options.ApplicationAssembly = typeof(CritterStackSetup).Assembly;
            // The handlers' and endpoints' code is generated ahead of time (scripts/codegen writes Internal/Generated) and
            // compiled with the service: no Roslyn at run time, which saved ~130 MiB and the compile on each first call.
            // GeneratedCodeTests regenerates it elsewhere (CodeGeneration:OutputPath) and fails when the committed code drifted.
            options.CodeGeneration.TypeLoadMode = TypeLoadMode.Static;
            if (builder.Configuration["CodeGeneration:OutputPath"] is { Length: > 0 } generatedCodePath)
            {
                options.CodeGeneration.GeneratedCodeOutputPath = generatedCodePath;
            }
            options.Policies.AutoApplyTransactions();
            // Two writers appending to one stream at once: the loser simply tries again with the new version.
            options.Policies.OnException(TransientConflicts.IsTransient)
                .RetryWithCooldown(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(1))
                // Under a heavy ingest a sweep over thousands of customers may keep losing; it waits, durably, and tries again.
                .Then.ScheduleRetry(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2));
            options.Policies.UseDurableLocalQueues();
            // Balanced (Wolverine's default, said out loud): with several instances on one database, the durable
            // agents that recover the inbox/outbox and fire scheduled messages (SLA timers, offer retries) are
            // assigned to exactly one node at a time.
            options.Durability.Mode = DurabilityMode.Balanced;
        });
        builder.Services.AddWolverineHttp();
        return builder;
    }
}
