using CsCheck;
using CustomerJourney.Churn;
using CustomerJourney.Identity;
using CustomerJourney.Models.Churn;

namespace CustomerJourney.Specs.Churn;

/// <summary>
/// A fit gathers its cohort from histories streamed one at a time, holding summaries rather than histories: given any
/// histories, any merges and any reading order, then exactly the people and summaries of the whole cohort held at once.
/// </summary>
public sealed class CohortSummariesSpecs
{
    private static readonly DateTimeOffset Start = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly FitRequest Fit = new(Start.AddDays(100), AsOf: null, "USD");

    private static PurchaseHistory History(string id, params (double Day, decimal Amount, string Currency)[] purchases) => new()
    {
        Id = id,
        Purchases = [.. purchases.Select(p => new PurchaseRecord(Start.AddDays(p.Day), p.Amount, p.Currency, Start.AddDays(p.Day)))],
    };

    /// <summary>What a fit held before: every history in memory, grouped per person, then summarised.</summary>
    private static List<RfmSummary> AllAtOnce(IEnumerable<PurchaseHistory> histories, ProfileMap graph) =>
        [.. ChurnFitting.Cohort(PeoplesPurchases.Of(histories, graph), Fit).Select(p => RfmSummary.FromPurchases(p, Fit.CalibrationEnd, TimeZoneInfo.Utc))];

    private static List<RfmSummary> Streamed(IEnumerable<PurchaseHistory> histories, ProfileMap graph)
    {
        var cohort = new CohortSummaries(graph, Fit, TimeZoneInfo.Utc);
        foreach (var history in histories)
        {
            cohort.Add(history);
        }

        return cohort.Complete();
    }

    [Fact]
    public void A_merged_person_is_one_customer_of_the_cohort_whichever_member_is_read_first()
    {
        var ann = History("ann", (1, 30m, "USD"), (9.5, 20m, "USD"));
        var bob = History("bob", (9.6, 15m, "USD"), (30, 40m, "USD"));
        var cid = History("cid", (2, 10m, "USD"));
        var graph = new ProfileMap(new Dictionary<string, string> { ["bob"] = ProfileIds.HomeOf("ann") });

        var streamed = Streamed([bob, cid, ann], graph);

        Assert.Equal(2, streamed.Count);
        // Ann's and Bob's days 1, 10 (one transaction) and 30: two repeats, the last 29 days after the first.
        Assert.Equal((2, 29 / 7.0), (streamed[0].X, streamed[0].Tx));
        Assert.Equal(AllAtOnce([ann, bob, cid], graph), streamed);
    }

    [Fact]
    public void Customers_without_a_purchase_the_fit_may_see_before_the_calibration_end_are_not_in_it()
    {
        var late = History("late", (150, 10m, "USD"));
        var euros = History("euros", (5, 10m, "EUR"));
        var empty = History("empty");

        Assert.Empty(Streamed([late, euros, empty], new ProfileMap(new Dictionary<string, string>())));
    }

    [Fact]
    public void Streaming_in_any_order_gives_the_summaries_of_the_whole_cohort_held_at_once()
    {
        var purchase = Gen.Select(Gen.Int[0, 160], Gen.Int[1, 500], Gen.Int[0, 5], (day, cents, currency) =>
            ((double)day, cents / 100m, currency == 0 ? "EUR" : "USD"));
        Gen.Select(purchase.Array[0, 5].Array[1, 12], Gen.Int[0, 11].Array[0, 6], Gen.Int[0, 11].Array[0, 6], Gen.Int)
            .Sample((bought, merged, into, seed) =>
            {
                var histories = bought.Select((p, i) => History($"c{i:D2}", p)).ToList();
                var moves = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var (from, to) in merged.Zip(into).Where(m => m.First < histories.Count && m.Second < histories.Count && m.First != m.Second))
                {
                    moves[$"c{from:D2}"] = ProfileIds.HomeOf($"c{to:D2}");
                }

                var graph = new ProfileMap(moves);
                var shuffled = histories.ToArray();
                new Random(seed).Shuffle(shuffled);

                Assert.Equal(AllAtOnce(histories, graph), Streamed(shuffled, graph));
            });
    }
}
