// RetinaNet (Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017) as torchvision 0.14's retinanet.py:
// ResNet-FPN P3-P7 backbone, 4-conv classification and regression heads shared across levels, sigmoid focal
// loss (alpha 0.25, gamma 2) over anchors not between IoU 0.4 and 0.5, L1 box loss on positives; at test time per
// level top 1000 candidates above 0.05, decode, clip, per-class NMS 0.5, 300 detections (RetinaNetPostProcess.cs).
// Labels start at 0.
using SpineXR.Vision.Detection.Ops;
using SpineXR.Vision.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SpineXR.Vision.Detection;

/// <summary>A RetinaNet architecture; defaults are torchvision's retinanet_resnet50_fpn.</summary>
public sealed record RetinaNetConfig
{
    public FpnBackboneConfig Backbone { get; init; } = new() { ReturnedLayers = [2, 3, 4], Extra = FpnExtraBlock.LastLevelP6P7 };

    /// <summary>Object classes (no background; COCO: 91).</summary>
    public int NumClasses { get; init; } = 91;

    public int[] MinSize { get; init; } = [800];
    public int MaxSize { get; init; } = 1333;

    /// <summary>Base anchor size per level P3..P7 (each with octave scales 2^0, 2^(1/3), 2^(2/3) and ratios 0.5, 1, 2).</summary>
    public double[] AnchorSizes { get; init; } = [32, 64, 128, 256, 512];

    public double ScoreThresh { get; init; } = 0.05;
    public double NmsThresh { get; init; } = 0.5;
    public int DetectionsPerImage { get; init; } = 300;
    public double FgIouThresh { get; init; } = 0.5;
    public double BgIouThresh { get; init; } = 0.4;
    public int TopkCandidates { get; init; } = 1000;

    public static RetinaNetConfig ResNet50Fpn(int numClasses = 91, bool pretrainedBackbone = false) => new()
    {
        NumClasses = numClasses,
        Backbone = new FpnBackboneConfig
        {
            Body = ResNetConfig.ResNet50 with { Norm = pretrainedBackbone ? NormKind.FrozenBatchNorm : NormKind.BatchNorm },
            ReturnedLayers = [2, 3, 4],
            Extra = FpnExtraBlock.LastLevelP6P7,
            TrainableLayers = pretrainedBackbone ? 3 : 5,
        },
    };

    internal void Validate()
    {
        if (NumClasses < 1) throw new ArgumentException("at least one class", nameof(NumClasses));
        if (Backbone.Extra != FpnExtraBlock.LastLevelP6P7 || Backbone.ReturnedLayers.Length != 3)
            throw new ArgumentException("RetinaNet needs P3-P5 from layers 2..4 plus P6/P7", nameof(Backbone));
        if (AnchorSizes.Length != 5) throw new ArgumentException("one anchor size per level (5)", nameof(AnchorSizes));
    }
}

/// <summary>Four 3x3 conv + ReLU blocks (conv.i.0, conv.i.1) then a 3x3 output conv; shared across levels.</summary>
public sealed class RetinaNetHeadBranch : Module<Tensor[], Tensor>
{
    private readonly Sequential conv;
    private readonly Conv2d? cls_logits, bbox_reg;
    private readonly long _perAnchor;

    public RetinaNetHeadBranch(long inChannels, long numAnchors, long perAnchor, bool classification, double priorProbability = 0.01) : base(classification ? "RetinaNetClassificationHead" : "RetinaNetRegressionHead")
    {
        _perAnchor = perAnchor;
        var blocks = new List<(string, Module<Tensor, Tensor>)>();
        var convs = new List<Conv2d>();
        for (int i = 0; i < 4; i++)
        {
            var c = Conv2d(inChannels, inChannels, 3, padding: 1);
            convs.Add(c);
            blocks.Add((i.ToString(System.Globalization.CultureInfo.InvariantCulture), Sequential(("0", (Module<Tensor, Tensor>)c), ("1", ReLU()))));
        }
        conv = Sequential(blocks);
        var output = Conv2d(inChannels, numAnchors * perAnchor, 3, padding: 1);
        using (no_grad())
        {
            foreach (var c in convs.Append(output))
            {
                init.normal_(c.weight, std: 0.01);
                init.zeros_(c.bias!);
            }
            if (classification) init.constant_(output.bias!, -Math.Log((1 - priorProbability) / priorProbability));
        }
        if (classification) cls_logits = output; else bbox_reg = output;
        RegisterComponents();
    }

    /// <summary>Per-level maps -> (N, sum HWA, perAnchor), anchors in generation order.</summary>
    public override Tensor forward(Tensor[] features)
    {
        using var scope = NewDisposeScope();
        var outs = new Tensor[features.Length];
        var output = (cls_logits ?? bbox_reg)!;
        for (int i = 0; i < features.Length; i++)
        {
            var y = output.call(conv.call(features[i]));
            long n = y.shape[0], h = y.shape[2], w = y.shape[3];
            // (N, A*K, H, W) -> (N, A, K, H, W) -> (N, H, W, A, K) -> (N, HWA, K)
            outs[i] = y.view(n, -1, _perAnchor, h, w).permute(0, 3, 4, 1, 2).reshape(n, -1, _perAnchor);
        }
        return cat(outs, 1).MoveToOuterDisposeScope();
    }
}

/// <summary>RetinaNet head: classification_head and regression_head.</summary>
public sealed class RetinaNetHead : Module<Tensor[], (Tensor ClsLogits, Tensor BboxRegression)>
{
    private readonly RetinaNetHeadBranch classification_head, regression_head;

    public RetinaNetHead(long inChannels, long numAnchors, long numClasses) : base(nameof(RetinaNetHead))
    {
        classification_head = new RetinaNetHeadBranch(inChannels, numAnchors, numClasses, classification: true);
        regression_head = new RetinaNetHeadBranch(inChannels, numAnchors, 4, classification: false);
        RegisterComponents();
    }

    public override (Tensor ClsLogits, Tensor BboxRegression) forward(Tensor[] features) =>
        (classification_head.call(features), regression_head.call(features));
}

/// <summary>RetinaNet: backbone (ResNet-FPN P3-P7) and head.</summary>
public sealed class RetinaNet : nn.Module, IObjectDetector
{
    private readonly BackboneWithFpn backbone;
    private readonly RetinaNetHead head;
    private readonly AnchorGenerator _anchors;
    private readonly RetinaNetPostProcess _post;
    private readonly BoxCoder _coder = new(1, 1, 1, 1);
    private readonly Matcher _matcher;
    private readonly GeneralizedRCNNTransform _transform;

    public RetinaNetConfig Config { get; }
    public int FirstClassLabel => 0;
    public int NumObjectClasses => Config.NumClasses;
    public GeneralizedRCNNTransform Transform => _transform;

    public RetinaNet(RetinaNetConfig config) : base(nameof(RetinaNet))
    {
        config.Validate();
        Config = config;
        backbone = new BackboneWithFpn(config.Backbone);
        _post = new RetinaNetPostProcess(config);
        _anchors = _post.Anchors;
        head = new RetinaNetHead(backbone.OutChannels, _anchors.NumAnchorsPerLocation()[0], config.NumClasses);
        _matcher = new Matcher(config.FgIouThresh, config.BgIouThresh, allowLowQualityMatches: true);
        _transform = new GeneralizedRCNNTransform(config.MinSize, config.MaxSize);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public Dictionary<string, Tensor> Losses(IReadOnlyList<Tensor> images, IReadOnlyList<DetectionTarget> targets, Random? rng = null)
    {
        if (images.Count != targets.Count) throw new ArgumentException("one target per image", nameof(targets));
        rng ??= Random.Shared;
        using var scope = NewDisposeScope();
        var (list, boxes) = _transform.ResizeForTraining(images, targets.Select(t => t.Boxes).ToList(), Config.MinSize, rng);
        var features = backbone.call(list.Tensors);
        var (clsLogits, bboxReg) = head.call(features);
        var anchors = _anchors.Generate(list.Tensors.shape[2], list.Tensors.shape[3], features.Select(f => (f.shape[2], f.shape[3])).ToArray());
        Tensor clsSum = zeros(1), regSum = zeros(1);
        for (int i = 0; i < images.Count; i++)
        {
            var gt = boxes[i];
            var labels = targets[i].Labels.to(ScalarType.Int64);
            var matched = gt.shape[0] == 0 ? full(anchors.shape[0], -1L, ScalarType.Int64) : _matcher.Match(TensorBoxOps.Iou(gt, anchors));
            var fg = (matched >= 0).nonzero().squeeze(1);
            double numFg = Math.Max(1, fg.numel());
            // classification: one-hot targets on foreground anchors, anchors between thresholds ignored
            var logits = clsLogits[i];
            var target = zeros_like(logits);
            if (fg.numel() > 0)
            {
                var fgLabels = labels.index_select(0, matched.index_select(0, fg));
                target.index_put_(ones(fg.numel()), fg, fgLabels);
            }
            var valid = (matched != Matcher.BetweenThresholds).nonzero().squeeze(1);
            clsSum = clsSum + SigmoidFocalLoss(logits.index_select(0, valid), target.index_select(0, valid)).sum() / numFg;
            if (fg.numel() > 0)
            {
                var matchedGt = gt.index_select(0, matched.index_select(0, fg));
                var regTarget = _coder.Encode(matchedGt, anchors.index_select(0, fg));
                regSum = regSum + functional.l1_loss(bboxReg[i].index_select(0, fg), regTarget, reduction: Reduction.Sum) / numFg;
            }
        }
        return new Dictionary<string, Tensor>
        {
            ["classification"] = (clsSum / images.Count).squeeze().MoveToOuterDisposeScope(),
            ["bbox_regression"] = (regSum / images.Count).squeeze().MoveToOuterDisposeScope(),
        };
    }

    /// <summary>torchvision.ops.sigmoid_focal_loss with alpha 0.25, gamma 2, no reduction.</summary>
    public static Tensor SigmoidFocalLoss(Tensor inputs, Tensor targets, double alpha = 0.25, double gamma = 2)
    {
        using var scope = NewDisposeScope();
        var p = sigmoid(inputs);
        var ce = functional.binary_cross_entropy_with_logits(inputs, targets, reduction: Reduction.None);
        var pt = p * targets + (1 - p) * (1 - targets);
        var loss = ce * (1 - pt).pow(gamma);
        var alphaT = alpha * targets + (1 - alpha) * (1 - targets);
        return (alphaT * loss).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public List<DetectionOutput> Detect(IReadOnlyList<Tensor> images)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var list = _transform.Forward(images);
        var features = backbone.call(list.Tensors);
        var (clsLogits, bboxReg) = head.call(features);
        return _post.Detect(clsLogits, bboxReg, list, features.Select(f => (f.shape[2], f.shape[3])).ToArray(),
            images.Select(im => (im.shape[1], im.shape[2])).ToArray()).Select(d => d.MoveToOuterDisposeScope()).ToList();
    }

    /// <summary>Heads' outputs (N, sum HWA, K) and (N, sum HWA, 4) for an already transformed batch: the network without post-processing (export checks, benchmarks).</summary>
    public (Tensor ClsLogits, Tensor BboxRegression) HeadOutputs(Tensor batch)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (c, r) = head.call(backbone.call(batch));
        return (c.MoveToOuterDisposeScope(), r.MoveToOuterDisposeScope());
    }

    /// <summary>The test-time post-processing this model applies to its heads' outputs (shared with the ONNX backend).</summary>
    public RetinaNetPostProcess PostProcess => _post;
}
