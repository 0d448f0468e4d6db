// The detector's input pipeline in training: which images, how they are sampled and augmented, and the validation
// hold-out (detectron2's INPUT and DATALOADER nodes). Test-time sizes belong to the model (DetectorModelConfig).
namespace SpineXR.Vision.Configuration;

/// <summary>Training data and augmentation of a detector; every property can be overridden by `key=value` (snake_case) or `input.key=value`.</summary>
public sealed record DetectorInputConfig
{
    /// <summary>Shortest-edge sizes drawn per training image; the last is the model's test size (<see cref="DetectorModelConfig.MinSize"/>).</summary>
    public int[] MinSizes { get; init; } = [640, 672, 704, 736, 768, 800];

    /// <summary>Horizontal-flip probability.</summary>
    public double HFlip { get; init; } = 0.5;

    /// <summary>Probability of each colour operation (brightness, contrast, gamma) of the augmentation subset.</summary>
    public double ColorAugment { get; init; } = 0.3;

    /// <summary>Probability of the box-aware translation (AutoAugment-for-detection TranslateX/Y); boxes move along and are clipped.</summary>
    public double TranslateAugment { get; init; } = 0.2;

    /// <summary>Maximum translation as a fraction of the image size.</summary>
    public double TranslateFraction { get; init; } = 0.1;

    /// <summary>Repeat-factor sampling threshold (LVIS); 0 disables.</summary>
    public double RepeatThreshold { get; init; } = 0.1;

    /// <summary>Train also on images without boxes (the official config leaves them out).</summary>
    public bool IncludeEmpty { get; init; }

    /// <summary>Fraction of training studies held out for validation (mAP@0.5 every eval_every).</summary>
    public double ValFraction { get; init; } = 0.1;

    /// <summary>Checks every field; ArgumentException names the field.</summary>
    public DetectorInputConfig Validate()
    {
        if (MinSizes.Length == 0 || MinSizes.Any(s => s < 32)) throw new ArgumentException("sizes >= 32", nameof(MinSizes));
        if (ValFraction is < 0 or >= 1) throw new ArgumentException("must be in [0, 1)", nameof(ValFraction));
        return this;
    }
}
