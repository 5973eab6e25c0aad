using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace CustomerJourney.Infrastructure;

/// <summary>Every error leaves as an RFC 7807 problem document, with the status the failure deserves.</summary>
public static class Problems
{
    /// <summary>A 400 problem naming each refused field: what a Wolverine <c>Validate</c> method returns to stop a request.</summary>
    public static Microsoft.AspNetCore.Mvc.ProblemDetails Invalid(IDictionary<string, string[]> errors, string title) =>
        new Microsoft.AspNetCore.Mvc.ValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status400BadRequest,
            Title = title,
            Type = "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        };

    public static IServiceCollection AddProblems(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        services.AddExceptionHandler<DatabaseUnavailableHandler>();
        services.AddExceptionHandler<ProjectionBehindHandler>();
        return services;
    }

    public static WebApplication UseProblems(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // Kestrel and model binding signal client errors (body too large, malformed request) with this
            // exception; they are the client's fault, not a 500.
            StatusCodeSelector = e => e is BadHttpRequestException bad ? bad.StatusCode
                : DatabaseUnavailableHandler.IsUnavailable(e) || TransientConflicts.IsTransient(e) || e is ProjectionBehindException
                    ? StatusCodes.Status503ServiceUnavailable
                : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        return app;
    }

    private sealed class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
        {
            if (exception is not BadHttpRequestException bad)
            {
                return false;
            }

            context.Response.StatusCode = bad.StatusCode;
            return await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = { Status = bad.StatusCode, Title = "Bad request", Detail = bad.Message },
            });
        }
    }

    /// <summary>
    /// PostgreSQL unreachable, shutting down, or out of disk: the request did not take effect and may be retried, so the
    /// answer is 503 with Retry-After, not a 500 that reads like a bug.
    /// </summary>
    private sealed class DatabaseUnavailableHandler(IProblemDetailsService problems) : IExceptionHandler
    {
        public static bool IsUnavailable(Exception exception)
        {
            for (var e = exception; e is not null; e = e.InnerException)
            {
                switch (e)
                {
                    // Class 08: connection exceptions; 57P0x: shutting down or starting; class 53: out of disk, memory or connections.
                    case PostgresException p when p.SqlState.StartsWith("08", StringComparison.Ordinal) || p.SqlState.StartsWith("57P0", StringComparison.Ordinal) ||
                                                  p.SqlState.StartsWith("53", StringComparison.Ordinal):
                        return true;
                    case NpgsqlException { InnerException: System.Net.Sockets.SocketException or IOException or TimeoutException }:
                    case NpgsqlException n when n is not PostgresException && n.IsTransient:
                        return true;
                }
            }

            return false;
        }

        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
        {
            if (TransientConflicts.IsTransient(exception))
            {
                // Still conflicting after every retry: other writers hold the same customer. Nothing was stored.
                return await Unavailable(problems, context, retryAfterSeconds: 1, "Busy",
                    "Other requests were writing to the same customers at the same moment, and this one gave way after several tries. Nothing of it was stored; retry it.");
            }

            if (!IsUnavailable(exception))
            {
                return false;
            }

            return await Unavailable(problems, context, retryAfterSeconds: 5, "Database unavailable",
                "The event store cannot be reached just now. Retry the request: a touchpoint that was stored after all is recognised by its source id and not stored twice.");
        }
    }

    /// <summary>503 with Retry-After and a problem document: the request may simply be sent again.</summary>
    private static async ValueTask<bool> Unavailable(IProblemDetailsService problems, HttpContext context, int retryAfterSeconds, string title, string detail)
    {
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = StatusCodes.Status503ServiceUnavailable, Title = title, Detail = detail },
        });
    }

    /// <summary>A read that must see every acknowledged event waited for the async daemon in vain.</summary>
    private sealed class ProjectionBehindHandler(IProblemDetailsService problems) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
        {
            if (exception is not ProjectionBehindException behind)
            {
                return false;
            }

            return await Unavailable(problems, context, retryAfterSeconds: 10, "Projections catching up",
                behind.Message + " Retry shortly; if it persists, /health/projections names the projection that stopped and the event it stopped at.");
        }
    }
}
