namespace CustomerJourney.Demo;

public static class DemoModule
{
    /// <summary>
    /// Registers the demo loader. It reads Demo:Enabled when it starts (by default on in Development only). Registered
    /// after the service's own wiring, so the event store schema is in place before the loader's first append.
    /// </summary>
    public static IServiceCollection AddDemo(this IServiceCollection services)
    {
        services.AddSingleton<DemoKeys>();
        services.AddHostedService<DemoLoader>();
        return services;
    }
}
