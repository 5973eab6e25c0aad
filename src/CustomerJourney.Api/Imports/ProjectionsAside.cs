using Marten.Events.Daemon.Coordination;
using Microsoft.Extensions.Options;

namespace CustomerJourney.Imports;

/// <summary>
/// Holds this node's async projections back while an import appends, and lets them catch up after: projecting a history
/// as it is copied reads every new event back while the COPY writes it, on the same cores (the profile in bench/README.md).
/// The import's status says "catching up, N events behind" until they have. Imports at once share one pause: the
/// projections resume when the last one ends, however it ends.
/// </summary>
public sealed class ProjectionsAside(IServiceProvider services, IOptions<ImportOptions> options, ILogger<ProjectionsAside> logger) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _holders;

    public async Task<IAsyncDisposable> HoldAsync(CancellationToken cancellation)
    {
        if (!options.Value.HoldProjectionsWhileAppending || services.GetService<IProjectionCoordinator>() is not { } coordinator)
        {
            return Nothing.Instance;
        }

        await _gate.WaitAsync(cancellation);
        try
        {
            if (_holders++ == 0)
            {
                logger.LogInformation("An import is appending: async projections on this node are held until it has");
                await coordinator.PauseAsync();
            }
        }
        finally
        {
            _gate.Release();
        }

        return new Hold(this, coordinator);
    }

    private async Task ReleaseAsync(IProjectionCoordinator coordinator)
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            if (--_holders == 0)
            {
                await coordinator.ResumeAsync();
                logger.LogInformation("Imports appended: async projections on this node resume");
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private sealed class Hold(ProjectionsAside owner, IProjectionCoordinator coordinator) : IAsyncDisposable
    {
        private int _released;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                await owner.ReleaseAsync(coordinator);
            }
        }
    }

    private sealed class Nothing : IAsyncDisposable
    {
        public static readonly Nothing Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
