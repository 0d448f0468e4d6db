// Faster R-CNN with a ResNet-FPN backbone (Ren et al., NeurIPS 2015; Lin et al., CVPR 2017) as torchvision 0.14's
// faster_rcnn.py: transform -> backbone -> rpn -> roi_heads -> postprocess. Attribute names (backbone, rpn,
// roi_heads) are the checkpoint keys of fasterrcnn_resnet50_fpn. Labels: 0 is background, objects from 1. The test-time
// steps between and after the networks (anchors, RpnProposals, MultiScaleRoIAlign, RoIHeadsPostProcess, the boxes
// mapped back) are plain objects the ONNX Runtime backend runs too (Onnx/OnnxFasterRCNN.cs, docs/onnx.md).
using SpineXR.Vision.Detection.Ops;
using SpineXR.Vision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection;

/// <summary>A Faster R-CNN architecture and its thresholds; defaults are torchvision's fasterrcnn_resnet50_fpn.</summary>
public sealed record FasterRcnnConfig
{
    public FpnBackboneConfig Backbone { get; init; } = new();

    /// <summary>Classes including background (COCO: 91).</summary>
    public int NumClasses { get; init; } = 91;

    /// <summary>Shortest-edge sizes (training picks one at random per image; evaluation uses the last).</summary>
    public int[] MinSize { get; init; } = [800];

    public int MaxSize { get; init; } = 1333;

    /// <summary>Anchor size per pyramid level (aspect ratios 0.5, 1, 2).</summary>
    public double[] AnchorSizes { get; init; } = [32, 64, 128, 256, 512];

    public RpnConfig Rpn { get; init; } = new();
    public RoIHeadsConfig RoIHeads { get; init; } = new();

    /// <summary>torchvision's fasterrcnn_resnet50_fpn: frozen BN and 3 trainable stages when pretrained, plain BN and all 5 otherwise.</summary>
    public static FasterRcnnConfig ResNet50Fpn(int numClasses = 91, bool pretrainedBackbone = false) => new()
    {
        NumClasses = numClasses,
        Backbone = new FpnBackboneConfig
        {
            Body = ResNetConfig.ResNet50 with { Norm = pretrainedBackbone ? NormKind.FrozenBatchNorm : NormKind.BatchNorm },
            TrainableLayers = pretrainedBackbone ? 3 : 5,
        },
    };

    internal void Validate()
    {
        if (NumClasses < 2) throw new ArgumentException("at least background and one class", nameof(NumClasses));
        if (AnchorSizes.Length != 5) throw new ArgumentException("one anchor size per pyramid level (5)", nameof(AnchorSizes));
    }
}

/// <summary>Faster R-CNN: backbone (ResNet-FPN), rpn, roi_heads.</summary>
public sealed class FasterRCNN : nn.Module, IObjectDetector
{
    private readonly BackboneWithFpn backbone;
    private readonly RegionProposalNetwork rpn;
    private readonly RoIHeads roi_heads;
    private readonly GeneralizedRCNNTransform _transform;

    public FasterRcnnConfig Config { get; }
    public int FirstClassLabel => 1;
    public int NumObjectClasses => Config.NumClasses - 1;
    public GeneralizedRCNNTransform Transform => _transform;
    public BackboneWithFpn Backbone => backbone;

    public FasterRCNN(FasterRcnnConfig config) : base(nameof(FasterRCNN))
    {
        config.Validate();
        Config = config;
        backbone = new BackboneWithFpn(config.Backbone);
        rpn = new RegionProposalNetwork(backbone.OutChannels, CreateAnchors(config), config.Rpn);
        roi_heads = new RoIHeads(backbone.OutChannels, config.NumClasses, CreateBoxRoIPool(), config.RoIHeads);
        _transform = new GeneralizedRCNNTransform(config.MinSize, config.MaxSize);
        RegisterComponents();
    }

    /// <summary>The RPN's anchors: one size per pyramid level (P2..P6), aspect ratios 0.5, 1, 2.</summary>
    public static AnchorGenerator CreateAnchors(FasterRcnnConfig config) =>
        new(config.AnchorSizes.Select(s => new[] { s }).ToArray(), Enumerable.Repeat(new[] { 0.5, 1.0, 2.0 }, 5).ToArray());

    /// <summary>torchvision's box_roi_pool: P2..P5, 7 x 7 outputs, sampling ratio 2.</summary>
    public static MultiScaleRoIAlign CreateBoxRoIPool() => new(4, 7, 2);

    /// <inheritdoc/>
    public Dictionary<string, Tensor> Losses(IReadOnlyList<Tensor> images, IReadOnlyList<DetectionTarget> targets, Random? rng = null)
    {
        if (images.Count != targets.Count) throw new ArgumentException("one target per image", nameof(targets));
        rng ??= Random.Shared;
        using var scope = NewDisposeScope();
        var (list, boxes) = _transform.ResizeForTraining(images, targets.Select(t => t.Boxes).ToList(), Config.MinSize, rng);
        var resizedTargets = boxes.Select((b, i) => new DetectionTarget(b, targets[i].Labels)).ToArray();
        // the samplers draw from a generator seeded by rng, so a seeded training step is reproducible
        using var generator = new Generator((ulong)rng.NextInt64());
        var features = backbone.call(list.Tensors);
        var (proposals, rpnLosses) = rpn.Forward(list, features, resizedTargets, generator);
        var (_, detLosses) = roi_heads.Forward(features.Take(4).ToArray(), proposals, list.ImageSizes, resizedTargets, generator);
        var losses = new Dictionary<string, Tensor>();
        foreach (var kv in detLosses.Concat(rpnLosses)) losses[kv.Key] = kv.Value.MoveToOuterDisposeScope();
        return losses;
    }

    /// <inheritdoc/>
    public List<DetectionOutput> Detect(IReadOnlyList<Tensor> images) => Detect(images, null).Detections;

    /// <summary>
    /// Detections and the RPN's proposals (resized-image pixels); with <paramref name="givenProposals"/> the RoI heads
    /// run on those instead, so each stage can be compared with torchvision's on its own.
    /// </summary>
    internal (List<DetectionOutput> Detections, Tensor[] Proposals) Detect(IReadOnlyList<Tensor> images, Tensor[]? givenProposals)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var list = _transform.Forward(images);
        var features = backbone.call(list.Tensors);
        var (proposals, _) = rpn.Forward(list, features, null);
        var (dets, _) = roi_heads.Forward(features.Take(4).ToArray(), givenProposals ?? proposals, list.ImageSizes, null);
        var result = ToOriginalSizes(dets, list, images).Select(d => d.MoveToOuterDisposeScope()).ToList();
        foreach (var p in proposals) p.MoveToOuterDisposeScope();
        return (result, proposals);
    }

    /// <summary>Detections in resized-image pixels mapped back to each original image (tensors in the caller's scope).</summary>
    public static List<DetectionOutput> ToOriginalSizes(IReadOnlyList<DetectionOutput> dets, ImageList list, IReadOnlyList<Tensor> images) =>
        dets.Select((d, i) => new DetectionOutput(
            GeneralizedRCNNTransform.ResizeBoxes(d.Boxes, list.ImageSizes[i], (images[i].shape[1], images[i].shape[2])), d.Scores, d.Labels)).ToList();

    /// <summary>
    /// The first network on an already transformed batch (export checks, benchmarks): the RPN head's objectness
    /// (N, sum HWA) and deltas (N, sum HWA, 4) over P2..P6, and the pyramid maps P2..P5 the RoI pooling reads.
    /// </summary>
    public (Tensor Objectness, Tensor Deltas, Tensor[] Features) NetworkOutputs(Tensor batch)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var features = backbone.call(batch);
        var (objectness, deltas) = rpn.HeadOutputs(features);
        var pooled = features.Take(4).Select(f => f.MoveToOuterDisposeScope()).ToArray();
        return (objectness.MoveToOuterDisposeScope(), deltas.MoveToOuterDisposeScope(), pooled);
    }

    /// <summary>The second network on pooled RoI features (K, C, 7, 7): class logits (K, classes) and deltas (K, classes*4).</summary>
    public (Tensor ClassLogits, Tensor BoxRegression) BoxHeadOutputs(Tensor boxFeatures)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (c, r) = roi_heads.HeadOutputs(boxFeatures);
        return (c.MoveToOuterDisposeScope(), r.MoveToOuterDisposeScope());
    }
}
