namespace CustomerJourney.Tests.Support;

/// <summary>Waits on the thing itself: polls a condition until it holds, or fails saying what never happened.</summary>
public static class Waiting
{
    public static Task Until(Func<Task<bool>> holds, TimeSpan within, string what) => For(holds, held => held, within, what);

    /// <summary>Reads until what it reads holds, and gives that back; or fails with the last thing it read.</summary>
    public static async Task<T> For<T>(Func<Task<T>> read, Func<T, bool> holds, TimeSpan within, string what, TimeSpan? every = null)
    {
        var deadline = DateTimeOffset.UtcNow + within;
        while (true)
        {
            var last = await read();
            if (holds(last))
            {
                return last;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"Waited {within.TotalSeconds:F0} s for {what}, in vain; last seen: {last}");
            }

            await Task.Delay(every ?? TimeSpan.FromMilliseconds(100), TestContext.Current.CancellationToken);
        }
    }

    public static Task Until(Func<bool> holds, TimeSpan within, string what) => Until(() => Task.FromResult(holds()), within, what);
}
