// The classifier's model configuration: the network, its input and its loss. The input size, mean and std are what a
// run's model.json carries at its top level (architecture, input_size, mean, std), which is all Classifier.Load reads.
namespace SpineXR.Vision.Configuration;

public enum LossKind { Bce, Focal }

/// <summary>The classifier network, its input and its loss; keys bind as `key=value` (snake_case) or `model.key=value`.</summary>
public sealed record ClassifierModelConfig
{
    /// <summary>A classifier of <see cref="Models.ClassifierArchitectures.Registry"/>: densenet121/169/201, densenet_small, densenet_tiny, resnet18/34/50, efficientnet_b0..b3.</summary>
    public string Arch { get; init; } = "densenet201";

    /// <summary>Square input side in pixels; images are resized (aspect not kept, as the official code).</summary>
    public int InputSize { get; init; } = 224;

    public LossKind Loss { get; init; } = LossKind.Bce;

    /// <summary>Focal loss focusing parameter (torchvision's sigmoid_focal_loss).</summary>
    public double FocalGamma { get; init; } = 2.0;

    /// <summary>Focal loss weight of positives; negative disables weighting.</summary>
    public double FocalAlpha { get; init; } = 0.25;

    /// <summary>ImageNet normalisation (torchvision's), applied after grey is copied to three channels.</summary>
    public double[] Mean { get; init; } = [0.485, 0.456, 0.406];

    public double[] Std { get; init; } = [0.229, 0.224, 0.225];

    /// <summary>Throws <see cref="ArgumentException"/> naming the offending field; an unknown architecture lists the known ones.</summary>
    public ClassifierModelConfig Validate()
    {
        if (string.IsNullOrWhiteSpace(Arch)) throw new ArgumentException("is required", nameof(Arch));
        if (!Models.ClassifierArchitectures.IsKnown(Arch)) throw new ArgumentException(Models.ClassifierArchitectures.Registry.Unknown(Arch), nameof(Arch));
        if (InputSize < 32) throw new ArgumentException("must be at least 32", nameof(InputSize));
        if (FocalGamma < 0) throw new ArgumentException("must be >= 0", nameof(FocalGamma));
        if (Mean.Length != 3 || Std.Length != 3 || Std.Any(s => s <= 0)) throw new ArgumentException("needs three values (positive std)", nameof(Std));
        return this;
    }
}
