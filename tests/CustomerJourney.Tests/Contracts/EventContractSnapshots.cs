using System.Collections;
using System.Globalization;
using System.Reflection;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;
using Marten;
using Marten.Events;
using Newtonsoft.Json.Linq;
using Snapshooter;
using Snapshooter.Xunit3;

namespace CustomerJourney.Tests.Contracts;

/// <summary>
/// Every event type the store knows, the service's own included (flags, fits, breaches, erasures, win-back), stored as
/// Marten stores it: its type name in mt_events and its JSON, with every member filled. A renamed type or field, or
/// a field of another kind, changes a snapshot before it reaches stored data. The list comes from Marten itself, so
/// a new event type cannot be left out.
/// </summary>
public sealed class EventContractSnapshots(AppFixture app)
{
    private static readonly DateTimeOffset Instant = new(2024, 5, 1, 10, 0, 0, TimeSpan.FromHours(2));

    /// <summary>What a sealed value looks like: "pd1:" and the base64 of nonce, tag and ciphertext under the member's key.</summary>
    private const string SealedStandIn = "pd1:<base64 of nonce, tag and ciphertext under the member's key>";

    /// <summary>The events the service records itself; the catalogue names the rest.</summary>
    private static readonly Type[] ServiceEvents =
    [
        typeof(CustomerJourney.Churn.ChurnFlagRaised), typeof(CustomerJourney.Churn.ChurnFlagCleared), typeof(CustomerJourney.Churn.ChurnModelFitted), typeof(CustomerJourney.Complaints.ComplaintSlaBreached),
        typeof(CustomerJourney.Access.CustomerErased), typeof(CustomerJourney.WinBack.WinBackCampaignPlanned), typeof(CustomerJourney.WinBack.WinBackAudienceSelected),
        // The touchpoints win-back records itself: registered up front, so the store knows them before the first offer.
        typeof(CustomerJourney.WinBack.WinBackOfferSent), typeof(CustomerJourney.WinBack.WinBackOfferSuppressed), typeof(CustomerJourney.WinBack.WinBackOfferUndeliverable),
        typeof(CustomerJourney.WinBack.WinBackOfferDelivered), typeof(CustomerJourney.WinBack.WinBackOfferRedeemed), typeof(CustomerJourney.WinBack.CustomerReactivated),
        // The identity graph: profiles, their identifiers (blind indexes only, sealed), merges, splits, conflicts and erasures.
        typeof(CustomerJourney.Identity.ProfileStarted), typeof(CustomerJourney.Identity.ProfileIdentifierRecorded), typeof(CustomerJourney.Identity.ProfilesMerged),
        typeof(CustomerJourney.Identity.ProfileAbsorbed), typeof(CustomerJourney.Identity.ProfileSplit), typeof(CustomerJourney.Identity.ProfileRestored),
        typeof(CustomerJourney.Identity.ProfileLinkConflict), typeof(CustomerJourney.Identity.ProfileErased),
    ];

    private static IEnumerable<Type> Covered => TouchpointCatalogue.All.Concat(TouchpointCatalogue.Tracked).Select(k => k.EventType).Concat(ServiceEvents).Distinct();

    public static TheoryData<string> EventTypes => new(Covered.Select(t => t.FullName!).Order(StringComparer.Ordinal));

    [Fact]
    public void Every_event_type_the_store_knows_has_a_contract()
    {
        // Marten's own (e.g. JasperFx.Events.Archived) are Marten's contract, not ours.
        var known = ((EventGraph)app.Store.Options.Events).AllKnownEventTypes().Select(e => e.EventType.FullName!)
            .Where(name => name.StartsWith("CustomerJourney.", StringComparison.Ordinal)).Order(StringComparer.Ordinal);

        Assert.Equal(known, Covered.Select(t => t.FullName!).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(EventTypes))]
    public void Each_event_type_is_stored_as_this_json(string typeName)
    {
        var eventType = ((EventGraph)app.Store.Options.Events).AllKnownEventTypes().Single(e => e.EventType.FullName == typeName);

        // Profile events are stored with their blind indexes sealed (SealedIdentifiers): shown with a stand-in for the ciphertext.
        var filled = CustomerJourney.Identity.SealedIdentifiers.Map(Filled(eventType.EventType, depth: 0)!, (_, _) => SealedStandIn);
        var stored = app.Store.Options.Serializer().ToJson(filled);

        Snapshot.Match(new JObject { ["type"] = eventType.EventTypeName, ["data"] = JToken.Parse(stored) },
            SnapshotNameExtension.Create(eventType.EventTypeName));
    }

    /// <summary>An instance with every member set to a fixed value of its type, lists with one element.</summary>
    private static object? Filled(Type type, int depth)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (Nullable.GetUnderlyingType(type) is { } inner)
        {
            return Filled(inner, depth);
        }

        switch (type)
        {
            case not null when type == typeof(string):
                return "text";
            case not null when type == typeof(bool):
                return true;
            case not null when type == typeof(int) || type == typeof(long) || type == typeof(short):
                return Convert.ChangeType(7, type, CultureInfo.InvariantCulture);
            case not null when type == typeof(double) || type == typeof(decimal) || type == typeof(float):
                return Convert.ChangeType(1.25, type, CultureInfo.InvariantCulture);
            case not null when type == typeof(DateTimeOffset):
                return Instant;
            case not null when type == typeof(DateTime):
                return Instant.UtcDateTime;
            case not null when type == typeof(DateOnly):
                return DateOnly.FromDateTime(Instant.UtcDateTime);
            case not null when type == typeof(TimeSpan):
                return TimeSpan.FromHours(26.5);
            case not null when type == typeof(Guid):
                return Guid.Parse("0190a000-0000-7000-8000-000000000001");
            case { IsEnum: true }:
                return Enum.GetValues(type).GetValue(0);
            case { IsArray: true }:
            {
                var array = Array.CreateInstance(type.GetElementType()!, 1);
                array.SetValue(Filled(type.GetElementType()!, depth + 1), 0);
                return array;
            }
        }

        if (Dictionary(type!) is { } pair)
        {
            var dictionary = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(pair.Key, pair.Value))!;
            dictionary.Add(Filled(pair.Key, depth + 1)!, Filled(pair.Value, depth + 1));
            return dictionary;
        }

        if (Element(type!) is { } element)
        {
            var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;
            list.Add(Filled(element, depth + 1));
            return list;
        }

        if (depth > 6 || type!.IsAbstract || type.IsInterface)
        {
            return null;
        }

        var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        var instance = constructor.Invoke(constructor.GetParameters().Select(p => Filled(p.ParameterType, depth + 1)).ToArray());
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.GetIndexParameters().Length == 0))
        {
            var current = property.GetValue(instance);
            if (current is null || (property.PropertyType.IsValueType && current.Equals(Activator.CreateInstance(property.PropertyType))))
            {
                property.SetValue(instance, Filled(property.PropertyType, depth + 1));
            }
        }

        return instance;
    }

    private static KeyValuePair<Type, Type>? Dictionary(Type type) =>
        type.IsGenericType && type.GetGenericArguments().Length == 2 && typeof(IEnumerable).IsAssignableFrom(type)
            ? KeyValuePair.Create(type.GetGenericArguments()[0], type.GetGenericArguments()[1])
            : null;

    private static Type? Element(Type type) =>
        type.IsGenericType && type.GetGenericArguments().Length == 1 && typeof(IEnumerable).IsAssignableFrom(type) ? type.GetGenericArguments()[0] : null;
}
