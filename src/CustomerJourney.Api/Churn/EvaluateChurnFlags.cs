using CustomerJourney.Complaints;
using CustomerJourney.Infrastructure;
using CustomerJourney.Journeys;
using CustomerJourney.Models.Value;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.Extensions.Options;
using Wolverine;

namespace CustomerJourney.Churn;

/// <summary>Re-evaluate these customers' flags (after their touchpoints arrived, or as part of a sweep).</summary>
public sealed record EvaluateChurnFlags(IReadOnlyList<string> CustomerIds);

/// <summary>Re-evaluate every customer: after a fit and once a day.</summary>
public sealed record EvaluateAllChurnFlags;

public static class EvaluateChurnFlagsHandler
{
    public const int SweepChunk = 500;

    /// <summary>
    /// Reads the customers' own streams (never a lagging projection), evaluates the rules, appends what changed. The
    /// streams and the customers' complaint cases are read in three queries for the whole message, not two per customer:
    /// an ingested batch of thousands of customers arrives as one message.
    /// </summary>
    public static async Task Handle(EvaluateChurnFlags command, IDocumentSession session, TimeProvider clock, IOptions<ChurnOptions> options,
        SlaPolicies sla, CancellationToken cancellation)
    {
        var settings = options.Value;
        var model = await ChurnModels.LatestAsync(session, cancellation);
        var now = clock.GetUtcNow();
        session.LastModifiedBy = "system:churn-flags";
        var ids = command.CustomerIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        // Read and append under the customers' locks: ingestion of the same customers waits, nothing conflicts or deadlocks.
        await CustomerLocks.TakeAsync(session, ids, cancellation);
        var streams = (await session.Events.QueryAllRawEvents().Where(e => e.StreamKey!.IsOneOf(ids)).OrderBy(e => e.Sequence).ToListAsync(cancellation))
            .ToLookup(e => e.StreamKey!, StringComparer.Ordinal);
        var cases = await session.Query<ComplaintCase>().Where(c => c.CustomerId.IsOneOf(ids)).Select(c => c.Id).ToListAsync(cancellation);
        var caseEvents = cases.Count == 0
            ? []
            : await session.Events.QueryAllRawEvents().Where(e => e.StreamKey!.IsOneOf(cases.ToArray())).OrderBy(e => e.Sequence).ToListAsync(cancellation);
        var caseSteps = caseEvents.Where(e => e.Data is Touchpoint).ToLookup(e => ((Touchpoint)e.Data).CustomerId, StringComparer.Ordinal);
        var breaches = caseEvents.Where(e => e.Data is ComplaintSlaBreached).ToLookup(e => ((ComplaintSlaBreached)e.Data).CustomerId, StringComparer.Ordinal);
        foreach (var customerId in ids)
        {
            var events = streams[customerId].ToList();
            if (events.Count == 0 || events.Any(e => e.Data is Access.CustomerErased))
            {
                continue;
            }

            var history = events.Concat(caseSteps[customerId]).Where(e => e.Data is Touchpoint).Select(e => (e.Id, (Touchpoint)e.Data)).ToList();
            var flags = ChurnFlagRules.Evaluate(history, model, now, settings.Flags, settings.Zone(), sla,
                [.. breaches[customerId].Select(e => (e.Id, (ComplaintSlaBreached)e.Data))]);
            var decided = ChurnFlagRules.Decide(customerId, ChurnFlagRules.Current(events.Select(e => e.Data)), flags,
                ValueAtRisk(history, model, now, settings), model?.ModelId, now);
            if (decided.Count > 0)
            {
                session.Events.Append(customerId, decided);
            }
        }
    }

    /// <summary>Fans the sweep out in chunks, so no single transaction holds every customer.</summary>
    public static async Task<IEnumerable<EvaluateChurnFlags>> Handle(EvaluateAllChurnFlags command, IQuerySession session, CancellationToken cancellation)
    {
        var ids = await ProjectionReads.CaughtUpAsync<CustomerSummary, string>(session, q => q.Where(s => s.ErasedAt == null).Select(s => s.Id), cancellation);
        return ids.Chunk(SweepChunk).Select(chunk => new EvaluateChurnFlags(chunk));
    }

    /// <summary>What the customer would be worth over the horizon if kept: the ranking of flagged customers.</summary>
    public static double ValueAtRisk(IReadOnlyList<(Guid Id, Touchpoint Touchpoint)> history, ChurnModel? model, DateTimeOffset now, ChurnOptions settings)
    {
        var purchases = history.Select(h => h.Touchpoint).OfType<PurchaseMade>()
            .Where(p => model is not null && p.Currency == model.Currency && p.OccurredAt <= now).Select(p => (p.OccurredAt, p.Amount)).ToList();
        if (model is null || purchases.Count == 0)
        {
            return 0;
        }

        var summary = Models.Churn.RfmSummary.FromPurchases(purchases, now, settings.Zone());
        return CustomerValue.Expected(ChurnFitting.BgNbdOf(model.Models), ChurnFitting.GammaGammaOf(model.Models), summary, settings.Flags.ValueHorizonWeeks);
    }
}

/// <summary>The daily sweep. Wolverine delivers the message through its durable local queue.</summary>
public sealed class DailyChurnFlagSweep(IServiceProvider services, IOptions<ChurnOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Flags.DailyEvaluationPeriod);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await using var scope = services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<IMessageBus>().PublishAsync(new EvaluateAllChurnFlags());
        }
    }
}
