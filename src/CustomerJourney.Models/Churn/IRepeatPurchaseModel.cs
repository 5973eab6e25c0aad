namespace CustomerJourney.Models.Churn;

/// <summary>
/// A fitted "buy till you die" model of repeat transactions (BG/NBD or Pareto/NBD). Histories are (x, t_x, T) as in
/// <see cref="RfmSummary"/>; times and horizons are in the unit the model was fitted in (weeks for CDNOW).
/// </summary>
public interface IRepeatPurchaseModel
{
    /// <summary>Log-likelihood of one customer's history.</summary>
    double LogLikelihood(int x, double tx, double t);

    /// <summary>P(the customer is still active at T | x, t_x, T).</summary>
    double ProbabilityAlive(int x, double tx, double t);

    /// <summary>E[Y(horizon) | x, t_x, T]: expected transactions in (T, T + horizon] for a customer with this history.</summary>
    double ConditionalExpectedTransactions(int x, double tx, double t, double horizon);

    /// <summary>E[X(time)]: expected repeat transactions in (0, time] of a newly acquired customer (the tracking plot).</summary>
    double ExpectedTransactions(double time);

    /// <summary>P(X(time) = x): the probability that a newly acquired customer makes exactly x repeat transactions in (0, time].</summary>
    double ProbabilityOfTransactions(int x, double time);
}
