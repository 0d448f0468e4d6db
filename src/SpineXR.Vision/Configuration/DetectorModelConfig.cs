// The detector's model configuration: everything that rebuilds the network and runs it, saved as model.json's
// config.model and read by Detector.Load without any training type (docs/design.md "Run directory"). Like detectron2's
// MODEL node it also holds the settings the network uses only in training mode (RPN and RoI sampling, the RPN's
// training top-n, trainable stages, Sparse R-CNN's one-to-many matching): they are part of what the network does, so a
// run's model.json rebuilds the network exactly as it trained; the solver and the data pipeline are other sections.
using System.Text.Json;
using System.Text.Json.Serialization;
using SpineXR.Vision.Detection;
using SpineXR.Vision.Models;

namespace SpineXR.Vision.Configuration;

/// <summary>The network of a detector and how it runs; every property can be overridden by `key=value` (snake_case) or `model.key=value`.</summary>
public sealed record DetectorModelConfig
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

    /// <summary>Shortest edge at test time (and of validation during training: the last of the input's training sizes).</summary>
    public int MinSize { get; init; } = 800;

    /// <summary>Longest edge, in training and at test time.</summary>
    public int MaxSize { get; init; } = 1333;

    /// <summary>Anchor base size per pyramid level.</summary>
    public double[] AnchorSizes { get; init; } = [32, 64, 128, 256, 512];

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

    /// <summary>Checks every field; ArgumentException names the field, an unknown <see cref="Arch"/> lists the known ones.</summary>
    public DetectorModelConfig Validate()
    {
        DetectorRegistry.Get(Arch).Validate(this);
        if (BaseWidth < 4) throw new ArgumentException("must be >= 4", nameof(BaseWidth));
        if (MinSize < 32) throw new ArgumentException("must be >= 32", nameof(MinSize));
        if (MaxSize < MinSize) throw new ArgumentException("must be >= min_size", nameof(MaxSize));
        if (AnchorSizes.Length != 5) throw new ArgumentException("five sizes", nameof(AnchorSizes));
        if (TrainableLayers is < 0 or > 5) throw new ArgumentException("must be in 0..5", nameof(TrainableLayers));
        if (SparseProposalInit is not ("image" or "grid")) throw new ArgumentException("must be image or grid", nameof(SparseProposalInit));
        if (SparseStages < 1) throw new ArgumentException("must be positive", nameof(SparseStages));
        if (SparseNms is < 0 or > 1) throw new ArgumentException("must be in [0, 1] (0 = none)", nameof(SparseNms));
        if (SparseOneToMany < 1) throw new ArgumentException("must be positive", nameof(SparseOneToMany));
        return this;
    }

    /// <summary>
    /// Builds the untrained network for <paramref name="numClasses"/> object classes. <paramref name="trainSizes"/> are
    /// the shortest edges the network draws from in training mode (the input's multi-scale sizes, ending with
    /// <see cref="MinSize"/>); null for a network that only runs at test time.
    /// </summary>
    public TorchSharp.torch.nn.Module BuildModel(int numClasses, int[]? trainSizes = null) => DetectorRegistry.Get(Arch).Build(this, numClasses, trainSizes);

    /// <summary>The shortest edges of the network's transform: the training sizes, or the test size alone.</summary>
    public int[] Sizes(int[]? trainSizes) => trainSizes ?? [MinSize];

    /// <summary>The RetinaNet this configuration describes (also what the ONNX backend post-processes with).</summary>
    public RetinaNetConfig ToRetinaNetConfig(int numClasses, int[]? trainSizes = null)
    {
        var body = ResNetConfig.FromName(Backbone) with { BaseWidth = BaseWidth, NumClasses = 0, Norm = FrozenBatchNorm ? NormKind.FrozenBatchNorm : NormKind.BatchNorm };
        return new RetinaNetConfig
        {
            NumClasses = numClasses,
            MinSize = Sizes(trainSizes),
            MaxSize = MaxSize,
            AnchorSizes = AnchorSizes,
            Backbone = new FpnBackboneConfig
            {
                Body = body, OutChannels = FpnChannels, TrainableLayers = TrainableLayers,
                ReturnedLayers = [2, 3, 4], Extra = FpnExtraBlock.LastLevelP6P7,
            },
        };
    }

    /// <summary>
    /// The model configuration in a model.json <c>config</c>: its <c>model</c> object, or, in a run directory written
    /// before the configuration was split (one flat object), the model's keys of it, the test size being the last of
    /// its <c>min_sizes</c>.
    /// </summary>
    /// <exception cref="InvalidDataException">An unknown key in the model object, or a value of the wrong type.</exception>
    public static DetectorModelConfig FromCardConfig(JsonElement config)
    {
        try
        {
            if (config.ValueKind == JsonValueKind.Object && config.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.Object)
                return ConfigBinder.ApplyJson(new DetectorModelConfig(), model);
            var flat = ConfigBinder.ApplyJson(new DetectorModelConfig(), config, ignoreUnknown: true);
            return config.TryGetProperty("min_sizes", out var sizes) && sizes.ValueKind == JsonValueKind.Array && sizes.GetArrayLength() > 0
                ? flat with { MinSize = sizes[sizes.GetArrayLength() - 1].GetInt32() }
                : flat;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
    }
}
