using System.Collections.Concurrent;
using CustomerJourney.Complaints;
using CustomerJourney.Infrastructure;

namespace CustomerJourney.Touchpoints;

/// <summary>
/// Shared commits: small writes that arrive while others are being written wait for their turn together, and the first of
/// them to get a turn writes all of them in one transaction (one lock statement, one claim, one append, one outbox message
/// of each kind), the way a database shares one log flush between the transactions that commit at once. Thirty-two clients
/// posting one touchpoint each then cost a few transactions, not thirty-two, and their reactions a few messages.
/// <para>
/// Each request still gets its own answer: its items' outcomes are read from the shared claim, a source id two requests
/// share is appended once (the other is told it is a duplicate), and each stores its own new customers' keys. Only writes
/// on behalf of the same caller through the same command share (the events name who recorded them and through which
/// command); complaint steps, writes that carry a case version, imported history and large batches always commit alone.
/// If a shared commit fails for any reason, each of its requests commits alone, and any error is then its own.
/// </para>
/// </summary>
public sealed partial class TouchpointLedger
{
    /// <summary>Writes of up to this many touchpoints may share a commit.</summary>
    public const int ShareableWrite = 50;

    /// <summary>A shared commit takes waiting writes until it holds this many touchpoints.</summary>
    public const int SharedCommitLimit = 1_000;

    private readonly ConcurrentDictionary<(string RecordedBy, string Command), ConcurrentQueue<PendingWrite>> _waiting = new();

    private static bool Shareable(IReadOnlyList<Touchpoint> touchpoints, LedgerWrite write) =>
        write.ExpectedCaseVersion is null && !write.Historic && touchpoints.Count <= ShareableWrite && !touchpoints.Any(ComplaintSteps.IsStep);

    private async Task<Written> RecordSharedAsync(IReadOnlyList<Touchpoint> touchpoints, LedgerWrite write, CancellationToken cancellation)
    {
        var pending = new PendingWrite(touchpoints, write);
        var queue = _waiting.GetOrAdd((write.RecordedBy, write.Command), _ => new ConcurrentQueue<PendingWrite>());
        queue.Enqueue(pending);
        // Whoever gets a turn writes what is waiting, oldest first. A request whose write another one took stops queueing for
        // a turn at once (it would only hold up the next commit) and waits for that commit's outcome.
        while (!pending.Taken.IsCompleted)
        {
            IDisposable? turn;
            try
            {
                turn = await admission.EnterUnlessAsync(pending.Taken, cancellation);
            }
            catch (OperationCanceledException) when (!pending.TryWithdraw())
            {
                // Cancelled as another request's commit took it: that commit's outcome is this request's.
                break;
            }

            if (turn is null)
            {
                break;
            }

            using (turn)
            {
                if (Take(queue) is { Count: > 0 } group)
                {
                    await CommitSharedAsync(group);
                }
            }
        }

        return await pending.Done.Task ?? await RecordAloneAsync(touchpoints, write, cancellation);
    }

    private static List<PendingWrite> Take(ConcurrentQueue<PendingWrite> queue)
    {
        var group = new List<PendingWrite>();
        var count = 0;
        while (count < SharedCommitLimit && queue.TryDequeue(out var next))
        {
            if (next.TryTake())
            {
                group.Add(next);
                count += next.Touchpoints.Count;
            }
        }

        return group;
    }

    /// <summary>
    /// Writes the group in one transaction and hands each request its part of the outcome. Not cancelled by any one request:
    /// the others are waiting for it.
    /// </summary>
    private async Task CommitSharedAsync(List<PendingWrite> group)
    {
        var all = group.SelectMany(p => p.Touchpoints).ToList();
        var offsets = new int[group.Count];
        for (var g = 1; g < group.Count; g++)
        {
            offsets[g] = offsets[g - 1] + group[g - 1].Touchpoints.Count;
        }

        try
        {
            var keys = ClaimOrder(all);
            var sealedBy = group.SelectMany(p => p.Touchpoints.Select(_ => p.Write.Keys)).ToArray();
            var written = await TransientConflicts.RetryAsync(() => AppendNewAsync(all, keys, group[0].Write, i => sealedBy[i], async (claimed, token) =>
            {
                var appended = claimed.ToHashSet();
                for (var g = 0; g < group.Count; g++)
                {
                    var own = Enumerable.Range(offsets[g], group[g].Touchpoints.Count).Where(appended.Contains).ToList();
                    if (own.Count > 0 && !await group[g].Write.Keys.KeepNewKeysAsync(CustomersOf(all, own), token))
                    {
                        return false;
                    }
                }

                return true;
            }, CancellationToken.None), logger, "Touchpoint append", CancellationToken.None);

            for (var g = 0; g < group.Count; g++)
            {
                var (from, to) = (offsets[g], offsets[g] + group[g].Touchpoints.Count);
                group[g].Done.TrySetResult(new Written([.. written.Claimed.Where(i => i >= from && i < to).Select(i => i - from)], written.Erased,
                    new Dictionary<int, ComplaintRuleException>(), new Dictionary<string, long>()));
            }
        }
        catch (Exception e) when (group.Count > 1)
        {
            // Two requests sealed one new customer's data with different keys, or anything else: each commits alone.
            logger.LogDebug(e, "A shared commit of {Writes} writes failed; each commits alone", group.Count);
            group.ForEach(p => p.Done.TrySetResult(null));
        }
        catch (Exception e)
        {
            group[0].Done.TrySetException(e);
        }
    }

    private sealed class PendingWrite(IReadOnlyList<Touchpoint> touchpoints, LedgerWrite write)
    {
        private readonly TaskCompletionSource _taken = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _state;

        public IReadOnlyList<Touchpoint> Touchpoints => touchpoints;

        public LedgerWrite Write => write;

        /// <summary>The request's part of a shared commit, or null: commit alone.</summary>
        public TaskCompletionSource<Written?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when a commit takes the write.</summary>
        public Task Taken => _taken.Task;

        /// <summary>A commit takes it, unless its request withdrew it first.</summary>
        public bool TryTake()
        {
            if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
            {
                return false;
            }

            _taken.SetResult();
            return true;
        }

        public bool TryWithdraw() => Interlocked.CompareExchange(ref _state, 2, 0) == 0;
    }
}
