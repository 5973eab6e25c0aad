using CustomerJourney.Demo;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;

namespace CustomerJourney.Specs.Demo;

/// <summary>Demo:Enabled: on by default in Development only, so the demo host never fills a production store unasked.</summary>
public sealed class DemoSwitchSpecs
{
    [Theory]
    [InlineData("Development", null, true)]
    [InlineData("Development", "false", false)]
    [InlineData("Production", null, false)]
    [InlineData("Staging", null, false)]
    [InlineData("Production", "true", true)]
    public void The_demo_loads_by_default_only_in_development(string environment, string? setting, bool loads)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [DemoLoader.EnabledKey] = setting })
            .Build();

        Assert.Equal(loads, DemoLoader.IsEnabled(configuration, new Environment(environment)));
    }

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "CustomerJourney.Demo";
        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
