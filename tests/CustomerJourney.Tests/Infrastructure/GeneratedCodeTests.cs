using CustomerJourney.Tests.Faults;
using CustomerJourney.Tests.Support;

namespace CustomerJourney.Tests.Infrastructure;

/// <summary>
/// The service runs Wolverine's handlers and endpoints from code generated ahead of time (scripts/codegen), never from
/// code compiled at run time: Roslyn in the process cost ~130 MiB and a compile on each handler's first call.
/// </summary>
public sealed class GeneratedCodeTests(AppFixture app)
{
    private static readonly string Committed = Path.Combine(
        Path.GetDirectoryName(ServiceProcess.ApiDll())!, "..", "..", "..", "Internal", "Generated");

    [Fact]
    public async Task The_committed_code_is_what_the_handlers_and_endpoints_generate_today()
    {
        var regenerated = Directory.CreateTempSubdirectory("cj-codegen-").FullName;
        try
        {
            await using var service = new ServiceProcess(AppFixture.ConnectionString, ServiceHost.NewSchema("codegen"));
            service.Settings["CodeGeneration__OutputPath"] = regenerated;

            var (exit, output) = await service.RunCommandAsync("codegen", "write");

            Assert.True(exit == 0, $"codegen write exited with {exit}: {output}");
            var expected = Files(regenerated);
            var actual = Files(Committed);
            Assert.NotEmpty(expected);
            var missing = expected.Keys.Except(actual.Keys).ToList();
            var stale = actual.Keys.Except(expected.Keys).ToList();
            var changed = expected.Keys.Intersect(actual.Keys).Where(f => expected[f] != actual[f]).ToList();
            Assert.True(missing.Count + stale.Count + changed.Count == 0,
                "The committed generated code has drifted from the handlers and endpoints; run scripts/codegen and commit " +
                $"src/CustomerJourney.Api/Internal/Generated. Missing: [{string.Join(", ", missing)}]; no longer generated: " +
                $"[{string.Join(", ", stale)}]; changed: [{string.Join(", ", changed)}].");
        }
        finally
        {
            Directory.Delete(regenerated, recursive: true);
        }
    }

    [Fact]
    public async Task Handling_requests_and_reactions_loads_no_runtime_compiler()
    {
        var customer = Ids.Unique("codegen");
        var created = await app.PostTouchpoint(customer, TouchpointJson.Purchase(sourceId: Ids.Unique("codegen-order")));
        Assert.Equal(201, created.Status);
        // The purchase's reactions (flag evaluation, win-back attribution) run through Wolverine's handlers.
        await Waiting.Until(async () => (await app.Get($"/api/customers/{customer}/churn/flags", Analyst)).Status == 200,
            TimeSpan.FromSeconds(30), "the purchase's flag evaluation");

        var compilers = AppDomain.CurrentDomain.GetAssemblies()
            .Select(a => a.GetName().Name ?? "")
            .Where(name => name.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal))
            .ToList();
        Assert.Empty(compilers);
    }

    private Credentials Analyst => Credentials.Token(app.Token("codegen-analyst", "analyst"));

    private static Dictionary<string, string> Files(string root) =>
        Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), File.ReadAllText, StringComparer.Ordinal);
}
