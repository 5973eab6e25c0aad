namespace CustomerJourney.Demo;

public static class DemoModule
{
    public static IServiceCollection AddDemo(this IServiceCollection services, IConfiguration configuration)
    {
        return services;
    }
}
