using System.Security.Claims;
using CustomerJourney.Access;
using CustomerJourney.Touchpoints;

namespace CustomerJourney.Specs.Access;

/// <summary>Defence in depth: who counts as a source system is decided by which handler authenticated the caller, not by the claims alone.</summary>
public sealed class SourceOwnershipTests
{
    private static readonly PurchaseMade CrmPurchase = new()
    {
        CustomerId = "c-1", Channel = Channel.Web, Source = "crm", SourceId = "o-1", OrderId = "o-1", Amount = 1m, Currency = "EUR",
    };

    private static ClaimsPrincipal SourceSystemClaims(string authenticationType) => new(new ClaimsIdentity(
        [new Claim(AccessClaims.Name, "key:0123456789abcdef"), new Claim(AccessClaims.Role, Roles.SourceSystem), new Claim(AccessClaims.Source, "crm")],
        authenticationType, AccessClaims.Name, AccessClaims.Role));

    [Fact]
    public void An_API_key_identity_writes_its_source_and_is_recorded_as_its_key()
    {
        var key = SourceSystemClaims(ApiKeyAuthenticationHandler.SchemeName);

        Assert.Null(SourceOwnership.Refusal(key, CrmPurchase));
        Assert.Equal("key:0123456789abcdef", AccessClaims.Actor(key));
    }

    [Theory]
    [InlineData("AuthenticationTypes.Federation")]
    [InlineData("Bearer")]
    public void The_same_claims_from_any_other_handler_neither_write_as_the_source_nor_are_recorded_as_a_key(string authenticationType)
    {
        var impostor = SourceSystemClaims(authenticationType);

        Assert.NotNull(SourceOwnership.Refusal(impostor, CrmPurchase));
        Assert.False(AccessClaims.Actor(impostor).StartsWith("key:", StringComparison.Ordinal), AccessClaims.Actor(impostor));
    }
}
