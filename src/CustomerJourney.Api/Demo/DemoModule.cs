namespace CustomerJourney.Demo;

public static class DemoModule
{
    /// <summary>
    /// Registers the demo loader. It is always registered and reads Demo:Enabled when it starts, so a test
    /// host turns it off through configuration alone. Registered after the Critter Stack, so the event store
    /// schema is in place before the loader's first append.
    /// </summary>
    public static IServiceCollection AddDemo(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<DemoKeys>();
        services.AddHostedService<DemoLoader>();
        return services;
    }
}
