using System.Globalization;
using CustomerJourney.Models.Churn;
using CustomerJourney.Models.Datasets;

namespace CustomerJourney.Specs.Models;

public sealed class RfmSummarySpecs
{
    [Fact]
    public void The_raw_sample_reproduces_the_published_summary_of_every_customer_to_two_decimals()
    {
        var published = CdnowData.PublishedSummary;
        Assert.Equal(2357, published.Count);
        Assert.Equal(2357, CdnowData.Sample.Count);
        foreach (var row in published)
        {
            // The sample ids are zero-padded in the purchase file ("0001") and not in the summary ("1").
            var id = int.Parse(row.Id, CultureInfo.InvariantCulture).ToString("D4", CultureInfo.InvariantCulture);
            var mine = CdnowData.Sample[id];
            Assert.Equal(row.X, mine.X);
            Assert.Equal(row.Tx, Math.Round(mine.Tx, 2), 9);
            Assert.Equal(row.T, Math.Round(mine.T, 2), 9);

            // The file rounds half-cents either way, so allow its own rounding step.
            Assert.True(Math.Abs(row.MeanRepeatValue - (double)mine.MeanRepeatValue) <= 0.0051, $"customer {row.Id}: zbar {row.MeanRepeatValue} vs {mine.MeanRepeatValue}");
        }
    }

    [Fact]
    public void Purchases_on_one_day_are_one_transaction_worth_the_days_total()
    {
        var day = new DateOnly(1997, 1, 1);
        var summary = RfmSummary.FromPurchases(
            [(day, 10m), (day, 5m), (day.AddDays(7), 3m), (day.AddDays(7), 4m), (day.AddDays(14), 20m)],
            day.AddDays(28));

        Assert.Equal(2, summary.X);
        Assert.Equal(2.0, summary.Tx, 12);
        Assert.Equal(4.0, summary.T, 12);
        Assert.Equal(13.5m, summary.MeanRepeatValue);
        Assert.Equal(day, summary.FirstPurchase);
    }

    [Fact]
    public void A_purchase_on_the_calibration_end_day_counts_and_one_after_it_does_not()
    {
        var first = new DateOnly(1997, 9, 1);
        var summary = RfmSummary.FromPurchases(
            [(first, 1m), (Cdnow.CalibrationEnd, 2m), (Cdnow.CalibrationEnd.AddDays(1), 4m)], Cdnow.CalibrationEnd);

        Assert.Equal(1, summary.X);
        Assert.Equal(29 / 7.0, summary.Tx, 12);
        Assert.Equal(summary.T, summary.Tx);
        Assert.Equal(2m, summary.MeanRepeatValue);
    }

    [Fact]
    public void Without_repeat_purchases_recency_and_mean_value_are_zero()
    {
        var summary = RfmSummary.FromPurchases([(new DateOnly(1997, 3, 25), 9.99m)], Cdnow.CalibrationEnd);

        Assert.Equal(0, summary.X);
        Assert.Equal(0, summary.Tx);
        Assert.Equal(27.0, summary.T, 12);
        Assert.Equal(0m, summary.MeanRepeatValue);
    }

    [Fact]
    public void Timestamps_fall_on_the_business_days_calendar_day_and_stop_at_the_calibration_instant()
    {
        var newYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        var end = new DateTimeOffset(1997, 9, 30, 23, 59, 59, TimeSpan.FromHours(-4));
        DateTimeOffset At(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);

        // 03:00 UTC on 2 January is still 1 January in New York, so these two are one transaction day.
        var summary = RfmSummary.FromPurchases(
            [(At("1997-01-01T15:00:00-05:00"), 10m), (At("1997-01-02T03:00:00Z"), 5m), (At("1997-01-08T12:00:00-05:00"), 7m), (At("1997-10-01T12:00:00Z"), 100m)],
            end,
            newYork);

        Assert.Equal(1, summary.X);
        Assert.Equal(1.0, summary.Tx, 12);
        Assert.Equal(272 / 7.0, summary.T, 12);
        Assert.Equal(7m, summary.MeanRepeatValue);
    }

    [Fact]
    public void A_customer_who_first_bought_after_calibration_is_not_summarised()
    {
        var error = Assert.Throws<ArgumentException>(() => RfmSummary.FromPurchases([(new DateOnly(1997, 10, 1), 1m)], Cdnow.CalibrationEnd));
        Assert.Contains("1997-09-30", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Holdout_transactions_count_purchase_days_after_calibration_through_the_holdout_end()
    {
        var total = CdnowData.HoldoutTransactions();

        // 6,696 purchase days in all (data/cdnow/README.md), less 2,357 first purchases and the calibration repeats.
        var calibrationRepeats = CdnowData.Sample.Values.Sum(s => s.X);
        Assert.Equal(6696 - 2357 - calibrationRepeats, total);
    }

    [Fact]
    public void Impossible_histories_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => CustomerGroups.From([(-1, 0.0, 1.0)]));
        Assert.Throws<ArgumentException>(() => CustomerGroups.From([(1, 2.0, 1.0)]));
        Assert.Throws<ArgumentException>(() => CustomerGroups.From([(0, 0.5, 1.0)]));
        Assert.Throws<ArgumentException>(() => CustomerGroups.From([(1, double.NaN, 1.0)]));
    }

    [Fact]
    public void Customers_with_the_same_history_share_one_group()
    {
        var groups = CustomerGroups.From([(0, 0.0, 30.0), (2, 5.0, 30.0), (0, 0.0, 30.0), (2, 5.0, 31.0)]);

        Assert.Equal(3, groups.Groups);
        Assert.Equal(4, groups.Customers);
        Assert.Equal(2357, CdnowData.PublishedGroups().Customers);
    }
}
