using CustomerJourney.Access;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.Extensions.Options;
using Wolverine;

namespace CustomerJourney.Identity;

/// <summary>Identity resolution: its rules and blind-index key, the profile events and lookups, the resolver.</summary>
public static class IdentityModule
{
    public static WebApplicationBuilder AddIdentity(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var section = builder.Configuration.GetSection("Identity");
        services.Configure<IdentityOptions>(section);

        // Unlike the tracking key, this one is not optional: every touchpoint goes through identity resolution.
        var key = SecretKeys.Read(section[nameof(IdentityOptions.BlindIndexKey)], IdentityOptions.DevelopmentBlindIndexKey,
                builder.Environment.IsDevelopment(), "Identity:BlindIndexKey")
            ?? throw new InvalidOperationException("Identity:BlindIndexKey is not configured. Set Identity__BlindIndexKey to base64 of 32 random bytes " +
                "(e.g. `openssl rand -base64 32`), kept outside the database like the key-encryption key.");
        services.AddSingleton(new BlindIndex(key));
        services.AddSingleton(provider => IdentityRules.From(provider.GetRequiredService<IOptions<IdentityOptions>>().Value));
        services.AddSingleton<IdentityMetrics>();
        services.AddSingleton<ProfileWriter>();
        services.AddSingleton<IdentityResolver>();
        services.AddExceptionHandler<IdentityRuleHandler>();

        services.ConfigureMarten(options =>
        {
            foreach (var type in Profile.EventTypes)
            {
                options.Events.AddEventType(type);
            }

            // By profile too: a profile's members are read for its summary, flags and offers.
            options.Schema.For<ProfileMembership>().Index(m => m.ProfileId);
            // By customer too: an erasure deletes its members' holders.
            options.Schema.For<IdentifierHolder>().Index(h => h.Key).Index(h => h.CustomerId);
        });
        services.ConfigureWolverine(options => options.BatchMessagesOf<TouchpointsAppended>(batching =>
        {
            batching.BatchSize = ResolveIdentitiesHandler.BatchSize;
            batching.TriggerTime = ResolveIdentitiesHandler.TriggerTime;
        }));
        return builder;
    }
}
