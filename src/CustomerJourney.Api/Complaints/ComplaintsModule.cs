using JasperFx.Events.Projections;
using Marten;

namespace CustomerJourney.Complaints;

public static class ComplaintsModule
{
    public static IServiceCollection AddComplaints(this IServiceCollection services, IConfiguration configuration)
    {
        // Built once at start-up, so a bad policy or calendar stops the service with the key that is wrong.
        var sla = new SlaPolicyOptions();
        configuration.GetSection("Complaints:Sla").Bind(sla);
        services.AddSingleton(SlaPolicies.From(sla));
        services.AddSingleton<ComplaintSla>();
        services.AddSingleton<ComplaintSteps>();
        services.AddSingleton<ComplaintStepWriter>();
        services.Configure<AuditOptions>(configuration.GetSection("Complaints:Audit"));
        services.AddSingleton<ChainHeadSigner>();
        services.AddSingleton<ComplaintAuditor>();
        services.AddHostedService<ChainHeadSigning>();

        services.ConfigureMarten(options =>
        {
            // Inline: supervisors' lists and the ledger's next-check read it; decisions still read the stream.
            options.Projections.Add<ComplaintCaseProjection>(ProjectionLifecycle.Inline);
            options.Schema.For<ComplaintCase>().Index(c => c.CustomerId).Index(c => c.LoggedAt);
            options.Schema.For<ComplaintTimer>();
            options.Schema.For<UnsettledComplaint>();
            options.Events.AddEventType<ComplaintSlaBreached>();
            options.Events.MetadataConfig.HeadersEnabled = true;
            options.Storage.Add(new ComplaintAuditSchema(options.Events.DatabaseSchemaName));
            options.Schema.For<SignedChainHead>().Index(h => h.ComplaintId);
        });
        return services;
    }
}
