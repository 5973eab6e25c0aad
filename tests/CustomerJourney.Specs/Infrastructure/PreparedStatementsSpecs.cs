using CustomerJourney.Infrastructure;
using Npgsql;

namespace CustomerJourney.Specs.Infrastructure;

/// <summary>The service prepares the statements a connection repeats, unless its connection string says how itself.</summary>
public sealed class PreparedStatementsSpecs
{
    [Theory]
    [InlineData("Host=db;Username=journey", 64, 2)]
    [InlineData("Host=db;Username=journey;Max Auto Prepare=0", 0, 5)]
    [InlineData("Host=db;Username=journey;MaxAutoPrepare=10;Auto Prepare Min Usages=3", 10, 3)]
    public void Repeated_statements_are_prepared_unless_the_connection_string_sets_it(string connectionString, int maxAutoPrepare, int minUsages)
    {
        var builder = CritterStackSetup.PreparingRepeatedStatements(new NpgsqlDataSourceBuilder(connectionString));

        Assert.Equal((maxAutoPrepare, minUsages), (builder.ConnectionStringBuilder.MaxAutoPrepare, builder.ConnectionStringBuilder.AutoPrepareMinUsages));
    }
}
