using System.Diagnostics.Metrics;
using CustomerJourney.Models;

namespace CustomerJourney.Churn;

/// <summary>
/// How model fits end: one count per model fitted, by model, currency and why it stopped (converged, time budget,
/// cancelled, ...). And the people whose flags were evaluated, beside those left out (their new inputs could only clear a
/// flag they do not carry: <see cref="ChurnFlagRules.CanOnlyClear"/>).
/// </summary>
public sealed class ChurnMetrics
{
    public const string MeterName = "CustomerJourney.Churn";

    private readonly Counter<long> _fits;
    private readonly Counter<long> _evaluations;

    public ChurnMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        _fits = meter.CreateCounter<long>("customerjourney.churn.fits", "{fit}", "Model fits ended, by model and reason.");
        _evaluations = meter.CreateCounter<long>("customerjourney.churn.flag_evaluations", "{person}",
            "People whose churn flags were evaluated (outcome evaluated), and people left out because their new inputs could only clear a flag they do not carry (outcome left-out).");
    }

    public void FlagsEvaluated(int evaluated, int leftOut)
    {
        if (evaluated > 0)
        {
            _evaluations.Add(evaluated, new KeyValuePair<string, object?>("outcome", "evaluated"));
        }

        if (leftOut > 0)
        {
            _evaluations.Add(leftOut, new KeyValuePair<string, object?>("outcome", "left-out"));
        }
    }

    public void Fitted(string model, FitReport report, string currency) =>
        _fits.Add(1, new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("reason", report.Reason),
            new KeyValuePair<string, object?>("currency", currency));
}
