using System.Security.Claims;
using System.Text;
using CustomerJourney.Access;
using CustomerJourney.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CustomerJourney.Tests.Access;

public sealed class TokenTests(AppFixture app)
{
    private JwtSettings Jwt => app.Host.Services.GetRequiredService<JwtSettings>();

    private static string Base64Url(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private string Create(Action<SecurityTokenDescriptor> change)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Jwt.Issuer,
            Audience = Jwt.Audience,
            Subject = new ClaimsIdentity([new Claim("name", "mallory"), new Claim("role", "analyst")]),
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddMinutes(10),
            SigningCredentials = new SigningCredentials(Jwt.Key(), SecurityAlgorithms.HmacSha256),
        };
        change(descriptor);
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    private Task<Answer> ReadWith(string token) => app.Get($"/api/customers/{Ids.Customer()}", Credentials.Token(token));

    [Fact]
    public async Task A_well_formed_token_is_accepted()
    {
        Assert.Equal(404, (await ReadWith(Create(_ => { }))).Status);
    }

    public static TheoryData<string> BadTokens => new()
    {
        "forged: signed with another key",
        "expired",
        "wrong audience",
        "wrong issuer",
        "not yet valid",
        "signed with HS512",
        "no expiry",
        "carries the source-system role",
        "carries a source claim",
        "is named like an API key",
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_bad_token_answers_401(string which)
    {
        var token = Create(d =>
        {
            switch (which)
            {
                case "forged: signed with another key":
                    d.SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(new string('k', 64))), SecurityAlgorithms.HmacSha256);
                    break;
                case "expired":
                    (d.IssuedAt, d.NotBefore, d.Expires) = (DateTime.UtcNow.AddHours(-2), DateTime.UtcNow.AddHours(-2), DateTime.UtcNow.AddMinutes(-5));
                    break;
                case "wrong audience":
                    d.Audience = "someone-else";
                    break;
                case "wrong issuer":
                    d.Issuer = "https://evil.example";
                    break;
                case "not yet valid":
                    (d.NotBefore, d.Expires) = (DateTime.UtcNow.AddMinutes(10), DateTime.UtcNow.AddMinutes(20));
                    break;
                case "signed with HS512":
                    d.SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(Jwt.SigningKey + Jwt.SigningKey)), SecurityAlgorithms.HmacSha512);
                    break;
                case "no expiry":
                    d.Expires = null;
                    break;
                case "carries the source-system role":
                    d.Subject.AddClaim(new Claim("role", "source-system"));
                    break;
                case "carries a source claim":
                    d.Subject.AddClaim(new Claim("source", "crm"));
                    break;
                case "is named like an API key":
                    d.Subject = new ClaimsIdentity([new Claim("name", "key:0123456789abcdef"), new Claim("role", "analyst")]);
                    break;
            }
        });
        if (which == "no expiry")
        {
            // The handler adds an expiry by default; take it out of the payload and re-sign.
            var parts = token.Split('.');
            var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1]));
            payload = System.Text.RegularExpressions.Regex.Replace(payload, "\"exp\":\\d+,?", "").Replace(",}", "}", StringComparison.Ordinal);
            token = Sign(parts[0], Base64Url(payload));
        }

        var answer = await ReadWith(token);

        Assert.Equal((401, "application/problem+json"), (answer.Status, answer.ContentType));
    }

    [Fact]
    public async Task A_token_posing_as_a_source_system_neither_writes_its_touchpoints_nor_is_recorded_as_its_key()
    {
        var source = Ids.Unique("src");
        var customer = Ids.Customer();
        var token = Create(d => d.Subject = new ClaimsIdentity(
            [new Claim("name", "key:0123456789abcdef"), new Claim("role", "source-system"), new Claim("source", source)]));

        var posted = await app.PostTouchpoint(customer, TouchpointJson.Purchase(source: source), Credentials.Token(token));
        var journey = await app.Get($"/api/customers/{customer}/journey");

        Assert.Equal((401, "application/problem+json"), (posted.Status, posted.ContentType));
        Assert.Equal(404, journey.Status);
    }

    [Fact]
    public async Task An_unsigned_token_with_alg_none_answers_401()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = Base64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}");
        var payload = Base64Url($"{{\"name\":\"mallory\",\"role\":\"admin\",\"iss\":\"{Jwt.Issuer}\",\"aud\":\"{Jwt.Audience}\",\"nbf\":{now},\"exp\":{now + 600}}}");

        Assert.Equal(401, (await ReadWith($"{header}.{payload}.")).Status);
        Assert.Equal(401, (await app.Get("/api/access/keys", Credentials.Token($"{header}.{payload}."))).Status);
    }

    [Fact]
    public async Task Garbage_instead_of_a_token_answers_401()
    {
        Assert.Equal(401, (await ReadWith("not-a-jwt")).Status);
        Assert.Equal(401, (await ReadWith(new string('a', 5000))).Status);
    }

    private string Sign(string header, string payload)
    {
        using var hmac = new System.Security.Cryptography.HMACSHA256(Encoding.UTF8.GetBytes(Jwt.SigningKey!));
        var signature = Base64UrlEncoder.Encode(hmac.ComputeHash(Encoding.ASCII.GetBytes($"{header}.{payload}")));
        return $"{header}.{payload}.{signature}";
    }

    [Fact]
    public async Task The_development_token_endpoint_issues_working_tokens_and_refuses_unknown_roles()
    {
        var issued = await app.Send(HttpMethod.Post, "/api/dev/tokens", "{\"name\":\"dana\",\"roles\":[\"analyst\"]}", "application/json", Credentials.None);
        var refused = await app.Send(HttpMethod.Post, "/api/dev/tokens", "{\"name\":\"dana\",\"roles\":[\"god\"]}", "application/json", Credentials.None);
        var unknownMember = await app.Send(HttpMethod.Post, "/api/dev/tokens", "{\"name\":\"dana\",\"roles\":[\"analyst\"],\"admin\":true}", "application/json", Credentials.None);

        Assert.Equal(200, issued.Status);
        Assert.Equal(404, (await ReadWith(issued.Body!["token"]!.GetValue<string>())).Status);
        Assert.Equal((400, "application/problem+json"), (refused.Status, refused.ContentType));
        Assert.Equal((400, "application/problem+json"), (unknownMember.Status, unknownMember.ContentType));
    }
}
