namespace SpineXR.Vision.Detection;

/// <summary>Sparse R-CNN head, loss and inference settings; defaults are the official R50 100-proposal config (MODEL.SparseRCNN).</summary>
public sealed record SparseRcnnOptions
{
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

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        static void Check(bool ok, string name) { if (!ok) throw new ArgumentException($"invalid value", name); }
        Check(NumClasses >= 1, nameof(NumClasses));
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
