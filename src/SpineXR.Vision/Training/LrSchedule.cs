namespace SpineXR.Vision.Training;

/// <summary>
/// Learning rate per step, shared by every trainer (detectron2's WarmupMultiStepLR): the base rate multiplied by
/// <see cref="Gamma"/> at each decay step, and during the first <see cref="WarmupSteps"/> by a factor rising linearly
/// from <see cref="WarmupFactor"/> to 1. With a time budget (<see cref="BudgetMinutes"/>) decay step s also falls at
/// s / <see cref="TotalSteps"/> of the budget, whichever comes first, so a run the budget stops before its last step
/// still gets its low-rate phase.
/// </summary>
public sealed record LrSchedule(double BaseLr, int[] DecaySteps, double Gamma, int WarmupSteps, double WarmupFactor = 0.01, int TotalSteps = 0, double BudgetMinutes = 0)
{
    /// <summary>Decays at fractions of <paramref name="totalSteps"/> (the classifier's milestones), warm-up from 1%.</summary>
    public LrSchedule(double baseLr, int totalSteps, double[] milestones, double gamma, int warmupSteps)
        : this(baseLr, milestones.Select(m => (int)Math.Round(m * totalSteps)).ToArray(), gamma, warmupSteps, 0.01, totalSteps)
    {
    }

    /// <summary>Decays that have fallen by <paramref name="step"/> or by this share of the time budget.</summary>
    public int DecaysPassed(int step, double elapsedMinutes = 0)
    {
        double timeFraction = BudgetMinutes > 0 && TotalSteps > 0 ? elapsedMinutes / BudgetMinutes : 0;
        return DecaySteps.Count(s => step >= s || (timeFraction > 0 && timeFraction >= (double)s / TotalSteps));
    }

    public double At(int step, double elapsedMinutes = 0)
    {
        double lr = BaseLr;
        for (int k = DecaysPassed(step, elapsedMinutes); k > 0; k--) lr *= Gamma;
        if (WarmupSteps > 0 && step < WarmupSteps)
        {
            double alpha = (double)step / WarmupSteps;
            lr *= WarmupFactor * (1 - alpha) + alpha;
        }
        return lr;
    }
}
