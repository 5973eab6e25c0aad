using System.Text.Json.Nodes;
using CustomerJourney.Access;
using CustomerJourney.Tests.Support;
using CustomerJourney.Tests.WinBack;
using CustomerJourney.Touchpoints;
using Microsoft.Extensions.DependencyInjection;

namespace CustomerJourney.Tests.Access;

/// <summary>
/// Two instances of the service on one database. Each keeps the API keys and personal-data keys it read for a moment
/// (<see cref="RecentLookups"/>); a revocation or an erasure made through one must still hold on the other within a second.
/// </summary>
public sealed class RecentLookupsTests
{
    private static readonly TimeSpan WithinASecond = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task A_key_revoked_on_one_instance_is_refused_by_the_other_within_a_second()
    {
        await using var first = await WinBackHost.StartAsync();
        await using var second = await WinBackHost.JoinAsync(first);
        var source = Ids.Unique("src");
        var key = await first.KeyFor(source);
        var customer = Ids.Customer();
        async Task<int> Post() => (await second.PostTouchpoint(customer, TouchpointJson.Purchase(source: source), Credentials.Key(key))).Status;

        Assert.Equal(201, await Post());
        Assert.Equal(201, await Post());
        var (revoked, _) = await first.Send(HttpMethod.Delete, $"/api/access/keys/{key.Split('.')[1]}", null, "admin");

        Assert.Equal(200, revoked);
        await Waiting.For(Post, status => status == 401, WithinASecond, "the second instance to refuse the revoked key", every: TimeSpan.FromMilliseconds(20));
    }

    [Fact]
    public async Task A_customer_erased_on_one_instance_can_be_neither_read_nor_sealed_by_the_other_within_a_second()
    {
        await using var first = await WinBackHost.StartAsync();
        await using var second = await WinBackHost.JoinAsync(first);
        var customer = Ids.Customer("erase");
        var comment = $"comment-{Guid.NewGuid():N}";
        var recorded = await second.PostBatch([TouchpointJson.Kind("survey-answered", new JsonObject { ["csat"] = 2, ["comment"] = comment }, customer)]);
        Assert.Equal((200, 1), (recorded.Status, recorded.Body.Int("appended")));
        var protector = second.Host.Services.GetRequiredService<IPersonalDataProtector>();
        async Task<bool> SecondMaySeal() => !(await protector.ForCustomersAsync([customer], forWriting: true, TestContext.Current.CancellationToken)).IsErased(customer);
        async Task<string> SecondReads() => (await second.Get($"/api/customers/{customer}/journey", "agent")).Body!.ToJsonString();

        Assert.True(await SecondMaySeal());
        Assert.Contains(comment, await SecondReads(), StringComparison.Ordinal);
        var (erased, _) = await first.Send(HttpMethod.Post, $"/api/customers/{customer}/erasure", null, "admin");

        Assert.Equal(200, erased);
        await Waiting.Until(async () => !await SecondMaySeal(), WithinASecond, "the second instance to see the customer's key destroyed");
        await Waiting.Until(async () => !(await SecondReads()).Contains(comment, StringComparison.Ordinal), WithinASecond,
            "the second instance to stop showing the erased customer's comment");
    }
}
