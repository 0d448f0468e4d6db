// The classifier's solver: optimisation, schedule, run length, the loop's intervals, the seed and the starting weights.
namespace SpineXR.Vision.Configuration;

public enum OptimizerKind { Sgd, AdamW }

/// <summary>How the classifier is optimised; keys bind as `key=value` (snake_case) or `solver.key=value`.</summary>
public sealed record ClassifierSolverConfig
{
    public int BatchSize { get; init; } = 32;
    /// <summary>Optimisation steps (iterations), not epochs.</summary>
    public int Steps { get; init; } = 10_000;
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;
    public double Lr { get; init; } = 0.01;
    /// <summary>SGD momentum (ignored by AdamW).</summary>
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 1e-4;
    /// <summary>Fractions of <see cref="Steps"/> at which the learning rate is multiplied by <see cref="Gamma"/>.</summary>
    public double[] Milestones { get; init; } = [0.5, 0.75];
    public double Gamma { get; init; } = 0.1;
    /// <summary>Linear warm-up from lr/100 over this many steps (0: none).</summary>
    public int WarmupSteps { get; init; }
    /// <summary>Clip the global gradient L2 norm to this value (0: no clipping).</summary>
    public double ClipGradNorm { get; init; } = 1.0;
    public int EvalEvery { get; init; } = 500;
    public int CheckpointEvery { get; init; } = 500;
    /// <summary>Progress and log.csv row every this many steps.</summary>
    public int LogEvery { get; init; } = 10;
    /// <summary>Seeds initialisation, data order, split and augmentation.</summary>
    public int Seed { get; init; } = 1999;
    /// <summary>torchvision ImageNet weights (.pth or .safetensors) to start from; the head is skipped. Null: random init.</summary>
    public string? Init { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the offending field.</summary>
    public ClassifierSolverConfig Validate()
    {
        if (BatchSize < 1) throw new ArgumentException("must be positive", nameof(BatchSize));
        if (Steps < 1) throw new ArgumentException("must be positive", nameof(Steps));
        if (!(Lr > 0)) throw new ArgumentException("must be positive", nameof(Lr));
        if (Momentum is < 0 or >= 1) throw new ArgumentException("must be in [0, 1)", nameof(Momentum));
        if (WeightDecay < 0) throw new ArgumentException("must be >= 0", nameof(WeightDecay));
        if (Milestones.Any(m => m is <= 0 or >= 1)) throw new ArgumentException("fractions must be in (0, 1)", nameof(Milestones));
        if (Gamma is <= 0 or > 1) throw new ArgumentException("must be in (0, 1]", nameof(Gamma));
        if (WarmupSteps < 0) throw new ArgumentException("must be >= 0", nameof(WarmupSteps));
        if (ClipGradNorm < 0) throw new ArgumentException("must be >= 0", nameof(ClipGradNorm));
        if (EvalEvery < 1) throw new ArgumentException("must be positive", nameof(EvalEvery));
        if (CheckpointEvery < 1) throw new ArgumentException("must be positive", nameof(CheckpointEvery));
        if (LogEvery < 1) throw new ArgumentException("must be positive", nameof(LogEvery));
        return this;
    }
}
