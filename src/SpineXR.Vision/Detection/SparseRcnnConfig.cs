using SpineXR.Vision.Models;

namespace SpineXR.Vision.Detection;

/// <summary>Initial values of Sparse R-CNN's learned proposal boxes.</summary>
public enum ProposalInit
{
    /// <summary>Every proposal is the whole image (official).</summary>
    Image,

    /// <summary>Proposals tile the image in a near-square grid, each box twice its cell so neighbours overlap.</summary>
    Grid,
}

/// <summary>A Sparse R-CNN architecture, its loss and inference settings; defaults are the official R50-FPN 100-proposal config (MODEL.SparseRCNN) with the 7 VinDr-SpineXR classes.</summary>
public sealed record SparseRcnnConfig
{
    /// <summary>ResNet-FPN backbone; the head reads P2-P5 (the extra max-pool level is unused, as the official ROI_HEADS.IN_FEATURES).</summary>
    public FpnBackboneConfig Backbone { get; init; } = new() { Body = ResNetConfig.ResNet50 with { Norm = NormKind.FrozenBatchNorm } };

    /// <summary>Shortest-edge sizes (training picks one at random per image; evaluation uses the last).</summary>
    public int[] MinSize { get; init; } = [800];

    /// <summary>Longest-edge cap.</summary>
    public int MaxSize { get; init; } = 1333;

    /// <summary>Object classes (sigmoid outputs, no background); VinDr-SpineXR: 7.</summary>
    public int NumClasses { get; init; } = 7;

    /// <summary>Learned proposals (boxes and features) per image.</summary>
    public int NumProposals { get; init; } = 100;

    /// <summary>Proposal feature and FPN channel width.</summary>
    public int HiddenDim { get; init; } = 256;

    /// <summary>Hidden width of each stage's FFN.</summary>
    public int DimFeedforward { get; init; } = 2048;

    /// <summary>Self-attention heads.</summary>
    public int NumAttentionHeads { get; init; } = 8;

    /// <summary>Dropout in attention and FFN (official 0.0).</summary>
    public double Dropout { get; init; } = 0.0;

    /// <summary>
    /// Where the learned proposal boxes start: <see cref="ProposalInit.Image"/> (every box the whole image, the official
    /// default) or <see cref="ProposalInit.Grid"/> (a regular grid of cells covering the image; one of the paper's
    /// ablations, Table 3, equal at convergence). Only the initial values differ; the boxes are learned either way.
    /// </summary>
    public ProposalInit ProposalInit { get; init; } = ProposalInit.Image;

    /// <summary>Iterative refinement stages (official NUM_HEADS = 6).</summary>
    public int NumStages { get; init; } = 6;

    /// <summary>Dynamic layers in the dynamic convolution (the official module supports exactly 2).</summary>
    public int NumDynamic { get; init; } = 2;

    /// <summary>Inner width of the dynamic convolution.</summary>
    public int DimDynamic { get; init; } = 64;

    /// <summary>(Linear, LayerNorm, ReLU) blocks before the class predictor.</summary>
    public int NumClsLayers { get; init; } = 1;

    /// <summary>(Linear, LayerNorm, ReLU) blocks before the box-delta predictor.</summary>
    public int NumRegLayers { get; init; } = 3;

    /// <summary>RoIAlign output size.</summary>
    public int PoolerResolution { get; init; } = 7;

    /// <summary>RoIAlign samples per bin side (ROIAlignV2: aligned, ratio 2).</summary>
    public int SamplingRatio { get; init; } = 2;

    /// <summary>Initial class probability for the focal-loss bias.</summary>
    public double PriorProb { get; init; } = 0.01;

    /// <summary>Loss on every stage (auxiliary terms) rather than only the last.</summary>
    public bool DeepSupervision { get; init; } = true;

    /// <summary>Weight of the focal class cost and loss.</summary>
    public double ClassWeight { get; init; } = 2.0;

    /// <summary>Weight of the L1 cost and loss on image-normalised boxes.</summary>
    public double L1Weight { get; init; } = 5.0;

    /// <summary>Weight of the GIoU cost and loss.</summary>
    public double GiouWeight { get; init; } = 2.0;

    /// <summary>Focal loss alpha.</summary>
    public double FocalAlpha { get; init; } = 0.25;

    /// <summary>Focal loss gamma.</summary>
    public double FocalGamma { get; init; } = 2.0;

    /// <summary>Detections kept per image: top-k over proposals x classes (official: NumProposals).</summary>
    public int DetectionsPerImage { get; init; } = 100;

    /// <summary>Class-wise NMS IoU threshold applied after top-k, or null for none (the official evaluation adds 0.7).</summary>
    public double? NmsThreshold { get; init; }

    /// <summary>
    /// The paper's model: ResNet-50-FPN, 800/1333, 100 proposals, 6 stages. With a pretrained backbone, frozen BN and
    /// the stem + res2 frozen (detectron2 FREEZE_AT 2); from scratch, trainable BN everywhere.
    /// </summary>
    public static SparseRcnnConfig Paper(int numClasses = 7, bool pretrainedBackbone = true) => new()
    {
        NumClasses = numClasses,
        Backbone = new FpnBackboneConfig
        {
            Body = ResNetConfig.ResNet50 with { Norm = pretrainedBackbone ? NormKind.FrozenBatchNorm : NormKind.BatchNorm },
            TrainableLayers = pretrainedBackbone ? 3 : 5,
        },
    };

    /// <summary>
    /// For a 2-core CPU: ResNet-18-FPN with 128 channels, short side 384, 100 proposals, 6 stages with a narrower
    /// FFN (1024) and dynamic convolution (32); trainable BN as there are no pretrained weights here.
    /// </summary>
    public static SparseRcnnConfig Cpu(int numClasses = 7) => new()
    {
        NumClasses = numClasses,
        Backbone = new FpnBackboneConfig { Body = ResNetConfig.ResNet18, OutChannels = 128, TrainableLayers = 5 },
        MinSize = [384],
        MaxSize = 640,
        HiddenDim = 128,
        DimFeedforward = 1024,
        DimDynamic = 32,
    };

    /// <summary>
    /// The official head on another backbone width: HiddenDim = FPN channels, FFN 8x and dynamic dimension 1/4 of it
    /// (2048 and 64 at the official 256).
    /// </summary>
    public static SparseRcnnConfig ForBackbone(int numClasses, FpnBackboneConfig backbone, int[] minSize, int maxSize) => new()
    {
        NumClasses = numClasses,
        Backbone = backbone with { ReturnedLayers = [1, 2, 3, 4], Extra = FpnExtraBlock.LastLevelMaxPool },
        MinSize = minSize,
        MaxSize = maxSize,
        HiddenDim = backbone.OutChannels,
        DimFeedforward = 8 * backbone.OutChannels,
        DimDynamic = Math.Max(1, backbone.OutChannels / 4),
    };

    /// <summary>A very small model for tests: ResNet-18 of base width 8, 32 channels, 3 stages, 20 proposals, 96-px images.</summary>
    public static SparseRcnnConfig Tiny(int numClasses = 3) => new()
    {
        NumClasses = numClasses,
        Backbone = new FpnBackboneConfig { Body = ResNetConfig.ResNet18 with { BaseWidth = 8 }, OutChannels = 32, TrainableLayers = 5 },
        MinSize = [96],
        MaxSize = 128,
        HiddenDim = 32,
        DimFeedforward = 64,
        NumAttentionHeads = 4,
        DimDynamic = 8,
        NumStages = 3,
        NumProposals = 20,
        DetectionsPerImage = 20,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        static void Check(bool ok, string name) { if (!ok) throw new ArgumentException("invalid value", name); }
        Check(NumClasses >= 1, nameof(NumClasses));
        Check(Backbone.OutChannels == HiddenDim, nameof(HiddenDim));
        Check(MinSize.Length > 0 && MinSize.All(s => s >= 1), nameof(MinSize));
        Check(MaxSize >= 1, nameof(MaxSize));
        Check(NumProposals >= 1, nameof(NumProposals));
        Check(HiddenDim >= 1 && NumAttentionHeads >= 1 && HiddenDim % NumAttentionHeads == 0, nameof(NumAttentionHeads));
        Check(DimFeedforward >= 1, nameof(DimFeedforward));
        Check(Dropout is >= 0 and < 1, nameof(Dropout));
        Check(NumStages >= 1, nameof(NumStages));
        Check(NumDynamic == 2, nameof(NumDynamic));
        Check(DimDynamic >= 1, nameof(DimDynamic));
        Check(NumClsLayers >= 0, nameof(NumClsLayers));
        Check(NumRegLayers >= 0, nameof(NumRegLayers));
        Check(PoolerResolution >= 1, nameof(PoolerResolution));
        Check(SamplingRatio >= 1, nameof(SamplingRatio));
        Check(PriorProb is > 0 and < 1, nameof(PriorProb));
        Check(ClassWeight >= 0 && L1Weight >= 0 && GiouWeight >= 0, nameof(ClassWeight));
        Check(FocalAlpha is >= 0 and <= 1, nameof(FocalAlpha));
        Check(FocalGamma >= 0, nameof(FocalGamma));
        Check(DetectionsPerImage >= 1, nameof(DetectionsPerImage));
        Check(NmsThreshold is null or (> 0 and <= 1), nameof(NmsThreshold));
    }
}
