using System.Runtime.ExceptionServices;
using CustomerJourney.Identity;
using CustomerJourney.TrackingApi;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Specs.Identity;

/// <summary>Which identifiers a touchpoint carries: what identity resolution is handed.</summary>
public sealed class IdentifiersSpecs
{
    private static IdentityRecorded Identify(string? traits) => new()
    {
        CustomerId = "c-1", OccurredAt = DateTimeOffset.UnixEpoch, Channel = Channel.Web, Source = "web", SourceId = "m-1", Traits = traits,
    };

    [Fact]
    public void An_identify_call_carries_the_email_phone_and_loyalty_card_among_its_traits()
    {
        var carried = Identifiers.Carried(Identify("""{"email":"ada@example.org","phone":"+44 20 7946 0000","loyalty_card":"L-9","plan":"gold"}"""), null);

        Assert.Equal(
            [(IdentifierType.CustomerId, "c-1"), (IdentifierType.Email, "ada@example.org"), (IdentifierType.Phone, "+44 20 7946 0000"), (IdentifierType.LoyaltyCard, "L-9")],
            carried);
    }

    /// <summary>
    /// The ledger asks of every recorded touchpoint, still sealed, whether it may link (<see cref="Identifiers.MayLink"/>):
    /// sealed traits are not JSON. Parsing them threw and caught an exception per identify call, hundreds a second under
    /// the tracking workload (bench/README.md); traits that are not a JSON object are now passed over without parsing.
    /// </summary>
    [Theory]
    [InlineData("pd1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==")]
    [InlineData("[1,2]")]
    [InlineData("")]
    public void Traits_that_are_not_a_json_object_carry_nothing_and_cost_no_exception(string traits)
    {
        var thread = Environment.CurrentManagedThreadId;
        var thrown = new List<Exception>();
        void Count(object? sender, FirstChanceExceptionEventArgs e)
        {
            // Other specs run side by side: only what this thread throws counts.
            if (Environment.CurrentManagedThreadId == thread)
            {
                thrown.Add(e.Exception);
            }
        }

        AppDomain.CurrentDomain.FirstChanceException += Count;
        IReadOnlyList<(IdentifierType, string)> carried;
        try
        {
            carried = Identifiers.Carried(Identify(traits), null);
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= Count;
        }

        Assert.Equal([(IdentifierType.CustomerId, "c-1")], carried);
        Assert.Empty(thrown);
    }
}
