namespace CustomerJourney.Tests.Support;

/// <summary>Waits on the thing itself: polls a condition until it holds, or fails saying what never happened.</summary>
public static class Waiting
{
    public static async Task Until(Func<Task<bool>> holds, TimeSpan within, string what)
    {
        var deadline = DateTimeOffset.UtcNow + within;
        while (!await holds())
        {
            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"Waited {within.TotalSeconds:F0} s for {what}, in vain.");
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    public static Task Until(Func<bool> holds, TimeSpan within, string what) => Until(() => Task.FromResult(holds()), within, what);
}
