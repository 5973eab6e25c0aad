using System.Globalization;
using System.Threading.RateLimiting;

namespace CustomerJourney.Access;

/// <summary>A token bucket: bursts up to <see cref="Burst"/> requests, refilled at <see cref="PerSecond"/> a second.</summary>
public class Budget
{
    public int Burst { get; set; }
    public int PerSecond { get; set; }
}

/// <summary>The budget of one named client: "key:&lt;id&gt;" or "user:&lt;name&gt;".</summary>
public sealed class ClientBudget : Budget
{
    public string Client { get; set; } = "";
}

/// <summary>Per-client request budgets (configuration section "RateLimits").</summary>
public sealed class RateLimitSettings
{
    public Budget SourceKey { get; set; } = new() { Burst = 2_000, PerSecond = 1_000 };
    public Budget User { get; set; } = new() { Burst = 300, PerSecond = 100 };
    public Budget Anonymous { get; set; } = new() { Burst = 60, PerSecond = 20 };

    /// <summary>Budgets for named clients, e.g. a bulk importer (a list, since client names contain ':').</summary>
    public List<ClientBudget> Clients { get; set; } = [];
}

public static class RateLimits
{
    public static IServiceCollection AddClientRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var settings = configuration.GetSection("RateLimits").Get<RateLimitSettings>() ?? new RateLimitSettings();
        var clients = settings.Clients.ToDictionary(c => c.Client, c => (Budget)c, StringComparer.Ordinal);
        services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                // Probes must keep working however busy a client is.
                if (context.Request.Path.StartsWithSegments("/health"))
                {
                    return RateLimitPartition.GetNoLimiter("health");
                }

                var user = context.User;
                string client;
                Budget budget;
                if (user.Identity?.IsAuthenticated == true)
                {
                    client = AccessClaims.Actor(user);
                    budget = clients.GetValueOrDefault(client) ?? (AccessClaims.IsSourceSystem(user) ? settings.SourceKey : settings.User);
                }
                else
                {
                    client = $"ip:{context.Connection.RemoteIpAddress}";
                    budget = settings.Anonymous;
                }

                return RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = budget.Burst,
                    TokensPerPeriod = budget.PerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            options.OnRejected = async (rejected, cancellation) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                var response = rejected.HttpContext.Response;
                response.StatusCode = StatusCodes.Status429TooManyRequests;
                response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
                        detail: $"This client's request budget is spent; retry after {seconds} s.")
                    .ExecuteAsync(rejected.HttpContext);
            };
        });
        return services;
    }
}
