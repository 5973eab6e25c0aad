using JasperFx.Events;
using Marten.Events.Aggregation;

namespace CustomerJourney.Churn;

/// <summary>
/// One fitted model: its parameters named as the papers name them, its log-likelihood, whether the optimiser converged, and
/// why it stopped: <c>converged</c>, or a reason such as <c>iteration limit</c>, <c>time budget</c>, <c>parameter bound</c> or
/// <c>non-finite likelihood</c> (<see cref="Models.FitStop"/>), with the optimiser's own sentence. Fits stored before the
/// reasons were kept have none (null).
/// </summary>
public sealed record FittedParameters(
    IReadOnlyDictionary<string, double> Parameters, double LogLikelihood, bool Converged, string? Reason = null, string? Diagnosis = null);

public sealed record FittedModels(FittedParameters BgNbd, FittedParameters ParetoNbd, FittedParameters GammaGamma);

/// <summary>
/// A fit of the churn and spend models, kept as an event so that every score can say which model produced
/// it and a fit can be replayed as the service knew it (asOf).
/// </summary>
public sealed record ChurnModelFitted(
    Guid ModelId,
    DateTimeOffset CalibrationEnd,
    DateTimeOffset? AsOf,
    string Currency,
    int Customers,
    long ElapsedMs,
    FittedModels Models,
    DateTimeOffset FittedAt,
    string FittedBy);

/// <summary>The read model of a fit (one per model stream).</summary>
public sealed class ChurnModel
{
    public string Id { get; set; } = "";
    public Guid ModelId { get; set; }
    public DateTimeOffset CalibrationEnd { get; set; }
    public DateTimeOffset? AsOf { get; set; }
    public string Currency { get; set; } = "";
    public int Customers { get; set; }
    public long ElapsedMs { get; set; }
    public FittedModels Models { get; set; } = null!;
    public DateTimeOffset FittedAt { get; set; }
    public string FittedBy { get; set; } = "";

    /// <summary>Model streams are keyed "churn-models/&lt;id&gt;": '/' never occurs in a customer id, so they cannot collide.</summary>
    public static string StreamKey(Guid modelId) => $"churn-models/{modelId}";
}

/// <summary>Inline, so a model can be scored the moment its fit has answered.</summary>
public sealed partial class ChurnModelProjection : SingleStreamProjection<ChurnModel, string>
{
    /// <summary>Named, so that a transaction appending touchpoints does not look for a model under each customer's id.</summary>
    public ChurnModelProjection() => IncludeType<ChurnModelFitted>();

    public override ChurnModel? Evolve(ChurnModel? snapshot, string id, IEvent e) => e.Data is ChurnModelFitted fitted
        ? new ChurnModel
        {
            Id = id,
            ModelId = fitted.ModelId,
            CalibrationEnd = fitted.CalibrationEnd,
            AsOf = fitted.AsOf,
            Currency = fitted.Currency,
            Customers = fitted.Customers,
            ElapsedMs = fitted.ElapsedMs,
            Models = fitted.Models,
            FittedAt = fitted.FittedAt,
            FittedBy = fitted.FittedBy,
        }
        : snapshot;
}
