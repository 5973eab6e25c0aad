using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Alba;
using CustomerJourney.Tests.Support;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CustomerJourney.Tests.Access;

/// <summary>The API accepts the organisation's provider's own access tokens (keys from its JWKS), with its groups mapped onto people roles.</summary>
public sealed class OrganisationTokenTests(AppFixture app)
{
    private OrganisationIdentityProvider Provider => app.Provider;

    private Task<Answer> ReadCustomerWith(string token) => app.Get($"/api/customers/{Ids.Customer()}", Credentials.Token(token));

    [Fact]
    public async Task The_providers_access_token_is_accepted_with_its_groups_mapped_onto_roles()
    {
        var analyst = await Provider.MachineToken("reporting-job");

        Assert.Equal(404, (await ReadCustomerWith(analyst)).Status);
        Assert.Equal(200, (await app.Get("/api/churn/models", Credentials.Token(analyst))).Status);
    }

    [Fact]
    public async Task A_role_the_token_maps_to_may_not_call_an_endpoint_answers_403()
    {
        var analyst = await Provider.MachineToken("reporting-job");

        var keys = await app.Get("/api/access/keys", Credentials.Token(analyst));
        var cases = await app.Get("/api/complaints", Credentials.Token(analyst));

        Assert.Equal((403, "application/problem+json"), (keys.Status, keys.ContentType));
        Assert.Equal(403, cases.Status);
    }

    [Fact]
    public async Task Space_separated_groups_in_one_claim_each_count()
    {
        var desk = await Provider.MachineToken("desk-job");

        // The case list is a supervisor's or an auditor's: the second of the two groups grants it.
        Assert.Equal(200, (await app.Get("/api/complaints", Credentials.Token(desk))).Status);
        // Churn is an analyst's or marketing's: neither group maps there.
        Assert.Equal(403, (await app.Get("/api/churn/models", Credentials.Token(desk))).Status);
    }

    [Fact]
    public async Task A_token_whose_groups_map_onto_no_people_role_answers_403()
    {
        var answer = await ReadCustomerWith(await Provider.MachineToken("unmapped-job"));

        Assert.Equal((403, "application/problem+json"), (answer.Status, answer.ContentType));
    }

    [Fact]
    public async Task A_provider_token_claiming_the_source_system_role_answers_401()
    {
        var impostor = await Provider.MachineToken("impostor-job");

        var read = await ReadCustomerWith(impostor);
        var write = await app.PostTouchpoint(Ids.Customer(), TouchpointJson.Purchase(), Credentials.Token(impostor));

        Assert.Equal((401, "application/problem+json"), (read.Status, read.ContentType));
        Assert.Equal(401, write.Status);
    }

    [Fact]
    public async Task Our_own_HS256_tokens_are_still_accepted_beside_the_providers()
    {
        Assert.Equal(404, (await ReadCustomerWith(app.Token("hs256-analyst", "analyst"))).Status);
    }

    private string Forge(Action<SecurityTokenDescriptor> change, SigningCredentials? credentials = null)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Provider.Authority.ToString(),
            Audience = OrganisationIdentityProvider.Audience,
            Subject = new ClaimsIdentity([new Claim("sub", "forger"), new Claim(OrganisationIdentityProvider.RoleClaim, "cj-analysts")]),
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(10),
            SigningCredentials = credentials ?? ProviderKey<RsaSecurityKey>(SecurityAlgorithms.RsaSha256),
        };
        change(descriptor);
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    private SigningCredentials ProviderKey<TKey>(string algorithm) where TKey : SecurityKey =>
        new(Provider.SigningKeys.Select(c => c.Key).OfType<TKey>().Single(), algorithm);

    /// <summary>The control for the forgeries below: a token signed with the provider's own key passes, so each refusal is the one change.</summary>
    [Theory]
    [InlineData(SecurityAlgorithms.RsaSha256)]
    [InlineData(SecurityAlgorithms.EcdsaSha256)]
    public async Task A_token_signed_with_a_key_from_the_providers_JWKS_is_accepted(string algorithm)
    {
        var credentials = algorithm == SecurityAlgorithms.RsaSha256
            ? ProviderKey<RsaSecurityKey>(algorithm)
            : ProviderKey<ECDsaSecurityKey>(algorithm);

        Assert.Equal(404, (await ReadCustomerWith(Forge(_ => { }, credentials))).Status);
    }

    public static TheoryData<string> BadTokens => new()
    {
        "wrong issuer", "wrong audience", "expired", "signed with a key not in the JWKS", "signed with an EC key not in the JWKS", "RS512, not an allowed algorithm",
        "groups claim source-system", "role claim says source-system",
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_bad_provider_token_answers_401(string which)
    {
        var token = Forge(d =>
        {
            switch (which)
            {
                case "wrong issuer":
                    d.Issuer = "https://evil.example/";
                    break;
                case "wrong audience":
                    d.Audience = "someone-else";
                    break;
                case "expired":
                    (d.IssuedAt, d.NotBefore, d.Expires) = (DateTime.UtcNow.AddHours(-2), DateTime.UtcNow.AddHours(-2), DateTime.UtcNow.AddMinutes(-5));
                    break;
                case "signed with a key not in the JWKS":
                    d.SigningCredentials = new SigningCredentials(new RsaSecurityKey(RSA.Create(2048)) { KeyId = "not-published" }, SecurityAlgorithms.RsaSha256);
                    break;
                case "signed with an EC key not in the JWKS":
                    d.SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "provider-ec-p256" },
                        SecurityAlgorithms.EcdsaSha256);
                    break;
                case "RS512, not an allowed algorithm":
                    d.SigningCredentials = ProviderKey<RsaSecurityKey>(SecurityAlgorithms.RsaSha512);
                    break;
                case "groups claim source-system":
                    d.Subject.AddClaim(new Claim(OrganisationIdentityProvider.RoleClaim, "source-system"));
                    break;
                case "role claim says source-system":
                    d.Subject.AddClaim(new Claim("role", "source-system"));
                    break;
            }
        });

        var answer = await ReadCustomerWith(token);

        Assert.Equal((401, "application/problem+json"), (answer.Status, answer.ContentType));
    }

    [Fact]
    public async Task An_unsigned_token_with_alg_none_in_the_providers_name_answers_401()
    {
        static string Base64Url(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var payload = $"{{\"sub\":\"mallory\",\"groups\":[\"cj-admins\"],\"iss\":\"{Provider.Authority}\",\"aud\":\"{OrganisationIdentityProvider.Audience}\",\"nbf\":{now},\"exp\":{now + 600}}}";

        var answer = await app.Get("/api/access/keys", Credentials.Token($"{Base64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}")}.{Base64Url(payload)}."));

        Assert.Equal(401, answer.Status);
    }

    [Theory]
    [InlineData("Auth:Oidc:Audience", "customerjourney-api", "Auth__Oidc__Authority is missing")]
    [InlineData("Auth:Oidc:Authority", "https://login.example.com/", "Auth__Oidc__Audience is missing")]
    public async Task Start_up_refuses_a_half_configured_provider_section(string key, string value, string message)
    {
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => AlbaHost.For<Program>(builder =>
        {
            builder.UseSetting("EventStore:Schema", ServiceHost.NewSchema("oidcrefused"));
            builder.UseSetting(key, value);
        }));

        Assert.Contains(message, Flatten(refused), StringComparison.Ordinal);
    }

    private static string Flatten(Exception e) => e.InnerException is null ? e.Message : $"{e.Message} | {Flatten(e.InnerException)}";
}
