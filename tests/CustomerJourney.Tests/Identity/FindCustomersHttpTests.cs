using System.Text.Json.Nodes;
using CustomerJourney.Tests.Support;

namespace CustomerJourney.Tests.Identity;

/// <summary>GET /api/customers?email= or ?phone=: an exact match through the blind index, for roles that see personal data.</summary>
public sealed class FindCustomersHttpTests(AppFixture app)
{
    [Fact]
    public async Task An_email_finds_the_customer_who_gave_it_whatever_its_case_and_only_for_roles_that_see_personal_data()
    {
        var customer = Ids.Customer("find-email");
        var email = $"Find.{Guid.NewGuid():N}@Example.org";
        Assert.Equal(201, (await app.PostTouchpoint(customer, TouchpointJson.Kind("contact-details-changed", new JsonObject { ["email"] = email }))).Status);
        var agent = Credentials.Token(app.Token("finder", "agent"));

        var found = await Waiting.For(() => app.Get($"/api/customers?email={Uri.EscapeDataString(email.ToUpperInvariant())}", agent),
            a => a.Body?["customers"]?.AsArray().Count == 1, TimeSpan.FromSeconds(180), "the e-mail to reach the blind index");

        Assert.Equal(customer, found.Body!["customers"]![0]!["customerId"]!.GetValue<string>());
        Assert.Equal("email", found.Body["identifierType"]!.GetValue<string>());
        var analyst = await app.Get($"/api/customers?email={Uri.EscapeDataString(email)}", Credentials.Token(app.Token("finder", "analyst")));
        Assert.Equal(403, analyst.Status);
        Assert.Equal("application/problem+json", analyst.ContentType);
        Assert.Empty((await app.Get($"/api/customers?email=nobody.{Guid.NewGuid():N}%40example.org", agent)).Body!["customers"]!.AsArray());
    }

    [Theory]
    [InlineData("", "email")]
    [InlineData("?email=not-an-address", "email")]
    [InlineData("?phone=12", "phone")]
    [InlineData("?email=a%40example.org&phone=%2B14155550123", "phone")]
    public async Task A_search_without_exactly_one_valid_email_or_phone_is_a_problem_naming_the_field(string query, string field)
    {
        var answer = await app.Get($"/api/customers{query}", Credentials.Token(app.Token("finder", "agent")));

        Assert.Equal(400, answer.Status);
        Assert.NotNull(answer.Body!["errors"]![field]);
    }
}
