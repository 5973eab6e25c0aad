using CustomerJourney.Complaints;
using CustomerJourney.Identity;
using CustomerJourney.Infrastructure;
using CustomerJourney.Models.Value;
using CustomerJourney.Touchpoints;
using JasperFx.Events;
using Marten;
using Microsoft.Extensions.Options;
using Wolverine;

namespace CustomerJourney.Churn;

/// <summary>
/// Re-evaluate these customers' flags (after their touchpoints arrived, or as part of a sweep). <paramref name="MayOnlyClear"/>
/// names those whose new inputs can at most clear the flags listed (<see cref="ChurnFlagRules.CanOnlyClear"/>).
/// </summary>
public sealed record EvaluateChurnFlags(IReadOnlyList<string> CustomerIds, IReadOnlyDictionary<string, IReadOnlyList<string>>? MayOnlyClear = null);

/// <summary>Re-evaluate every customer: after a fit and once a day.</summary>
public sealed record EvaluateAllChurnFlags;

/// <summary>One chunk of that sweep: evaluated as <see cref="EvaluateChurnFlags"/> is, on a queue of its own (<see cref="EvaluateChurnFlagsHandler.SweepQueue"/>).</summary>
public sealed record SweepChurnFlags(IReadOnlyList<string> CustomerIds);

public static class EvaluateChurnFlagsHandler
{
    public const int SweepChunk = 500;

    /// <summary>
    /// The sweep's chunks run one at a time per instance: a sweep covers every customer, and chunks run side by side held
    /// several chunks' events at once (the service's working set rose by 330 MiB after a fit) and took both cores from live
    /// ingestion, whose own evaluations stay on the default queue.
    /// </summary>
    public const string SweepQueue = "churn-flag-sweep";

    /// <summary>
    /// Flags are raised per person: each touched customer's profile is evaluated once, over every member's touchpoints and
    /// complaint cases, and its flags are recorded on the founder's stream (the customer the profile id names, whom a split
    /// never separates from it), so a profile of one reads exactly as a customer did. A member that is not its profile's
    /// founder (merged into another) carries no flags of its own: they are cleared.
    /// Reads the members' own streams (never a lagging projection), evaluates the rules, appends what changed.
    /// </summary>
    /// <remarks>
    /// A profile with an event that cannot be read (on a member's stream or a complaint case's) is left out, reported on
    /// /health/projections, and the rest are evaluated: never the person without the event (it may be a withdrawal). A
    /// merge or split that commits while this runs sends its members here again (<see cref="Identity.ProfileMembersMoved"/>).
    /// </remarks>
    public static async Task Handle(EvaluateChurnFlags command, IDocumentSession session, TimeProvider clock, IOptions<ChurnOptions> options,
        SlaPolicies sla, UnreadableStreams unreadable, ChurnMetrics metrics, CancellationToken cancellation)
    {
        var settings = options.Value;
        var model = await ChurnModels.LatestAsync(session, cancellation);
        var now = clock.GetUtcNow();
        session.LastModifiedBy = "system:churn-flags";
        var people = await ProfileGraph.MembersNowAsync(session, command.CustomerIds, cancellation);
        var unchanged = await ClearingNothingAsync(session, people, command.MayOnlyClear, cancellation);
        people = people.Where(p => !unchanged.Contains(p.Value.ProfileId)).ToDictionary(StringComparer.Ordinal);
        var profiles = people.Values.DistinctBy(p => p.ProfileId).OrderBy(p => p.ProfileId, StringComparer.Ordinal).ToList();
        var ids = profiles.SelectMany(p => p.Members).Concat(people.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        metrics.FlagsEvaluated(profiles.Count, unchanged.Count);
        if (ids.Length == 0)
        {
            return;
        }

        // Read and append under the customers' locks: ingestion of the same customers waits, nothing conflicts or deadlocks.
        // (Reading first and taking the locks only to append, reading again when a stream had moved, cost more than it
        // saved under load: nearly every chunk of 500 customers met a batch that had moved one of them; bench/README.md.)
        await CustomerLocks.TakeAsync(session, ids, cancellation);
        foreach (var (stream, events) in Decide(profiles, await ReadAsync(session, ids, unreadable, cancellation), model, now, settings, sla, unreadable))
        {
            session.Events.Append(stream, events);
        }
    }

    /// <summary>
    /// The profiles whose evaluation would decide nothing: every touched member's new inputs can only clear flags
    /// (<see cref="ChurnFlagRules.CanOnlyClear"/>) that no member carries, and no member but the founder carries any flag
    /// (an evaluation clears those). Their streams are neither locked nor read. The views are inline, written with the
    /// flag events under the customers' locks, and the touchpoints committed before this was sent: a raise that the view
    /// does not show yet is being decided by an evaluation that reads those touchpoints.
    /// </summary>
    private static async Task<HashSet<string>> ClearingNothingAsync(IDocumentSession session, IReadOnlyDictionary<string, ProfileMembers> people,
        IReadOnlyDictionary<string, IReadOnlyList<string>>? mayOnlyClear, CancellationToken cancellation)
    {
        if (mayOnlyClear is not { Count: > 0 })
        {
            return [];
        }

        var clearing = people.GroupBy(p => p.Value.ProfileId, StringComparer.Ordinal).Where(touched => touched.All(p => mayOnlyClear.ContainsKey(p.Key)))
            .Select(touched => (ProfileId: touched.Key, Founder: touched.First().Value.Founder,
                Members: touched.SelectMany(p => p.Value.Members).ToHashSet(StringComparer.Ordinal),
                Reasons: touched.SelectMany(p => mayOnlyClear[p.Key]).ToHashSet(StringComparer.Ordinal)))
            .ToList();
        if (clearing.Count == 0)
        {
            return [];
        }

        var views = (await session.LoadManyAsync<ChurnFlagsView>(cancellation, clearing.SelectMany(c => c.Members).Distinct(StringComparer.Ordinal)))
            .ToDictionary(v => v.Id, StringComparer.Ordinal);
        return clearing.Where(c => c.Members.All(member => views.GetValueOrDefault(member) is not { } view ||
                (member == c.Founder ? !view.Flags.Any(f => c.Reasons.Contains(f.Reason)) : view.Flags.Count == 0)))
            .Select(c => c.ProfileId).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// What an evaluation read: the customers' streams, their complaint cases' steps and recorded breaches, and the
    /// customers left out for an event that cannot be read.
    /// </summary>
    private sealed record Histories(ILookup<string, IEvent> Streams, ILookup<string, IEvent> CaseSteps, ILookup<string, IEvent> Breaches,
        IReadOnlySet<string> LeftOut);

    /// <summary>
    /// Reads the customers' streams and their cases' in three queries for the whole message, not two per customer: an
    /// ingested batch of thousands of customers arrives as one message.
    /// </summary>
    private static async Task<Histories> ReadAsync(IDocumentSession session, string[] ids, UnreadableStreams unreadable, CancellationToken cancellation)
    {
        var cases = await session.Query<ComplaintCase>().Where(c => c.CustomerId.IsOneOf(ids)).ToListAsync(cancellation);
        var caseKeys = cases.Select(c => c.Id).ToArray();

        // Only what the rules read, the flags and an erasure; and each stream's first event, which says the stream exists.
        // A kind this service does not know is read (and reported unreadable): it might be a withdrawal.
        var skipped = NotRead(session.DocumentStore.Options.Events);
        var (customerEvents, unreadableCustomers) = await ReadableEvents.QueryAsync(session,
            q => q.Where(e => e.StreamKey!.IsOneOf(ids) && (!e.EventTypeName.IsOneOf(skipped) || e.Version == 1)).OrderBy(e => e.Sequence),
            unreadable, cancellation);
        var (caseEvents, unreadableCases) = caseKeys.Length == 0
            ? ([], new HashSet<string>())
            : await ReadableEvents.QueryAsync(session, q => q.Where(e => e.StreamKey!.IsOneOf(caseKeys)).OrderBy(e => e.Sequence), unreadable, cancellation);
        var leftOut = unreadableCustomers.Concat(cases.Where(c => unreadableCases.Contains(c.Id)).Select(c => c.CustomerId)).ToHashSet(StringComparer.Ordinal);
        unreadable.Read(ids.Where(id => !leftOut.Contains(id)));
        return new Histories(customerEvents.ToLookup(e => e.StreamKey!, StringComparer.Ordinal),
            caseEvents.Where(e => e.Data is Touchpoint).ToLookup(e => ((Touchpoint)e.Data).CustomerId, StringComparer.Ordinal),
            caseEvents.Where(e => e.Data is ComplaintSlaBreached).ToLookup(e => ((ComplaintSlaBreached)e.Data).CustomerId, StringComparer.Ordinal),
            leftOut);
    }

    /// <summary>
    /// The flags each person's history gives (pure but for reporting a history it cannot understand): what to append to
    /// which stream. A profile with a member left out, or erased, decides nothing.
    /// </summary>
    private static List<(string Stream, IReadOnlyList<object> Events)> Decide(IReadOnlyList<ProfileMembers> profiles, Histories read, ChurnModel? model,
        DateTimeOffset now, ChurnOptions settings, SlaPolicies sla, UnreadableStreams unreadable)
    {
        var decisions = new List<(string, IReadOnlyList<object>)>();
        var streams = read.Streams;
        foreach (var person in profiles)
        {
            if (person.Members.Any(read.LeftOut.Contains) || person.Members.Any(m => streams[m].Any(e => e.Data is Access.CustomerErased)))
            {
                continue;
            }

            foreach (var member in person.Members.Where(m => m != person.Founder))
            {
                var own = ChurnFlagRules.Current(streams[member].Select(e => e.Data));
                if (own.Count > 0)
                {
                    decisions.Add((member, ChurnFlagRules.Decide(member, own, [], 0, model?.ModelId, now)));
                }
            }

            var founderEvents = streams[person.Founder].ToList();
            if (founderEvents.Count == 0)
            {
                continue;
            }

            var history = person.Members.SelectMany(m => streams[m].Concat(read.CaseSteps[m])).Where(e => e.Data is Touchpoint)
                .Select(e => (e.Id, (Touchpoint)e.Data)).ToList();
            IReadOnlyList<object> decided;
            try
            {
                var flags = ChurnFlagRules.Evaluate(history, model, now, settings.Flags, settings.Zone(), sla,
                    [.. person.Members.SelectMany(m => read.Breaches[m]).Select(e => (e.Id, (ComplaintSlaBreached)e.Data))]);
                decided = ChurnFlagRules.Decide(person.Founder, ChurnFlagRules.Current(founderEvents.Select(e => e.Data)), flags,
                    ValueAtRisk(history, model, now, settings), model?.ModelId, now);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or NullReferenceException or FormatException or KeyNotFoundException)
            {
                // An event read but not understood (a field another tool left out): this person waits, the others go on.
                unreadable.Found(person.Founder, founderEvents[^1].Sequence, e.GetType().Name);
                continue;
            }

            if (decided.Count > 0)
            {
                decisions.Add((person.Founder, decided));
            }
        }

        return decisions;
    }

    /// <summary>The stored names of the event kinds a flag evaluation has no use for.</summary>
    private static string[] NotRead(Marten.Events.IReadOnlyEventStoreOptions events) =>
        [.. events.AllKnownEventTypes().Where(t => !ChurnFlagRules.ReadsKind(t.EventType) &&
            t.EventType != typeof(ChurnFlagRaised) && t.EventType != typeof(ChurnFlagCleared) && t.EventType != typeof(Access.CustomerErased))
            .Select(t => t.EventTypeName)];

    /// <summary>A chunk of the sweep: the same evaluation, on the sweep's queue.</summary>
    public static Task Handle(SweepChurnFlags chunk, IDocumentSession session, TimeProvider clock, IOptions<ChurnOptions> options,
        SlaPolicies sla, UnreadableStreams unreadable, ChurnMetrics metrics, CancellationToken cancellation) =>
        Handle(new EvaluateChurnFlags(chunk.CustomerIds), session, clock, options, sla, unreadable, metrics, cancellation);

    /// <summary>
    /// Fans the sweep out in chunks, so no single transaction holds every customer. The customers are the event store's
    /// own streams (customer ids never contain '/' or '~', which complaint cases, models and profiles do), not a projection's documents: a projection stopped on a bad event
    /// would otherwise stop the sweep for everyone. Erased customers are skipped by the evaluation.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Style", "IDE0060", Justification = "Wolverine routes the message to this handler by the parameter's type.")]
    public static async Task<IEnumerable<SweepChurnFlags>> Handle(EvaluateAllChurnFlags command, IQuerySession session, CancellationToken cancellation)
    {
        var schema = session.DocumentStore.Options.Events.DatabaseSchemaName;
        var ids = await session.AdvancedSql.QueryAsync<string>($"select id from {schema}.mt_streams where id not like '%/%' and id not like '{ProfileIds.Prefix}%' and is_archived = false order by id", cancellation);
        return ids.Chunk(SweepChunk).Select(chunk => new SweepChurnFlags(chunk));
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
