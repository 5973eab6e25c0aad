using CustomerJourney.Tests.Support;

namespace CustomerJourney.Tests.Access;

public sealed class RateLimitTests(AppFixture app)
{
    [Fact]
    public async Task A_burst_over_the_clients_budget_answers_429_with_Retry_After_while_others_are_served()
    {
        var burster = Credentials.Token(app.Token(AppFixture.BurstTester, "analyst"));
        var url = $"/api/customers/{Ids.Customer()}";

        var answers = new List<Answer>();
        for (var i = 0; i < 12; i++)
        {
            answers.Add(await app.Get(url, burster));
        }

        var other = await app.Get(url, Credentials.Token(app.Token("calm-analyst", "analyst")));

        var limited = answers.Where(a => a.Status == 429).ToList();
        Assert.NotEmpty(limited);
        Assert.All(answers.Where(a => a.Status != 429), a => Assert.Equal(404, a.Status));
        Assert.All(limited, a =>
        {
            Assert.Equal("application/problem+json", a.ContentType);
            Assert.True(a.Response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        });
        Assert.Equal(404, other.Status);
    }
}
