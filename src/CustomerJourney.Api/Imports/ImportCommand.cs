using System.Security.Claims;
using System.Security.Cryptography;
using CustomerJourney.Access;
using JasperFx.CommandLine;
using Wolverine.Runtime;

namespace CustomerJourney.Imports;

public sealed class ImportInput : NetCoreInput
{
    [Description("The history to import: NDJSON, one touchpoint per line in the batch item shape")]
    public string File { get; set; } = "";

    [Description("The source the file's touchpoints belong to (default: the file's name without extension)")]
    [FlagAlias("source", 's')]
    public string? SourceFlag { get; set; }
}

/// <summary>
/// The import as a command, for the operator of a service: it acts as the source system the file belongs to (its items
/// must name that source, as an API key's must), records its events as "import:&lt;source&gt;", commits chunk by chunk, and
/// resumes a cut-short run of the same file from its first unfinished chunk. Exits non-zero when any item was refused.
/// </summary>
[Description("Imports a history of touchpoints (NDJSON) at COPY speed, with a progress bar; re-run to resume", Name = "import")]
public sealed class ImportCommand : JasperFxAsyncCommand<ImportInput>
{
    public override async Task<bool> Execute(ImportInput input)
    {
        if (!System.IO.File.Exists(input.File))
        {
            await Console.Error.WriteLineAsync($"import: no such file '{input.File}'.");
            return false;
        }

        var source = input.SourceFlag ?? Path.GetFileNameWithoutExtension(input.File);
        if (!Touchpoints.TouchpointCatalogue.IdPattern().IsMatch(source))
        {
            await Console.Error.WriteLineAsync($"import: the source '{source}' {Touchpoints.TouchpointCatalogue.IdHint}; name it with --source.");
            return false;
        }

        using var host = input.BuildHost();
        // Only Wolverine's runtime: the outbox needs it; the web server and the projection daemon stay with the service.
        var wolverine = (IHostedService)host.Services.GetRequiredService<IWolverineRuntime>();
        await wolverine.StartAsync(CancellationToken.None);
        try
        {
            var import = host.Services.GetRequiredService<HistoryImport>();
            var caller = Caller(source);
            await using var file = System.IO.File.OpenRead(input.File);
            var run = import.Start(await RunIdAsync(source, input.File), AccessClaims.Actor(caller));
            var bar = new ProgressBar(file.Length, Console.Out);
            run = await import.RunAsync(run, file, caller, $"import {Path.GetFileName(input.File)}", bar.Show, CancellationToken.None);
            bar.Done();
            await Console.Out.WriteLineAsync(
                $"Import {run.Id}: {run.Items} items, {run.Appended} appended ({run.BulkAppended} by bulk append), {run.Duplicates} duplicates, {run.RejectedCount} refused.");
            foreach (var rejection in run.Rejected.Take(10))
            {
                await Console.Error.WriteLineAsync($"import: item {rejection.Index}: {rejection.Problem.Title}: {Describe(rejection.Problem)}");
            }

            return run.RejectedCount == 0;
        }
        catch (ImportAlreadyRunningException e)
        {
            await Console.Error.WriteLineAsync($"import: {e.Message}");
            return false;
        }
        finally
        {
            await wolverine.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>A source system's principal for the source, as the API-key handler makes it, named "import:&lt;source&gt;".</summary>
    private static ClaimsPrincipal Caller(string source) => new(new ClaimsIdentity(
        [new Claim(AccessClaims.Name, $"import:{source}"), new Claim(AccessClaims.Role, Roles.SourceSystem), new Claim(AccessClaims.Source, source)],
        ApiKeyAuthenticationHandler.SchemeName, AccessClaims.Name, AccessClaims.Role));

    /// <summary>The same file under the same source resumes; a changed file (another length or beginning) is a new import.</summary>
    private static async Task<string> RunIdAsync(string source, string path)
    {
        await using var file = System.IO.File.OpenRead(path);
        var head = new byte[Math.Min(file.Length, 1024 * 1024)];
        await file.ReadExactlyAsync(head);
        var print = Convert.ToHexStringLower(SHA256.HashData(head))[..12];
        return $"import:{source}:{Path.GetFileName(path)}:{file.Length}:{print}";
    }

    private static string Describe(Touchpoints.ProblemDetailsBody problem) => problem.Errors is { Count: > 0 } errors
        ? string.Join("; ", errors.Select(e => $"{e.Key} {string.Join(" ", e.Value)}"))
        : problem.Detail;
}

/// <summary>events, events/s and the time left (by bytes read), redrawn in place on a terminal, a line per update otherwise.</summary>
internal sealed class ProgressBar(long totalBytes, TextWriter output)
{
    private const int Width = 30;
    private readonly bool _inPlace = !Console.IsOutputRedirected;

    public void Show(ImportProgress p)
    {
        var share = totalBytes == 0 ? 1 : Math.Clamp((double)p.BytesRead / totalBytes, 0, 1);
        var rate = p.Elapsed.TotalSeconds > 0 ? p.Appended / p.Elapsed.TotalSeconds : 0;
        var left = share > 0 ? TimeSpan.FromSeconds(p.Elapsed.TotalSeconds * (1 - share) / share) : TimeSpan.Zero;
        var filled = (int)(share * Width);
        var line = $"[{new string('#', filled)}{new string('.', Width - filled)}] {share:P0} {p.Items:N0} items, {p.Appended:N0} events, " +
                   $"{rate:N0} events/s, ETA {left:hh\\:mm\\:ss}";
        if (_inPlace)
        {
            output.Write($"\r{line}   ");
        }
        else
        {
            output.WriteLine(line);
        }
    }

    public void Done()
    {
        if (_inPlace)
        {
            output.WriteLine();
        }
    }
}
