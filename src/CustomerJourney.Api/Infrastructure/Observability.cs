using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CustomerJourney.Infrastructure;

public static class Observability
{
    public const string ServiceName = "CustomerJourney";

    /// <summary>Every meter of ours starts so, and is exported without Infrastructure naming the capability.</summary>
    public const string MeterPrefix = ServiceName + ".";

    /// <summary>
    /// Traces and metrics for HTTP, Npgsql, Marten, Wolverine and our own meters; exported over OTLP only
    /// when the standard OTEL_EXPORTER_OTLP_ENDPOINT is set, so a laptop run needs no collector.
    /// </summary>
    public static WebApplicationBuilder AddObservability(this WebApplicationBuilder builder)
    {
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(ServiceName))
            .WithTracing(t => t
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                .AddSource("Marten", "Wolverine"))
            .WithMetrics(m => m
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation()
                // Wolverine names its meter "Wolverine:<service name>"; each capability names its own "CustomerJourney.<capability>".
                .AddMeter("Marten", "Wolverine*", MeterPrefix + "*"));

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.UseOtlpExporter();
        }

        builder.Services.AddDevelopmentMetrics(builder.Environment);
        return builder;
    }
}
