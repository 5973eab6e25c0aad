using System.Diagnostics.Metrics;
using CustomerJourney.Models;

namespace CustomerJourney.Churn;

/// <summary>How model fits end: one count per model fitted, by model, currency and why it stopped (converged, time budget, cancelled, ...).</summary>
public sealed class ChurnMetrics
{
    public const string MeterName = "CustomerJourney.Churn";

    private readonly Counter<long> _fits;

    public ChurnMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _fits = meters.Create(MeterName).CreateCounter<long>("customerjourney.churn.fits", "{fit}", "Model fits ended, by model and reason.");
    }

    public void Fitted(string model, FitReport report, string currency) =>
        _fits.Add(1, new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("reason", report.Reason),
            new KeyValuePair<string, object?>("currency", currency));
}
