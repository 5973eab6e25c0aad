using System.Text.Json;
using CustomerJourney.Access;
using Marten;

namespace CustomerJourney.Demo;

/// <summary>
/// Development only: one API key per demo source system, so the demo can be driven the way source systems
/// drive it. Keys are kept in .local/demo-keys.json (ignored by git) and reused while they still verify;
/// they are printed to the console, never to the logs.
/// </summary>
public sealed class DemoKeys(IDocumentStore store, TimeProvider clock)
{
    public const string FileName = ".local/demo-keys.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public async Task EnsureAsync(string repositoryRoot, CancellationToken cancellation)
    {
        var path = Path.Combine(repositoryRoot, FileName);
        var known = File.Exists(path)
            ? JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(path, cancellation)) ?? []
            : [];

        await using var session = store.LightweightSession();
        var keys = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in DemoTouchpoints.Sources)
        {
            if (known.TryGetValue(source, out var key) && await StillValid(session, key, source, cancellation))
            {
                keys[source] = key;
                continue;
            }

            var (issued, stored) = ApiKeySecrets.Issue(source, DemoLoader.Actor, clock.GetUtcNow());
            session.Store(stored);
            keys[source] = issued;
        }

        await session.SaveChangesAsync(cancellation);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(keys, Indented), cancellation);

        Console.WriteLine($"Demo API keys (header {ApiKeySecrets.Header}), also in {path}:");
        foreach (var (source, key) in keys)
        {
            Console.WriteLine($"  {source,-16} {key}");
        }
    }

    private static async Task<bool> StillValid(IQuerySession session, string key, string source, CancellationToken cancellation) =>
        ApiKeySecrets.TryParse(key, out var id, out var secret) &&
        await session.LoadAsync<ApiKey>(id, cancellation) is { IsRevoked: false } stored &&
        stored.Source == source && ApiKeySecrets.Matches(stored, secret);
}
