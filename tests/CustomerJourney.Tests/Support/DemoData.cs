using CustomerJourney.Demo;
using CustomerJourney.Touchpoints;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace CustomerJourney.Tests.Support;

/// <summary>Loads the CDNOW demo into the run's store through the service's own loader (idempotent, so any test may call it).</summary>
public static class DemoData
{
    public static DemoLoader Loader(AppFixture app) => Loader(app.Host.Services);

    /// <summary>The demo host's loader, on the services of any host of the service (the demo is not part of the service itself).</summary>
    public static DemoLoader Loader(IServiceProvider services)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [DemoLoader.EnabledKey] = "true", [DemoLoader.DataFileKey] = DemoSample.File() })
            .Build();
        return new DemoLoader(configuration, services.GetRequiredService<TouchpointLedger>(), services.GetRequiredService<IPersonalDataProtector>(),
            new DemoKeys(services.GetRequiredService<Marten.IDocumentStore>(), TimeProvider.System), new NotDevelopment(), NullLogger<DemoLoader>.Instance);
    }

    public static Task LoadAsync(AppFixture app) => LoadAsync(app.Host.Services);

    public static Task LoadAsync(IServiceProvider services) => Loader(services).StartAsync(TestContext.Current.CancellationToken);

    /// <summary>The demo's API keys are a Development convenience that these tests do not need.</summary>
    private sealed class NotDevelopment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Test";
        public string ApplicationName { get; set; } = "CustomerJourney.Api";
        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
