namespace CustomerJourney.Demo;

/// <summary>
/// The entry point scripts/run starts: the service exactly as Program wires it, plus the demo loader, which fills an
/// empty store with the CDNOW history at start-up (Development only, unless Demo:Enabled says otherwise).
/// </summary>
public static class DemoHost
{
    public static Task<int> Main(string[] args) =>
        Program.RunAsync(
            // dotnet run starts a program in its project folder, which holds no settings; the service's appsettings files
            // are built beside this assembly.
            new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory },
            builder => builder.Services.AddDemo());
}
