using JasperFx.Events;
using Npgsql;

namespace CustomerJourney.Infrastructure;

/// <summary>
/// Conflicts that a fresh attempt of the same transaction resolves: deadlocks, serialization failures, another
/// writer appending to the same stream at the same moment (Marten's quick append then loses on the stream-version key),
/// and two writers starting one new stream (the loser hits the streams table's key).
/// Used by every writer to customer streams and by Wolverine's retry policy for handlers.
/// </summary>
public static class TransientConflicts
{
    // Writers appending at the version they read conflict when another wrote first; a handful of them on a busy machine needs room.
    private const int MaxAttempts = 10;

    public static bool IsTransient(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is EventStreamUnexpectedMaxEventIdException or JasperFx.ConcurrencyException or Marten.Exceptions.ExistingStreamIdCollisionException ||
                inner is PostgresException { SqlState: PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure } ||
                inner is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: var constraint } &&
                (constraint?.Contains("mt_events", StringComparison.Ordinal) == true || constraint?.Contains("mt_streams", StringComparison.Ordinal) == true))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Runs <paramref name="transaction"/>, again with a short random back-off when it hits a transient conflict.</summary>
    public static async Task<T> RetryAsync<T>(Func<Task<T>> transaction, ILogger logger, string what, CancellationToken cancellation)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await transaction();
            }
            catch (Exception e) when (attempt < MaxAttempts && IsTransient(e))
            {
                logger.LogWarning("{What}: attempt {Attempt} hit a transient conflict ({Conflict}); retrying", what, attempt,
                    (e as PostgresException ?? e.InnerException as PostgresException)?.SqlState ?? e.GetType().Name);
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 50) * attempt), cancellation);
            }
        }
    }
}
