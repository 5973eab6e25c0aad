using Marten;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CustomerJourney.Infrastructure;

public static class Health
{
    public static IServiceCollection AddHealth(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"])
            .AddCheck<ProjectionHealthCheck>("projections", tags: ["projections"])
            // Degraded, not unhealthy: the readers carry on without those streams.
            .AddCheck<UnreadableStreamsHealthCheck>("unreadable-streams", tags: ["projections"]);
        services.AddSingleton<UnreadableStreams>();
        services.AddHostedService<ProjectionMonitor>();
        return services;
    }

    /// <summary>
    /// Live: the process answers. Ready: it can also reach PostgreSQL. Projections: no async projection has stopped
    /// (kept apart from ready, because a stopped projection must not take ingestion out of the load balancer).
    /// </summary>
    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") }).AllowAnonymous();
        app.MapHealthChecks("/health/projections", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains("projections"),
            ResponseWriter = WriteDetails,
        }).AllowAnonymous();
        return app;
    }

    private sealed class DatabaseHealthCheck(IDocumentStore store) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using var session = store.QuerySession();
                await session.QueryAsync<int>("select 1", cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
            {
                return HealthCheckResult.Unhealthy("PostgreSQL is unreachable.", e);
            }
        }
    }

    /// <summary>Every check's status, description and data, for the probes that explain themselves.</summary>
    public static Task WriteDetails(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), e.Value.Description, e.Value.Data }),
        });
    }
}
