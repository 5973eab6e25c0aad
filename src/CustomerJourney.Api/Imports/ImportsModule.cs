using Marten;

namespace CustomerJourney.Imports;

public static class ImportsModule
{
    public static IServiceCollection AddImports(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<ImportOptions>(configuration.GetSection("Imports"));
        services.AddSingleton<HistoryImport>();
        services.AddSingleton<ImportStatusReader>();
        services.AddSingleton<ProjectionsAside>();
        services.ConfigureMarten(options =>
        {
            options.Schema.For<ImportRun>();
            options.Storage.ExtendedSchemaObjects.Add(HistoryImport.DefineTable(options.Events.DatabaseSchemaName));
        });
        return services;
    }
}
