using CustomerJourney.Infrastructure;
using JasperFx;
using JasperFx.Events;
using Marten;
using Weasel.Core;

/// <summary>
/// A Marten store over the schema a running service created, mapped as the service maps it (string stream ids, its JSON
/// settings), for seeding rows behind its back; the caller adds the documents and events a workload writes.
/// It never changes the schema: the service owns it.
/// </summary>
internal static class ServiceStore
{
    public static DocumentStore For(string connectionString, string schema, Action<StoreOptions> more) => DocumentStore.For(o =>
    {
        o.Connection(connectionString);
        o.DatabaseSchemaName = schema;
        o.Events.DatabaseSchemaName = schema;
        o.Events.StreamIdentity = StreamIdentity.AsString;
        o.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.CamelCase, CritterStackSetup.ConfigureJson);
        more(o);
        o.AutoCreateSchemaObjects = AutoCreate.None;
    });
}
