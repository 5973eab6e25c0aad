using System.Diagnostics.Metrics;
using CustomerJourney.Models;

namespace CustomerJourney.Churn;

/// <summary>
/// How model fits end: one count per model fitted, by model, currency and why it stopped (converged, time budget, cancelled,
/// ...); and how often a flag evaluation had to read again under the customers' locks.
/// </summary>
public sealed class ChurnMetrics
{
    public const string MeterName = "CustomerJourney.Churn";

    private readonly Counter<long> _fits;
    private readonly Counter<long> _rereads;

    public ChurnMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _fits = meters.Create(MeterName).CreateCounter<long>("customerjourney.churn.fits", "{fit}", "Model fits ended, by model and reason.");
        _rereads = meters.Create(MeterName).CreateCounter<long>("customerjourney.churn.flags.rereads", "{evaluation}",
            "Flag evaluations read again under the customers' locks because a stream they read moved meanwhile.");
    }

    public void Fitted(string model, FitReport report, string currency) =>
        _fits.Add(1, new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("reason", report.Reason),
            new KeyValuePair<string, object?>("currency", currency));

    public void ReadAgain() => _rereads.Add(1);
}
