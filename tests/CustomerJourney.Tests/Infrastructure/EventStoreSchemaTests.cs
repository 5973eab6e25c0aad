using System.Diagnostics;
using CustomerJourney.Complaints;
using Weasel.Core;
using Weasel.Postgresql;

namespace CustomerJourney.Tests.Infrastructure;

public sealed class EventStoreSchemaTests
{
    private const string Refresh = "scripts/export-schema";

    /// <summary>
    /// Runs Marten's own db-dump (the command behind scripts/export-schema) on the built service and compares
    /// it with eventstore-schema/, so the committed SQL never drifts from what the code would create.
    /// </summary>
    [Fact]
    public async Task The_exported_schema_matches_what_the_code_generates()
    {
        var repository = RepositoryRoot();
        var committed = Path.Combine(repository, "eventstore-schema", "marten.sql");
        var generated = Path.Combine(Path.GetTempPath(), $"cj-schema-{Guid.NewGuid():N}.sql");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { ServiceAssembly(repository), "db-dump", generated, "-d", "marten://store/" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["EventStore__Schema"] = "journey", ["ASPNETCORE_ENVIRONMENT"] = "Development" },
        };

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        Assert.True(File.Exists(generated), $"db-dump wrote nothing (exit {process.ExitCode}): {await output}{await error}");
        try
        {
            Assert.True(File.Exists(committed), $"eventstore-schema/marten.sql is missing: run {Refresh}");
            var expected = await File.ReadAllTextAsync(committed, TestContext.Current.CancellationToken);
            var actual = await File.ReadAllTextAsync(generated, TestContext.Current.CancellationToken);
            Assert.True(expected == actual,
                $"eventstore-schema/marten.sql differs from the schema the code generates. If the change is intended, run {Refresh} and commit the result.");
        }
        finally
        {
            File.Delete(generated);
        }
    }

    /// <summary>
    /// The audit chain's function, trigger function and trigger are part of the exported schema, after the event table
    /// the trigger fires on: an export (or a fresh db-apply) without them would store complaint events unsealed.
    /// </summary>
    [Fact]
    public async Task The_exported_schema_seals_complaint_events_once_the_event_table_exists()
    {
        var sql = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "eventstore-schema", "marten.sql"), TestContext.Current.CancellationToken);
        var eventTable = sql.IndexOf("CREATE TABLE IF NOT EXISTS journey.mt_events (", StringComparison.Ordinal);
        var chainTable = sql.IndexOf($"CREATE TABLE IF NOT EXISTS journey.{ComplaintAuditChain.ChainTable} (", StringComparison.Ordinal);
        Assert.True(eventTable >= 0 && chainTable >= 0, $"eventstore-schema/marten.sql lacks mt_events or the audit chain table: run {Refresh}");

        var previous = Math.Max(eventTable, chainTable);
        ISchemaObject[] sealing =
        [
            ComplaintAuditChain.DefineCanonicalFunction("journey"),
            ComplaintAuditChain.DefineSealFunction("journey"),
            ComplaintAuditChain.DefineSealTrigger("journey"),
        ];
        foreach (var schemaObject in sealing)
        {
            var create = new StringWriter();
            schemaObject.WriteCreateStatement(new PostgresqlMigrator(), create);
            var at = sql.IndexOf(create.ToString(), StringComparison.Ordinal);
            Assert.True(at > previous,
                $"eventstore-schema/marten.sql does not create {schemaObject.Identifier} after the tables it needs. Run {Refresh}. Expected:\n{create}");
            previous = at;
        }
    }

    /// <summary>
    /// The service as built beside these tests (same configuration). Run from its own folder: run from the test
    /// folder, the command-line tooling would scan the test runner's assemblies too.
    /// </summary>
    private static string ServiceAssembly(string repository)
    {
        var targetFramework = new DirectoryInfo(AppContext.BaseDirectory).Name;
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        return Path.Combine(repository, "src", "CustomerJourney.Api", "bin", configuration, targetFramework, "CustomerJourney.Api.dll");
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "CustomerJourney.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Could not find the repository root (CustomerJourney.sln) above the test binaries.");
    }
}
