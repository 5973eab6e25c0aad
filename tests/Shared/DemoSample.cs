using CustomerJourney.Demo;

namespace CustomerJourney.Tests.Support;

/// <summary>The CDNOW sample the demo loads, found above the test binaries.</summary>
public static class DemoSample
{
    public static string File()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, DemoLoader.DefaultDataFile);
            if (System.IO.File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"{DemoLoader.DefaultDataFile} not found above {AppContext.BaseDirectory}");
    }
}
