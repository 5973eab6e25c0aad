using CustomerJourney.Access;
using CustomerJourney.Touchpoints;
using Marten;

namespace CustomerJourney.TrackingApi;

/// <summary>The Segment tracking API (/v1/*): its settings, pseudonym key, request pre-processing and rejection log.</summary>
public static class TrackingModule
{
    public static WebApplicationBuilder AddTracking(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var section = builder.Configuration.GetSection("Tracking");
        services.AddOptions<TrackingOptions>().Bind(section)
            .Validate(o => o.ConsentCategories.Values.All(p => p.Length == 0 || TouchpointCatalogue.IsPurpose(p)),
                "Tracking:ConsentCategories maps each category to a consent purpose (lower-case letters, digits and dashes, e.g. marketing-email), or to \"\" to ignore it.")
            .ValidateOnStart();
        var key = SecretKeys.Read(section[nameof(TrackingOptions.PseudonymKey)], TrackingOptions.DevelopmentPseudonymKey,
            builder.Environment.IsDevelopment(), "Tracking:PseudonymKey");

        // Without a key outside Development the service still starts (tracking is optional); /v1/* answers 503 saying why.
        services.AddSingleton(new TrackingKeys(key is null ? null : new Pseudonyms(key)));
        services.AddSingleton<TrackingRejectionLog>();
        services.AddSingleton<SegmentIngestion>();
        services.AddSingleton<IStartupFilter, TrackingRequestFilter>();
        services.ConfigureMarten(options => options.Schema.For<TrackingRejection>().Index(r => r.Source));
        return builder;
    }

    /// <summary>Runs before authentication, so the write key the SDKs send is found by the API-key handler.</summary>
    private sealed class TrackingRequestFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.UseWhen(context => context.Request.Path.StartsWithSegments(TrackingRequestBody.PathPrefix),
                branch => branch.UseMiddleware<TrackingRequestBody>());
            next(app);
        };
    }
}
