using System.Runtime.CompilerServices;
using Marten;
using Marten.Services.BatchQuerying;

namespace CustomerJourney.Infrastructure;

/// <summary>
/// Reads of the async projections (customer summaries, purchase histories) that must not miss an acknowledged event.
/// One customer: FetchLatest, the stored copy advanced by any events the daemon has not applied yet. Many customers:
/// wait (bounded) until the daemon has caught up with the event store as it was when the read began.
/// </summary>
public static class ProjectionReads
{
    /// <summary>Below the 30 s request timeout, so a stuck projection answers 503 rather than 504.</summary>
    public static readonly TimeSpan CatchUpTimeout = TimeSpan.FromSeconds(20);

    public static async Task<T?> LatestAsync<T>(IDocumentSession session, string id, CancellationToken cancellation) where T : class =>
        await session.Events.FetchLatest<T>(id, cancellation);

    /// <summary>As <see cref="LatestAsync{T}"/>, queued on the caller's batch.</summary>
    public static Task<T?> Latest<T>(IBatchedQuery batch, string id) where T : class => batch.Events.FetchLatest<T>(id)!;

    /// <summary>Runs the query once the projection building <typeparamref name="T"/> has caught up.</summary>
    public static async Task<IReadOnlyList<TResult>> CaughtUpAsync<T, TResult>(IQuerySession session,
        Func<IQueryable<T>, IQueryable<TResult>> shape, CancellationToken cancellation) where T : notnull where TResult : notnull
    {
        try
        {
            return await shape(session.QueryForNonStaleData<T>(CatchUpTimeout)).ToListAsync(cancellation);
        }
        catch (TimeoutException e)
        {
            throw new ProjectionBehindException(typeof(T).Name, e);
        }
    }

    public static Task<IReadOnlyList<T>> CaughtUpAsync<T>(IQuerySession session, CancellationToken cancellation) where T : notnull =>
        CaughtUpAsync<T, T>(session, q => q, cancellation);

    /// <summary>How many rows a counted read reads between two reports.</summary>
    public const int ReportEvery = 1_000;

    /// <summary>
    /// Every <typeparamref name="T"/> once its projection has caught up, streamed row by row (the caller holds what it
    /// keeps), telling <paramref name="read"/>, when given, (rows read, rows there are) every <see cref="ReportEvery"/> rows:
    /// a background job shows how far a long read has come.
    /// </summary>
    public static async IAsyncEnumerable<T> CaughtUpStreamedAsync<T>(IQuerySession session, Action<int, int>? read,
        [EnumeratorCancellation] CancellationToken cancellation) where T : notnull
    {
        int total;
        try
        {
            total = await session.QueryForNonStaleData<T>(CatchUpTimeout).CountAsync(cancellation);
        }
        catch (TimeoutException e)
        {
            throw new ProjectionBehindException(typeof(T).Name, e);
        }

        read?.Invoke(0, total);
        var count = 0;
        await foreach (var row in session.Query<T>().ToAsyncEnumerable(cancellation))
        {
            yield return row;
            if (++count % ReportEvery == 0)
            {
                read?.Invoke(count, Math.Max(total, count));
            }
        }

        // Rows written after the count are read too: the total grows to what was read.
        read?.Invoke(count, Math.Max(total, count));
    }
}

/// <summary>The daemon did not catch up in time: it is far behind, or a projection stopped (see /health/projections).</summary>
public sealed class ProjectionBehindException(string document, Exception inner)
    : Exception($"The {document} projection did not catch up with the event store within {ProjectionReads.CatchUpTimeout.TotalSeconds:0} s.", inner)
{
    public string Document { get; } = document;
}
