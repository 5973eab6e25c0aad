using CustomerJourney.Access;
using CustomerJourney.Churn;
using CustomerJourney.Complaints;
using CustomerJourney.Identity;
using CustomerJourney.Imports;
using CustomerJourney.Infrastructure;
using CustomerJourney.Journeys;
using CustomerJourney.Touchpoints;
using CustomerJourney.TrackingApi;
using CustomerJourney.WebConsole;
using CustomerJourney.WinBack;
using JasperFx;
using Scalar.AspNetCore;
using Wolverine.Http;

namespace CustomerJourney;

/// <summary>The service. Public for the test host, which starts it through its entry point.</summary>
public sealed class Program
{
    private Program()
    {
    }

    public static Task<int> Main(string[] args) => RunAsync(new WebApplicationOptions { Args = args }, extend: null);

    /// <summary>
    /// Wires and runs the service. <paramref name="extend"/> adds to the wiring before the host is built: only the demo
    /// host (src/CustomerJourney.Demo, what scripts/run starts) uses it, to add its loader; a production start has none.
    /// </summary>
    public static async Task<int> RunAsync(WebApplicationOptions options, Action<WebApplicationBuilder>? extend)
    {
        var builder = WebApplication.CreateBuilder(options);

        builder.AddCritterStack();
        builder.AddAccess();
        builder.AddObservability();
        builder.Services.AddProblems();
        builder.Services.AddHealth();
        builder.Services.AddOpenApi();

        builder.Services.AddTouchpoints(builder.Configuration);
        builder.Services.AddJourneys();
        builder.Services.AddChurn(builder.Configuration);
        builder.Services.AddComplaints(builder.Configuration);
        builder.Services.AddWinBack(builder.Configuration);
        builder.AddTracking();
        builder.AddIdentity();
        builder.Services.AddConsole(builder.Environment.IsDevelopment());
        builder.Services.AddImports(builder.Configuration);
        extend?.Invoke(builder);

        var app = builder.Build();

        app.UseProblems();
        app.UseAccess();
        app.UseRequestMediaTypes();
        app.UseTypedJsonBodies();
        app.MapHealth();
        app.MapDevelopmentMetrics();
        app.MapWinBack();
        app.MapConsole();
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference().AllowAnonymous();
        app.MapWolverineEndpoints();

        return await app.RunJasperFxCommands(options.Args ?? []);
    }
}
