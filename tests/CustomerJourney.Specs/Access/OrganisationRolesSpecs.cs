using System.Security.Claims;
using CustomerJourney.Access;

namespace CustomerJourney.Specs.Access;

/// <summary>How the organisation's provider's role or group claims become people roles: one table of (claims, settings) to outcome.</summary>
public sealed class OrganisationRolesSpecs
{
    private static OrganisationProviderSettings Settings(string roleClaim = "roles", params (string Value, string Role)[] map) =>
        new() { RoleClaim = roleClaim, RoleMap = map.ToDictionary(m => m.Value, m => m.Role) };

    private static readonly OrganisationProviderSettings Groups = Settings("groups", ("cj-analysts", Roles.Analyst), ("cj-auditors", Roles.Auditor));

    public static TheoryData<string, Claim[], OrganisationProviderSettings, string[]> Grants => new()
    {
        { "one claim per role", [new("roles", "analyst"), new("roles", "auditor")], Settings(), ["analyst", "auditor"] },
        { "a JSON array in one claim", [new("roles", "[\"analyst\",\"marketing\"]")], Settings(), ["analyst", "marketing"] },
        { "space-separated values", [new("roles", "agent  supervisor")], Settings(), ["agent", "supervisor"] },
        { "a path into a JSON object", [new("realm_access", "{\"roles\":[\"admin\",\"offline_access\"]}")], Settings("realm_access.roles"), ["admin"] },
        { "without a map, only our exact role names count", [new("roles", "Analyst"), new("roles", "analysts"), new("roles", "admin")], Settings(), ["admin"] },
        { "with a map, only mapped values count", [new("groups", "cj-analysts"), new("groups", "admin"), new("groups", "wiki")], Groups, ["analyst"] },
        { "a map is exact about case", [new("groups", "CJ-ANALYSTS")], Groups, [] },
        { "another claim type grants nothing", [new("roles", "analyst"), new("role", "auditor")], Groups, [] },
        { "no role claim at all", [new("sub", "x")], Settings(), [] },
        { "a value that is not JSON after all", [new("roles", "[analyst")], Settings(), [] },
        { "repeats count once", [new("groups", "cj-analysts"), new("groups", "cj-analysts cj-auditors")], Groups, ["analyst", "auditor"] },
    };

    [Theory]
    [MemberData(nameof(Grants))]
    public void The_provider_claims_grant_these_people_roles(string _, Claim[] claims, OrganisationProviderSettings settings, string[] roles)
    {
        var mapped = OrganisationRoles.Map(claims, settings);

        Assert.Null(mapped.Refusal);
        Assert.Equal(roles, mapped.Roles);
    }

    public static TheoryData<string, Claim[], OrganisationProviderSettings> SourceSystemClaims => new()
    {
        { "in the role claim", [new("roles", "source-system")], Settings() },
        { "in any spelling", [new("roles", "[\"analyst\",\"Source-System\"]")], Settings() },
        { "among mapped groups", [new("groups", "cj-analysts source-system")], Groups },
    };

    [Theory]
    [MemberData(nameof(SourceSystemClaims))]
    public void A_token_claiming_the_source_system_role_is_refused(string _, Claim[] claims, OrganisationProviderSettings settings)
    {
        Assert.Contains(Roles.SourceSystem, OrganisationRoles.Map(claims, settings).Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void The_principal_carries_the_mapped_roles_and_the_persons_name_and_never_the_providers_own_role_claims()
    {
        var provider = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim("sub", "0f3c"), new Claim("preferred_username", "ana"), new Claim("groups", "cj-auditors"), new Claim("name", "Ana Lima")], "jwt"));

        var (principal, refusal) = OrganisationRoles.Principal(provider, Groups, "test");

        Assert.Null(refusal);
        Assert.Equal(("ana", "user:ana"), (principal!.Identity!.Name, AccessClaims.Actor(principal)));
        Assert.Equal(["auditor"], principal.FindAll(AccessClaims.Role).Select(c => c.Value));
        Assert.Empty(principal.FindAll("groups"));
        Assert.True(principal.IsInRole(Roles.Auditor));
    }

    [Theory]
    [InlineData("source", "crm")]
    [InlineData("role", "source-system")]
    [InlineData("preferred_username", "key:0123456789abcdef")]
    public void A_provider_token_passing_itself_off_as_a_source_system_is_refused(string type, string value)
    {
        var provider = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", "x"), new Claim("groups", "cj-analysts"), new Claim(type, value)], "jwt"));

        Assert.NotNull(OrganisationRoles.Principal(provider, Groups, "test").Refusal);
    }

    public static TheoryData<string, Action<OrganisationProviderSettings>, string?> Configurations => new()
    {
        { "nothing configured", _ => { }, null },
        { "the API only", s => (s.Authority, s.Audience) = ("https://login.example.com/", "api"), null },
        { "API and sign-in", s => (s.Authority, s.Audience, s.ClientId, s.ClientSecret) = ("https://login.example.com/", "api", "console", "secret"), null },
        { "an audience without an authority", s => s.Audience = "api", "Auth__Oidc__Authority is missing" },
        { "a role map without an authority", s => s.RoleMap["g"] = Roles.Agent, "Auth__Oidc__Authority is missing" },
        { "an authority without an audience", s => s.Authority = "https://login.example.com/", "Auth__Oidc__Audience is missing" },
        { "a client without a secret", s => (s.Authority, s.Audience, s.ClientId) = ("https://login.example.com/", "api", "console"), "without Auth__Oidc__ClientSecret" },
        { "a secret without a client", s => (s.Authority, s.Audience, s.ClientSecret) = ("https://login.example.com/", "api", "secret"), "without Auth__Oidc__ClientId" },
        { "a relative authority", s => (s.Authority, s.Audience) = ("login", "api"), "absolute https address" },
        { "plain http outside Development", s => (s.Authority, s.Audience, s.RequireHttpsMetadata) = ("http://login.example.com/", "api", false), "must use https" },
        { "a group mapped onto the source-system role", s => (s.Authority, s.Audience, s.RoleMap["machines"]) = ("https://login.example.com/", "api", Roles.SourceSystem), "not a people role" },
        { "an empty role claim", s => (s.Authority, s.Audience, s.RoleClaim) = ("https://login.example.com/", "api", " "), "RoleClaim is empty" },
    };

    [Theory]
    [MemberData(nameof(Configurations))]
    public void Start_up_accepts_a_whole_section_and_refuses_a_half_configured_one(string _, Action<OrganisationProviderSettings> configure, string? refusal)
    {
        var settings = new OrganisationProviderSettings();
        configure(settings);

        var thrown = Record.Exception(() => settings.Validate(isDevelopment: false));

        if (refusal is null)
        {
            Assert.Null(thrown);
        }
        else
        {
            Assert.Contains(refusal, Assert.IsType<InvalidOperationException>(thrown).Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Plain_http_is_allowed_in_Development_only_when_asked_for()
    {
        var settings = new OrganisationProviderSettings { Authority = "http://127.0.0.1:5000/", Audience = "api" };

        Assert.Throws<InvalidOperationException>(() => settings.Validate(isDevelopment: true));
        settings.RequireHttpsMetadata = false;
        settings.Validate(isDevelopment: true);
    }
}
