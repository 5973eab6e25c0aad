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

        // The distinct (x, y) points, y being a t_x or a T: Pareto/NBD's dropout term needs one function of (x, y) at
        // each group's t_x and T, and a cohort has far fewer such points than groups (its days are few), so each is
        // computed once. Sorted by x, then y; PointsOfX[k] is where the points of DistinctX[k] start.
        var points = new SortedSet<(int XIndex, double Y)>();
        for (var i = 0; i < x.Length; i++)
        {
            points.Add((xIndex[i], t[i]));
            if (tx[i] < t[i])
            {
                points.Add((xIndex[i], tx[i]));
            }
        }

        PointY = [.. points.Select(p => p.Y)];
        PointXIndex = [.. points.Select(p => p.XIndex)];
        var position = points.Select((p, i) => (p, i)).ToDictionary(e => e.p, e => e.i);
        TxPoint = [.. Enumerable.Range(0, x.Length).Select(i => tx[i] < t[i] ? position[(xIndex[i], tx[i])] : -1)];
        TPoint = [.. Enumerable.Range(0, x.Length).Select(i => position[(xIndex[i], t[i])])];
        PointsOfX = new int[distinctX.Length + 1];
        for (var k = 0; k <= distinctX.Length; k++)
        {
            PointsOfX[k] = Array.FindIndex(PointXIndex, xi => xi >= k) is var first and >= 0 ? first : PointXIndex.Length;
        }
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

    /// <summary>The y (a t_x or a T) of each distinct (x, y) point, sorted by x and then y.</summary>
    internal double[] PointY { get; }

    /// <summary>The index in <see cref="DistinctX"/> of each point's x.</summary>
    internal int[] PointXIndex { get; }

    /// <summary>The points of DistinctX[k] are PointsOfX[k] up to (not including) PointsOfX[k + 1].</summary>
    internal int[] PointsOfX { get; }

    /// <summary>For each group, its (x, t_x) point, or −1 when t_x = T (no dropout between them).</summary>
    internal int[] TxPoint { get; }

    /// <summary>For each group, its (x, T) point.</summary>
    internal int[] TPoint { get; }

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
