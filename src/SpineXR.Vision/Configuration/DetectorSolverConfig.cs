// The detector's solver: optimisation, schedule, run length and the loop's intervals (detectron2's SOLVER node, with
// the seed and thread count of the run). The optimizer kind comes from the architecture's registry entry.
namespace SpineXR.Vision.Configuration;

/// <summary>How a detector is optimised; every property can be overridden by `key=value` (snake_case) or `solver.key=value`.</summary>
public sealed record DetectorSolverConfig
{
    public int BatchSize { get; init; } = 16;
    public double Lr { get; init; } = 1e-3;
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 1e-4;
    public int WarmupIters { get; init; } = 1000;
    public double WarmupFactor { get; init; } = 0.001;

    /// <summary>Iterations at which the learning rate is multiplied by <see cref="Gamma"/>.</summary>
    public int[] Steps { get; init; } = [35000, 45000];

    public double Gamma { get; init; } = 0.1;
    public int MaxIters { get; init; } = 50000;

    /// <summary>Stop (checkpointed, resumable) after this many minutes of training; 0 = no limit.</summary>
    public double MaxMinutes { get; init; }

    /// <summary>Gradient clipping by global L2 norm; 0 disables.</summary>
    public double ClipGradNorm { get; init; } = 10;

    public int EvalEvery { get; init; } = 2000;
    public int CheckpointEvery { get; init; } = 500;
    public int LogEvery { get; init; } = 20;

    /// <summary>Seeds initialisation, the validation split, data order and augmentation.</summary>
    public long Seed { get; init; } = 1999;

    /// <summary>Torch intra-op threads; 0 = library default.</summary>
    public int Threads { get; init; }

    /// <summary>Checks every field; ArgumentException names the field.</summary>
    public DetectorSolverConfig Validate()
    {
        if (BatchSize < 1) throw new ArgumentException("must be positive", nameof(BatchSize));
        if (!(Lr > 0)) throw new ArgumentException("must be positive", nameof(Lr));
        if (MaxIters < 1) throw new ArgumentException("must be positive", nameof(MaxIters));
        if (EvalEvery < 1 || CheckpointEvery < 1 || LogEvery < 1) throw new ArgumentException("intervals must be positive", nameof(EvalEvery));
        return this;
    }
}
