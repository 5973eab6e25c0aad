using CustomerJourney.Demo;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace CustomerJourney.Tests.Demo;

public sealed class DemoLoaderTests(AppFixture app)
{
    private async Task<long> DemoEventCount()
    {
        await using var session = app.Store.QuerySession();
        return await session.Events.QueryAllRawEvents()
            .Where(e => e.StreamKey!.StartsWith("cdnow-"))
            .CountAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Loading_the_demo_twice_appends_nothing_the_second_time()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [DemoLoader.EnabledKey] = "true", [DemoLoader.DataFileKey] = DemoTouchpointsSpecs.SampleFile() })
            .Build();
        var services = app.Host.Services;
        var loader = new DemoLoader(configuration, services.GetRequiredService<TouchpointLedger>(), services.GetRequiredService<IPersonalDataProtector>(),
            services.GetRequiredService<DemoKeys>(), new NotDevelopment(), NullLogger<DemoLoader>.Instance);
        var expected = DemoTouchpoints.Build(CdnowPurchaseLog.Read(DemoTouchpointsSpecs.SampleFile()), (_, s) => s).Count;

        await loader.StartAsync(TestContext.Current.CancellationToken);
        var afterFirst = await DemoEventCount();
        await loader.StartAsync(TestContext.Current.CancellationToken);
        var afterSecond = await DemoEventCount();

        Assert.Equal(expected, afterFirst);
        Assert.Equal(afterFirst, afterSecond);
        var journey = await app.Get("/api/customers/cdnow-0001/journey");
        Assert.Equal(200, journey.Status);
    }

    /// <summary>The demo's API keys are a Development convenience; this test is about the data.</summary>
    private sealed class NotDevelopment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Test";
        public string ApplicationName { get; set; } = "CustomerJourney.Api";
        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;
        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = new Microsoft.Extensions.FileProviders.NullFileProvider();
    }
}
