using System.Text;
using CustomerJourney.Imports;

namespace CustomerJourney.Specs.Imports;

/// <summary>Where the import cuts its chunks it reads each line's customer id without a document, and bad lines give none.</summary>
public sealed class NdJsonItemsSpecs
{
    private static NdJsonLine Line(string json) => new(0, Encoding.UTF8.GetBytes(json), null);

    [Theory]
    [InlineData("{\"kind\":\"purchase\",\"customerId\":\"c-1\",\"data\":{\"customerId\":\"c-2\"}}", "c-1")]
    [InlineData("{\"data\":{\"customerId\":\"c-2\"}}", null)]
    [InlineData("{\"customerId\":7}", null)]
    [InlineData("[\"customerId\",\"c-1\"]", null)]
    [InlineData("{\"customerId\":\"c-1\"", "c-1")]
    [InlineData("{\"kind\":", null)]
    // Not valid Unicode: reading it as a string threw out of the chunk cutting (an import's whole run) before.
    [InlineData("{\"customerId\":\"\\ud800\"}", null)]
    public void A_lines_customer_id_is_its_own_top_level_string_or_none(string json, string? expected)
    {
        Assert.Equal(expected, NdJsonItems.CustomerIdOf(Line(json)));
    }

    [Fact]
    public void A_line_too_long_to_keep_has_no_customer_id()
    {
        Assert.Null(NdJsonItems.CustomerIdOf(new NdJsonLine(0, null, "a line may be at most 10 bytes.")));
    }
}
