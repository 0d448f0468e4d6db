// Training configuration of the lesion detectors. Presets: `paper` follows VinDr-SpineXR (R50-FPN, 800/1333, SGD lr 1e-3,
// batch 16, 50k iterations, repeat-factor sampling t=0.1, images without boxes left out); `cpu` is a narrow ResNet-18-FPN
// at ~400 px that learns the synthetic data in tens of minutes on two cores. Each architecture's registry entry
// (DetectorRegistry) adjusts both presets to itself.
using System.Globalization;
using System.Reflection;
using System.Text.Json.Serialization;
using SpineXR.Vision.Detection;
using SpineXR.Vision.Models;

namespace SpineXR.Vision.Configuration;

/// <summary>Everything a detector training run depends on; every property can be overridden by `key=value` (snake_case).</summary>
public sealed record DetectorTrainConfig
{
    /// <summary>A <see cref="DetectorRegistry"/> name: faster-rcnn, retinanet, sparse-rcnn, efficientdet-d0 .. efficientdet-d3.</summary>
    public string Arch { get; init; } = "faster-rcnn";

    /// <summary>resnet18, resnet34, resnet50 or resnet101; efficientnet_b0 .. efficientnet_b3 for EfficientDet.</summary>
    public string Backbone { get; init; } = "resnet50";

    /// <summary>Stem/stage-1 width of the ResNet (64 = torchvision's; smaller gives a narrow, faster network that cannot load ImageNet weights).</summary>
    public int BaseWidth { get; init; } = 64;

    public int FpnChannels { get; init; } = 256;

    /// <summary>Faster R-CNN TwoMLPHead width.</summary>
    public int RepresentationSize { get; init; } = 1024;

    /// <summary>Backbone stages that train (0..5, from layer4 down; 5 = all).</summary>
    public int TrainableLayers { get; init; } = 3;

    /// <summary>Frozen batch norm in the backbone (needs pretrained statistics); false trains batch norm.</summary>
    public bool FrozenBatchNorm { get; init; } = true;

    /// <summary>Shortest-edge sizes drawn per training image; evaluation uses the last.</summary>
    public int[] MinSizes { get; init; } = [640, 672, 704, 736, 768, 800];

    public int MaxSize { get; init; } = 1333;

    /// <summary>Anchor base size per pyramid level.</summary>
    public double[] AnchorSizes { get; init; } = [32, 64, 128, 256, 512];

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

    /// <summary>Fraction of training studies held out for validation (mAP@0.5 every EvalEvery).</summary>
    public double ValFraction { get; init; } = 0.1;

    public int RpnBatchSizePerImage { get; init; } = 256;
    public int RoiBatchSizePerImage { get; init; } = 512;
    public int RpnPreNmsTopNTrain { get; init; } = 2000;
    public int RpnPostNmsTopNTrain { get; init; } = 2000;
    public int RpnPreNmsTopNTest { get; init; } = 1000;
    public int RpnPostNmsTopNTest { get; init; } = 1000;

    /// <summary>Sparse R-CNN: starting proposal boxes, "image" (official) or "grid" (see <see cref="SparseRcnnConfig.ProposalInit"/>).</summary>
    public string SparseProposalInit { get; init; } = "image";

    /// <summary>Sparse R-CNN: iterative head stages (official 6).</summary>
    public int SparseStages { get; init; } = 6;

    /// <summary>
    /// Sparse R-CNN: class-wise NMS IoU threshold after the top-k at inference, 0 for none (the model's own output).
    /// The official VinDr-SpineXR evaluation applies 0.7.
    /// </summary>
    public double SparseNms { get; init; }

    /// <summary>
    /// Sparse R-CNN: predictions each target may take until the first learning-rate decay, then 1 (one-to-one, the
    /// official matching) for the rest of the run - H-DETR's hybrid-epoch scheme (Jia et al., CVPR 2023), which gives
    /// a set-prediction head r times the positives while it learns to localise and leaves it the low-rate phase to
    /// learn to suppress duplicates. 1 = official throughout.
    /// </summary>
    public int SparseOneToMany { get; init; } = 1;

    /// <summary>EfficientDet: backbone width multiplier on top of the variant's own (null = 1, the published network).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? BackboneWidth { get; init; }

    /// <summary>EfficientDet: backbone depth multiplier on top of the variant's own (null = 1, the published network).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? BackboneDepth { get; init; }

    /// <summary>EfficientDet: BiFPN cells (null = the published count: D0 3, D1 4, D2 5, D3 6).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? BifpnRepeats { get; init; }

    /// <summary>EfficientDet: separable convs in the class and box nets (null = the published count: D0-D2 3, D3 4).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? HeadRepeats { get; init; }

    /// <summary>EfficientDet: anchor side over the level's stride at octave scale 1 (null = the published 4).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? AnchorScale { get; init; }

    /// <summary>Horizontal-flip test-time augmentation, merged by weighted boxes fusion.</summary>
    public bool Tta { get; init; }

    public long Seed { get; init; } = 1999;

    /// <summary>Torch intra-op threads; 0 = library default.</summary>
    public int Threads { get; init; }

    /// <summary>The official configuration (see docs/design.md), adjusted by the architecture's registry entry.</summary>
    public static DetectorTrainConfig Paper(string arch) => DetectorRegistry.Get(arch).Paper(new() { Arch = arch });

    /// <summary>Small, from-scratch configuration for two CPU cores (the demo), adjusted by the architecture's registry entry.</summary>
    public static DetectorTrainConfig Cpu(string arch) => DetectorRegistry.Get(arch).Cpu(new()
    {
        Arch = arch,
        Backbone = "resnet18",
        BaseWidth = 32,
        FpnChannels = 128,
        RepresentationSize = 256,
        TrainableLayers = 5,
        FrozenBatchNorm = false,
        MinSizes = [352, 384, 416, 448],
        MaxSize = 640,
        AnchorSizes = [16, 32, 64, 128, 256],
        BatchSize = 4,
        Lr = 0.02,
        ClipGradNorm = 10,
        WarmupIters = 100,
        Steps = [1400, 1800],
        MaxIters = 2000,
        // the issues' budget on two cores: 30 minutes (Sparse R-CNN's entry gives itself 60)
        MaxMinutes = 28,
        EvalEvery = 250,
        CheckpointEvery = 100,
        LogEvery = 10,
        RpnBatchSizePerImage = 256,
        RoiBatchSizePerImage = 128,
        RpnPreNmsTopNTrain = 1000,
        RpnPostNmsTopNTrain = 500,
        RpnPreNmsTopNTest = 500,
        RpnPostNmsTopNTest = 300,
    });

    public static DetectorTrainConfig Preset(string name, string arch) => name switch
    {
        "paper" => Paper(arch),
        "cpu" => Cpu(arch),
        _ => throw new ArgumentException($"unknown preset '{name}' (paper, cpu)", nameof(name)),
    };

    /// <summary>Checks every field; ArgumentException names the field.</summary>
    public DetectorTrainConfig Validate()
    {
        if (!DetectorRegistry.TryGet(Arch, out var arch))
            throw new ArgumentException($"unknown detector architecture '{Arch}' (known: {string.Join(", ", DetectorRegistry.Names)})", nameof(Arch));
        arch.Validate(this);
        if (BaseWidth < 4) throw new ArgumentException("must be >= 4", nameof(BaseWidth));
        if (MinSizes.Length == 0 || MinSizes.Any(s => s < 32)) throw new ArgumentException("sizes >= 32", nameof(MinSizes));
        if (MaxSize < MinSizes.Max()) throw new ArgumentException("must be >= the largest min size", nameof(MaxSize));
        if (AnchorSizes.Length != 5) throw new ArgumentException("five sizes", nameof(AnchorSizes));
        if (BatchSize < 1) throw new ArgumentException("must be positive", nameof(BatchSize));
        if (!(Lr > 0)) throw new ArgumentException("must be positive", nameof(Lr));
        if (MaxIters < 1) throw new ArgumentException("must be positive", nameof(MaxIters));
        if (EvalEvery < 1 || CheckpointEvery < 1 || LogEvery < 1) throw new ArgumentException("intervals must be positive", nameof(EvalEvery));
        if (ValFraction is < 0 or >= 1) throw new ArgumentException("must be in [0, 1)", nameof(ValFraction));
        if (TrainableLayers is < 0 or > 5) throw new ArgumentException("must be in 0..5", nameof(TrainableLayers));
        if (SparseProposalInit is not ("image" or "grid")) throw new ArgumentException("must be image or grid", nameof(SparseProposalInit));
        if (SparseStages < 1) throw new ArgumentException("must be positive", nameof(SparseStages));
        if (SparseNms is < 0 or > 1) throw new ArgumentException("must be in [0, 1] (0 = none)", nameof(SparseNms));
        if (SparseOneToMany < 1) throw new ArgumentException("must be positive", nameof(SparseOneToMany));
        return this;
    }

    /// <summary>Applies `key=value` overrides with the binder every configuration uses (<see cref="ConfigBinder"/>).</summary>
    public DetectorTrainConfig With(IEnumerable<KeyValuePair<string, string>> overrides) => ConfigBinder.ApplyOverrides(this, overrides);

    /// <summary>Builds the untrained model this configuration describes, for <paramref name="numClasses"/> object classes.</summary>
    public TorchSharp.torch.nn.Module BuildModel(int numClasses) => DetectorRegistry.Get(Arch).Build(this, numClasses);

    /// <summary>The RetinaNet this configuration describes (also what the ONNX backend post-processes with).</summary>
    public RetinaNetConfig ToRetinaNetConfig(int numClasses)
    {
        var body = ResNetConfig.FromName(Backbone) with { BaseWidth = BaseWidth, NumClasses = 0, Norm = FrozenBatchNorm ? NormKind.FrozenBatchNorm : NormKind.BatchNorm };
        return new RetinaNetConfig
        {
            NumClasses = numClasses,
            MinSize = MinSizes,
            MaxSize = MaxSize,
            AnchorSizes = AnchorSizes,
            Backbone = new FpnBackboneConfig
            {
                Body = body, OutChannels = FpnChannels, TrainableLayers = TrainableLayers,
                ReturnedLayers = [2, 3, 4], Extra = FpnExtraBlock.LastLevelP6P7,
            },
        };
    }
}
