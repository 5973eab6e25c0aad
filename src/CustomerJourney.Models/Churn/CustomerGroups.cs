namespace CustomerJourney.Models.Churn;

/// <summary>
/// Customers grouped by identical (x, t_x, T) with a count each. The likelihoods depend on nothing else, and cohorts
/// acquired over a few months repeat the same triples often (23,570 CDNOW customers give 8,685 groups), so each
/// triple is evaluated once and weighted by its count.
/// </summary>
public sealed class CustomerGroups
{
    private CustomerGroups(int[] x, double[] tx, double[] t, int[] count, int[] xIndex, int[] distinctX)
    {
        X = x;
        Tx = tx;
        T = t;
        Count = count;
        XIndex = xIndex;
        DistinctX = distinctX;
        Customers = count.Sum();
    }

    /// <summary>Number of distinct (x, t_x, T) groups.</summary>
    public int Groups => X.Length;

    /// <summary>Number of customers over all groups.</summary>
    public int Customers { get; }

    internal int[] X { get; }

    internal double[] Tx { get; }

    internal double[] T { get; }

    internal int[] Count { get; }

    /// <summary>For each group, the index of its x in <see cref="DistinctX"/>: gamma-function terms depend on x only.</summary>
    internal int[] XIndex { get; }

    internal int[] DistinctX { get; }

    /// <summary>Total repeat transactions and total weeks observed: a rough rate for starting points.</summary>
    internal (double Transactions, double Weeks) Totals()
    {
        double transactions = 0, weeks = 0;
        for (var i = 0; i < X.Length; i++)
        {
            transactions += (double)X[i] * Count[i];
            weeks += T[i] * Count[i];
        }

        return (transactions, weeks);
    }

    public static CustomerGroups From(IEnumerable<RfmSummary> customers) => From(customers.Select(c => (c.X, c.Tx, c.T)));

    /// <summary>Groups customers given as (x, t_x, T).</summary>
    /// <exception cref="ArgumentException">A history that cannot occur: x &lt; 0, t_x outside [0, T], or t_x ≠ 0 with x = 0.</exception>
    public static CustomerGroups From(IEnumerable<(int X, double Tx, double T)> customers)
    {
        var counts = new Dictionary<(int, double, double), int>();
        foreach (var customer in customers)
        {
            Validate(customer.X, customer.Tx, customer.T);
            counts[customer] = counts.GetValueOrDefault(customer) + 1;
        }

        if (counts.Count == 0)
        {
            throw new ArgumentException("There are no customers to fit.", nameof(customers));
        }

        var ordered = counts.OrderBy(c => c.Key.Item1).ThenBy(c => c.Key.Item2).ThenBy(c => c.Key.Item3).ToArray();
        var distinctX = ordered.Select(c => c.Key.Item1).Distinct().ToArray();
        var position = distinctX.Select((x, i) => (x, i)).ToDictionary(p => p.x, p => p.i);
        return new CustomerGroups(
            [.. ordered.Select(c => c.Key.Item1)],
            [.. ordered.Select(c => c.Key.Item2)],
            [.. ordered.Select(c => c.Key.Item3)],
            [.. ordered.Select(c => c.Value)],
            [.. ordered.Select(c => position[c.Key.Item1])],
            distinctX);
    }

    /// <summary>Checks one history; the models' formulas are meaningless outside these bounds.</summary>
    public static void Validate(int x, double tx, double t)
    {
        if (x < 0 || !double.IsFinite(tx) || !double.IsFinite(t) || tx < 0 || tx > t || (x == 0 && tx != 0))
        {
            throw new ArgumentException($"(x = {x}, t_x = {tx}, T = {t}) is not a possible history: need x >= 0, 0 <= t_x <= T, and t_x = 0 when x = 0.");
        }
    }
}
