namespace Load;

/// <summary>Samples of one workload: latencies in milliseconds, unless the row says otherwise.</summary>
public sealed class Latencies
{
    private readonly List<double> _values = [];
    private readonly Lock _lock = new();

    public void Add(double milliseconds)
    {
        lock (_lock)
        {
            _values.Add(milliseconds);
        }
    }

    public int Count => _values.Count;

    public double Mean
    {
        get
        {
            lock (_lock)
            {
                return _values.Count == 0 ? double.NaN : Math.Round(_values.Average(), 2);
            }
        }
    }

    /// <summary>Nearest-rank percentile.</summary>
    public double Percentile(double p)
    {
        lock (_lock)
        {
            if (_values.Count == 0)
            {
                return double.NaN;
            }

            var sorted = _values.Order().ToList();
            var rank = (int)Math.Ceiling(p / 100 * sorted.Count);
            return Math.Round(sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)], 2);
        }
    }
}

/// <summary>One row of the result table: a figure, its baseline, their ratio and the target it is held to.</summary>
public sealed record Row(string Workload, string Measure, double Value, string Unit, double? Baseline, string? BaselineName, string? Target, bool? Met, string? Note = null)
{
    public double? Ratio => Baseline is > 0 && !double.IsNaN(Value) ? Math.Round(Value / Baseline.Value, 3) : null;

    /// <summary>Why a target met is not counted: its baseline was disturbed (<see cref="Steadiness"/>). A target missed stays missed.</summary>
    public string? NotCounted { get; init; }

    /// <summary>The row held to this baseline: a met target against a disturbed one is not counted.</summary>
    public Row HeldTo(Steadiness baseline) => Met is true && baseline.Disturbed is { } why ? this with { NotCounted = why } : this;

    /// <summary>The table's last column.</summary>
    public string MetText => Met is null ? "-" : NotCounted is not null ? "not counted" : Met.Value ? "yes" : "NO";
}
