using CustomerJourney.Models.Churn;
using CustomerJourney.Models.Spend;
using CustomerJourney.Models.Value;

namespace CustomerJourney.Specs.Models;

public sealed class CustomerValueSpecs
{
    private static readonly BgNbdModel Transactions = new(0.243, 4.414, 0.793, 2.426);
    private static readonly ParetoNbdModel Pareto = new(0.553, 10.578, 0.606, 11.669);
    private static readonly GammaGammaModel Spend = new(6.25, 3.74, 15.44);
    private static readonly RfmSummary Customer = new(2, 30.43, 38.86, 22.35m, new DateOnly(1997, 1, 1));

    [Fact]
    public void Undiscounted_value_is_expected_transactions_times_expected_spend()
    {
        var expected = Transactions.ConditionalExpectedTransactions(2, 30.43, 38.86, 52) * Spend.ConditionalExpectedSpend(2, 22.35);

        Assert.Equal(expected, CustomerValue.Expected(Transactions, Spend, Customer, 52), 12);
    }

    [Fact]
    public void At_a_zero_rate_the_discounted_value_is_the_undiscounted_one()
    {
        Assert.Equal(CustomerValue.Expected(Pareto, Spend, Customer, 52), CustomerValue.Discounted(Pareto, Spend, Customer, 52, 0), 10);
        Assert.Equal(CustomerValue.Expected(Pareto, Spend, Customer, 10.5), CustomerValue.Discounted(Pareto, Spend, Customer, 10.5, 0), 10);
    }

    [Fact]
    public void A_single_period_is_discounted_once_at_its_end()
    {
        var oneWeek = CustomerValue.Expected(Transactions, Spend, Customer, 1);

        Assert.Equal(oneWeek / 1.01, CustomerValue.Discounted(Transactions, Spend, Customer, 1, 0.01), 12);
    }

    [Fact]
    public void Discounting_lowers_value_more_as_the_rate_rises()
    {
        var values = new[] { 0.0, 0.001, 0.01, 0.05 }.Select(rate => CustomerValue.Discounted(Transactions, Spend, Customer, 104, rate)).ToList();

        for (var i = 1; i < values.Count; i++)
        {
            Assert.True(values[i] < values[i - 1], $"rate step {i}: {values[i]} is not below {values[i - 1]}");
        }
    }

    [Fact]
    public void A_weekly_rate_compounds_back_to_the_annual_one()
    {
        var weekly = CustomerValue.WeeklyRate(0.10);

        Assert.Equal(1.10, Math.Pow(1 + weekly, 365.25 / 7), 12);
        Assert.Equal(0, CustomerValue.WeeklyRate(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => CustomerValue.WeeklyRate(-1));
    }

    [Fact]
    public void A_zero_horizon_is_worth_nothing()
    {
        Assert.Equal(0, CustomerValue.Expected(Transactions, Spend, Customer, 0));
        Assert.Equal(0, CustomerValue.Discounted(Transactions, Spend, Customer, 0, 0.01));
    }
}
