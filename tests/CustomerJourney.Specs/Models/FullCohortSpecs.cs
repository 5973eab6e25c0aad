using CustomerJourney.Models.Churn;
using CustomerJourney.Models.Spend;

namespace CustomerJourney.Specs.Models;

/// <summary>
/// The full CDNOW cohort (23,570 customers, calibration to 1997-09-30) fits to a converged optimum with every model.
/// No published figures exist for it; the sample is a 1/10 draw, so the fits should land near the sample's.
/// </summary>
public sealed class FullCohortSpecs
{
    [Fact]
    public void Every_model_fits_the_full_cohort_to_a_converged_optimum()
    {
        var customers = CdnowData.Master.Values.ToList();
        Assert.Equal(23570, customers.Count);
        var groups = CustomerGroups.From(customers);

        var bgNbd = BgNbd.Fit(groups);
        Assert.True(bgNbd.Converged, bgNbd.Report.Diagnosis);
        Assert.InRange(bgNbd.Model.R, 0.2, 0.3);
        Assert.InRange(bgNbd.Model.Alpha, 3.5, 5.5);

        var pareto = ParetoNbd.Fit(groups);
        Assert.True(pareto.Converged, pareto.Report.Diagnosis);
        Assert.InRange(pareto.Model.R, 0.45, 0.65);
        Assert.InRange(pareto.Model.Alpha, 9, 13);

        var spend = GammaGamma.Fit(customers.Select(c => (c.X, (double)c.MeanRepeatValue)));
        Assert.True(spend.Converged, spend.Report.Diagnosis);
        Assert.InRange(spend.Model.P, 5, 8);

        // One repeat buyer's repeat purchases were all $0.00 (data/cdnow/README.md lists 80 such rows); they are left out.
        Assert.Equal(customers.Count(c => c.X > 0) - 1, spend.Report.Customers);
    }
}
