namespace SpineXR.Vision.Training;

/// <summary>
/// Learning rate per step: linear warm-up from base/100 over <c>warmup</c> steps (detectron2's WarmupMultiStepLR
/// with factor 0.01), then multiplied by <c>gamma</c> at each milestone (fractions of the total steps).
/// </summary>
public sealed record LrSchedule(double BaseLr, int TotalSteps, double[] Milestones, double Gamma, int WarmupSteps)
{
    public double At(int step)
    {
        double lr = BaseLr;
        foreach (double m in Milestones)
            if (step >= (int)Math.Round(m * TotalSteps)) lr *= Gamma;
        if (WarmupSteps > 0 && step < WarmupSteps)
        {
            double alpha = (double)step / WarmupSteps;
            lr *= 0.01 * (1 - alpha) + alpha;
        }
        return lr;
    }
}
