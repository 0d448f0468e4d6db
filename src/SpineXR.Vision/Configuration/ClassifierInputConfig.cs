// The classifier's input pipeline in training: sampling, augmentation, the validation hold-out and the loader threads.
namespace SpineXR.Vision.Configuration;

/// <summary>Training data and augmentation of the classifier; keys bind as `key=value` (snake_case) or `input.key=value`.</summary>
public sealed record ClassifierInputConfig
{
    /// <summary>Draw abnormal and normal images with equal probability instead of epoch shuffling.</summary>
    public bool BalancedSampling { get; init; }
    /// <summary>Horizontal flip with probability 0.5 (the paper's only augmentation).</summary>
    public bool HFlip { get; init; } = true;
    /// <summary>Random rotation up to +-this many degrees (0: off).</summary>
    public double RotationDegrees { get; init; }
    /// <summary>Random brightness and contrast factors in [1-x, 1+x] (0: off).</summary>
    public double BrightnessContrast { get; init; }
    /// <summary>Fraction of training studies held out for validation (AUROC every eval_every; best model kept). 0: keep the last model.</summary>
    public double ValFraction { get; init; } = 0.1;
    /// <summary>Threads decoding and augmenting images beside the model (0: half the cores, at least 1).</summary>
    public int Workers { get; init; }
    /// <summary>Batches prepared ahead of the model.</summary>
    public int Prefetch { get; init; } = 3;

    /// <summary>Throws <see cref="ArgumentException"/> naming the offending field.</summary>
    public ClassifierInputConfig Validate()
    {
        if (RotationDegrees is < 0 or > 45) throw new ArgumentException("must be in [0, 45]", nameof(RotationDegrees));
        if (BrightnessContrast is < 0 or >= 1) throw new ArgumentException("must be in [0, 1)", nameof(BrightnessContrast));
        if (ValFraction is < 0 or >= 1) throw new ArgumentException("must be in [0, 1)", nameof(ValFraction));
        if (Workers < 0) throw new ArgumentException("must be >= 0", nameof(Workers));
        if (Prefetch < 1) throw new ArgumentException("must be positive", nameof(Prefetch));
        return this;
    }
}
