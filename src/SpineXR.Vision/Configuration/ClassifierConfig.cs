// Training configuration of the abnormality classifier. Paper: VinDr-SpineXR (Nguyen et al., MICCAI 2021),
// section 3.2 and the official configs: DenseNet at 224x224, BCE, SGD lr 0.01 momentum 0.9, batch 32,
// 10k iterations, learning rate x0.1 at 50% and 75%, gradient clipping, horizontal flip.
namespace SpineXR.Vision.Configuration;

public enum OptimizerKind { Sgd, AdamW }

public enum LossKind { Bce, Focal }

/// <summary>Every knob of classifier training, with the paper's values as defaults. Presets: <see cref="Paper"/>, <see cref="Cpu"/>.</summary>
public sealed record ClassifierConfig
{
    /// <summary>Network: densenet121/169/201, densenet_tiny, resnet18/34/50.</summary>
    public string Arch { get; init; } = "densenet201";
    /// <summary>Square input side in pixels; images are resized (aspect not kept, as the official code).</summary>
    public int InputSize { get; init; } = 224;
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
    public LossKind Loss { get; init; } = LossKind.Bce;
    /// <summary>Focal loss focusing parameter (torchvision's sigmoid_focal_loss).</summary>
    public double FocalGamma { get; init; } = 2.0;
    /// <summary>Focal loss weight of positives; negative disables weighting.</summary>
    public double FocalAlpha { get; init; } = 0.25;
    /// <summary>Draw abnormal and normal images with equal probability instead of epoch shuffling.</summary>
    public bool BalancedSampling { get; init; }
    /// <summary>Horizontal flip with probability 0.5 (the paper's only augmentation).</summary>
    public bool HFlip { get; init; } = true;
    /// <summary>Random rotation up to +-this many degrees (0: off).</summary>
    public double RotationDegrees { get; init; }
    /// <summary>Random brightness and contrast factors in [1-x, 1+x] (0: off).</summary>
    public double BrightnessContrast { get; init; }
    /// <summary>Fraction of training studies held out for validation (AUROC every <see cref="EvalEvery"/>; best model kept). 0: keep the last model.</summary>
    public double ValFraction { get; init; } = 0.1;
    public int EvalEvery { get; init; } = 500;
    public int CheckpointEvery { get; init; } = 500;
    /// <summary>Progress and log.csv row every this many steps.</summary>
    public int LogEvery { get; init; } = 10;
    /// <summary>Seeds initialisation, data order, split and augmentation.</summary>
    public int Seed { get; init; } = 1999;
    /// <summary>Threads decoding and augmenting images beside the model (0: half the cores, at least 1).</summary>
    public int Workers { get; init; }
    /// <summary>Batches prepared ahead of the model.</summary>
    public int Prefetch { get; init; } = 3;
    /// <summary>torchvision ImageNet weights (.pth or .safetensors) to start from; the head is skipped. Null: random init.</summary>
    public string? Init { get; init; }
    /// <summary>ImageNet normalisation (torchvision's), applied after grey is copied to three channels.</summary>
    public double[] Mean { get; init; } = [0.485, 0.456, 0.406];
    public double[] Std { get; init; } = [0.229, 0.224, 0.225];

    /// <summary>The paper's setting: DenseNet-201, 224 px, batch 32, 10k SGD steps, lr 0.01 with steps at 50%/75%.</summary>
    public static ClassifierConfig Paper => new();

    /// <summary>
    /// For a 2-core CPU in minutes (DenseNet-121 is too slow there; docs/training.md): the small DenseNet
    /// (growth 12, blocks 2-4-6-4) at 160 px, batch 16, 300 steps of AdamW (lr 2e-3, warm-up 20) with small rotation
    /// and brightness/contrast augmentation; validation every 50 steps.
    /// </summary>
    public static ClassifierConfig Cpu => new()
    {
        Arch = "densenet_small",
        InputSize = 160,
        BatchSize = 16,
        Steps = 300,
        Optimizer = OptimizerKind.AdamW,
        Lr = 2e-3,
        WeightDecay = 1e-4,
        WarmupSteps = 20,
        RotationDegrees = 5,
        BrightnessContrast = 0.1,
        EvalEvery = 50,
        CheckpointEvery = 50,
        LogEvery = 10,
    };

    public static IReadOnlyDictionary<string, Func<ClassifierConfig>> Presets { get; } = new Dictionary<string, Func<ClassifierConfig>>
    {
        ["paper"] = () => Paper,
        ["cpu"] = () => Cpu,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the offending field.</summary>
    public ClassifierConfig Validate()
    {
        if (string.IsNullOrWhiteSpace(Arch)) throw new ArgumentException("is required", nameof(Arch));
        if (InputSize < 32) throw new ArgumentException("must be at least 32", nameof(InputSize));
        if (BatchSize < 1) throw new ArgumentException("must be positive", nameof(BatchSize));
        if (Steps < 1) throw new ArgumentException("must be positive", nameof(Steps));
        if (!(Lr > 0)) throw new ArgumentException("must be positive", nameof(Lr));
        if (Momentum is < 0 or >= 1) throw new ArgumentException("must be in [0, 1)", nameof(Momentum));
        if (WeightDecay < 0) throw new ArgumentException("must be >= 0", nameof(WeightDecay));
        if (Milestones.Any(m => m is <= 0 or >= 1)) throw new ArgumentException("fractions must be in (0, 1)", nameof(Milestones));
        if (Gamma is <= 0 or > 1) throw new ArgumentException("must be in (0, 1]", nameof(Gamma));
        if (WarmupSteps < 0) throw new ArgumentException("must be >= 0", nameof(WarmupSteps));
        if (ClipGradNorm < 0) throw new ArgumentException("must be >= 0", nameof(ClipGradNorm));
        if (FocalGamma < 0) throw new ArgumentException("must be >= 0", nameof(FocalGamma));
        if (RotationDegrees is < 0 or > 45) throw new ArgumentException("must be in [0, 45]", nameof(RotationDegrees));
        if (BrightnessContrast is < 0 or >= 1) throw new ArgumentException("must be in [0, 1)", nameof(BrightnessContrast));
        if (ValFraction is < 0 or >= 1) throw new ArgumentException("must be in [0, 1)", nameof(ValFraction));
        if (EvalEvery < 1) throw new ArgumentException("must be positive", nameof(EvalEvery));
        if (CheckpointEvery < 1) throw new ArgumentException("must be positive", nameof(CheckpointEvery));
        if (LogEvery < 1) throw new ArgumentException("must be positive", nameof(LogEvery));
        if (Workers < 0) throw new ArgumentException("must be >= 0", nameof(Workers));
        if (Prefetch < 1) throw new ArgumentException("must be positive", nameof(Prefetch));
        if (Mean.Length != 3 || Std.Length != 3 || Std.Any(s => s <= 0)) throw new ArgumentException("needs three values (positive std)", nameof(Std));
        return this;
    }
}
