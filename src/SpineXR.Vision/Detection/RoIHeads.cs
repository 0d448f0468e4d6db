// Fast R-CNN box branch of torchvision 0.14's roi_heads.py: proposals (+ gt boxes in training) sampled
// 512 per image with 25% positives, MultiScaleRoIAlign 7x7, TwoMLPHead (fc6, fc7), FastRCNNPredictor
// (cls_score, bbox_pred per class), cross-entropy + smooth-L1 (beta 1/9) losses; at test time per-class
// decoding, score > 0.05, boxes >= 0.01 px, per-class NMS 0.5, 100 detections (RoIHeadsPostProcess, which the ONNX
// Runtime backend runs too).
using SpineXR.Vision.Detection.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SpineXR.Vision.Detection;

/// <summary>Box-branch thresholds; torchvision's defaults.</summary>
public sealed record RoIHeadsConfig
{
    public double FgIouThresh { get; init; } = 0.5;
    public double BgIouThresh { get; init; } = 0.5;
    public int BatchSizePerImage { get; init; } = 512;
    public double PositiveFraction { get; init; } = 0.25;
    public double ScoreThresh { get; init; } = 0.05;
    public double NmsThresh { get; init; } = 0.5;
    public int DetectionsPerImage { get; init; } = 100;

    /// <summary>Hidden width of TwoMLPHead.</summary>
    public int RepresentationSize { get; init; } = 1024;
}

/// <summary>Two fully connected layers on flattened RoI features (fc6, fc7).</summary>
public sealed class TwoMLPHead : Module<Tensor, Tensor>
{
    private readonly Linear fc6, fc7;

    public TwoMLPHead(long inChannels, long representationSize) : base(nameof(TwoMLPHead))
    {
        fc6 = Linear(inChannels, representationSize);
        fc7 = Linear(representationSize, representationSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        // (K, C, 7, 7) -> (K, C*49)
        var y = functional.relu(fc6.call(x.flatten(1)));
        return functional.relu(fc7.call(y)).MoveToOuterDisposeScope();
    }
}

/// <summary>Class scores (cls_score) and class-specific box deltas (bbox_pred).</summary>
public sealed class FastRCNNPredictor : Module<Tensor, (Tensor Logits, Tensor Deltas)>
{
    private readonly Linear cls_score, bbox_pred;

    public FastRCNNPredictor(long inChannels, long numClasses) : base(nameof(FastRCNNPredictor))
    {
        cls_score = Linear(inChannels, numClasses);
        bbox_pred = Linear(inChannels, numClasses * 4);
        RegisterComponents();
    }

    public override (Tensor Logits, Tensor Deltas) forward(Tensor x) => (cls_score.call(x), bbox_pred.call(x));
}

/// <summary>The box branch: box_head and box_predictor modules, RoI pooling and target logic as plain objects.</summary>
public sealed class RoIHeads : Module
{
    private readonly TwoMLPHead box_head;
    private readonly FastRCNNPredictor box_predictor;
    private readonly MultiScaleRoIAlign _pool;
    private readonly RoIHeadsPostProcess _post;
    private readonly BoxCoder _coder = new(10, 10, 5, 5);
    private readonly Matcher _matcher;
    private readonly BalancedPositiveNegativeSampler _sampler;

    public RoIHeadsConfig Config { get; }
    public long NumClasses { get; }

    public RoIHeads(long featureChannels, long numClasses, MultiScaleRoIAlign pool, RoIHeadsConfig config) : base(nameof(RoIHeads))
    {
        Config = config;
        NumClasses = numClasses;
        _pool = pool;
        _post = new RoIHeadsPostProcess(config);
        box_head = new TwoMLPHead(featureChannels * pool.OutputSize * pool.OutputSize, config.RepresentationSize);
        box_predictor = new FastRCNNPredictor(config.RepresentationSize, numClasses);
        _matcher = new Matcher(config.FgIouThresh, config.BgIouThresh, allowLowQualityMatches: false);
        _sampler = new BalancedPositiveNegativeSampler(config.BatchSizePerImage, config.PositiveFraction);
        RegisterComponents();
    }

    /// <summary>
    /// box_head and box_predictor on pooled RoI features (K, C, 7, 7): class logits (K, classes) and per-class deltas
    /// (K, classes*4); what the ONNX box-head graph outputs.
    /// </summary>
    public (Tensor ClassLogits, Tensor BoxRegression) HeadOutputs(Tensor boxFeatures) => box_predictor.call(box_head.call(boxFeatures));

    /// <summary>Training: named losses; evaluation: detections in resized-image pixels.</summary>
    public (List<DetectionOutput> Detections, Dictionary<string, Tensor> Losses) Forward(
        Tensor[] features, Tensor[] proposals, IReadOnlyList<(long H, long W)> imageSizes, IReadOnlyList<DetectionTarget>? targets, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        Tensor[]? labels = null, regressionTargets = null;
        if (targets is not null) (proposals, labels, regressionTargets) = SelectTrainingSamples(proposals, targets, generator);
        var boxFeatures = _pool.Forward(features, proposals, imageSizes);
        var (classLogits, boxRegression) = HeadOutputs(boxFeatures);
        var losses = new Dictionary<string, Tensor>();
        var detections = new List<DetectionOutput>();
        if (targets is not null)
        {
            var (lc, lb) = FastRcnnLoss(classLogits, boxRegression, labels!, regressionTargets!);
            losses["loss_classifier"] = lc.MoveToOuterDisposeScope();
            losses["loss_box_reg"] = lb.MoveToOuterDisposeScope();
        }
        else
        {
            foreach (var d in _post.Detect(classLogits, boxRegression, proposals, imageSizes))
            {
                d.Boxes.MoveToOuterDisposeScope(); d.Scores.MoveToOuterDisposeScope(); d.Labels.MoveToOuterDisposeScope();
                detections.Add(d);
            }
        }
        return (detections, losses);
    }

    private (Tensor[] Proposals, Tensor[] Labels, Tensor[] RegressionTargets) SelectTrainingSamples(Tensor[] proposals, IReadOnlyList<DetectionTarget> targets, Generator? generator)
    {
        int n = proposals.Length;
        // gt boxes join the proposals so every object has at least one positive
        var props = proposals.Select((p, i) => cat([p, targets[i].Boxes.to(p.dtype)], 0)).ToArray();
        var labels = new Tensor[n];
        var matchedIdx = new Tensor[n];
        for (int i = 0; i < n; i++)
        {
            var gt = targets[i].Boxes;
            if (gt.shape[0] == 0)
            {
                matchedIdx[i] = zeros(props[i].shape[0], ScalarType.Int64);
                labels[i] = zeros(props[i].shape[0], ScalarType.Int64);
                continue;
            }
            var m = _matcher.Match(TensorBoxOps.Iou(gt, props[i]));
            var clamped = m.clamp_min(0);
            var l = targets[i].Labels.to(ScalarType.Int64).index_select(0, clamped);
            l = l.masked_fill(m == Matcher.BelowLowThreshold, 0).masked_fill(m == Matcher.BetweenThresholds, -1);
            matchedIdx[i] = clamped;
            labels[i] = l;
        }
        var (pos, neg) = _sampler.Sample(labels, generator);
        var regTargets = new Tensor[n];
        for (int i = 0; i < n; i++)
        {
            var inds = pos[i].logical_or(neg[i]).nonzero().squeeze(1);
            props[i] = props[i].index_select(0, inds);
            labels[i] = labels[i].index_select(0, inds);
            var gt = targets[i].Boxes.shape[0] == 0 ? zeros(1, 4, props[i].dtype) : targets[i].Boxes.to(props[i].dtype);
            var matchedGt = gt.index_select(0, matchedIdx[i].index_select(0, inds));
            regTargets[i] = _coder.Encode(matchedGt, props[i]);
        }
        return (props, labels, regTargets);
    }

    private static (Tensor Classification, Tensor BoxReg) FastRcnnLoss(Tensor classLogits, Tensor boxRegression, Tensor[] labels, Tensor[] regressionTargets)
    {
        var l = cat(labels, 0);
        var reg = cat(regressionTargets, 0);
        var clsLoss = functional.cross_entropy(classLogits, l);
        var pos = (l > 0).nonzero().squeeze(1);
        var labelsPos = l.index_select(0, pos);
        long k = classLogits.shape[0];
        // (K, C*4) -> (K, C, 4), then the predicted deltas of each positive's own class
        var br = boxRegression.reshape(k, -1, 4);
        var chosen = br.index_select(0, pos).gather(1, labelsPos.view(-1, 1, 1).expand(-1, 1, 4)).squeeze(1);
        var boxLoss = functional.smooth_l1_loss(chosen, reg.index_select(0, pos), reduction: Reduction.Sum, beta: 1.0 / 9) / l.numel();
        return (clsLoss, boxLoss);
    }
}

/// <summary>
/// The box branch's test-time post-processing (torchvision's postprocess_detections): per-class decoding against the
/// proposals, clipping, score threshold, small-box removal, per-class NMS, detections per image. A plain object shared
/// by <see cref="RoIHeads"/> and the ONNX Runtime backend, whose box-head graph ends at the predictor (docs/onnx.md).
/// </summary>
public sealed class RoIHeadsPostProcess
{
    private readonly BoxCoder _coder = new(10, 10, 5, 5);

    public RoIHeadsConfig Config { get; }

    public RoIHeadsPostProcess(RoIHeadsConfig config) => Config = config;

    /// <summary>
    /// Detections per image in resized-image pixels, by decreasing score (labels from 1). <paramref name="classLogits"/>
    /// (sum K_i, C) and <paramref name="boxRegression"/> (sum K_i, C*4) are the predictor's outputs on the proposals of
    /// every image in turn (<paramref name="proposals"/>, (K_i, 4) each). The detections belong to the caller's dispose scope.
    /// </summary>
    public List<DetectionOutput> Detect(Tensor classLogits, Tensor boxRegression, Tensor[] proposals, IReadOnlyList<(long H, long W)> imageSizes)
    {
        long numClasses = classLogits.shape[1];
        var predBoxes = _coder.Decode(boxRegression, proposals); // (K, C, 4)
        var predScores = functional.softmax(classLogits, -1);
        var result = new List<DetectionOutput>();
        long offset = 0;
        for (int i = 0; i < proposals.Length; i++)
        {
            long cnt = proposals[i].shape[0];
            var boxes = TensorBoxOps.ClipToImage(predBoxes.narrow(0, offset, cnt), imageSizes[i].H, imageSizes[i].W);
            var scores = predScores.narrow(0, offset, cnt);
            offset += cnt;
            var labels = arange(numClasses, ScalarType.Int64).view(1, -1).expand_as(scores);
            // drop background column 0: (K, C-1, 4) -> (K*(C-1), 4)
            boxes = boxes.narrow(1, 1, numClasses - 1).reshape(-1, 4);
            scores = scores.narrow(1, 1, numClasses - 1).reshape(-1);
            labels = labels.narrow(1, 1, numClasses - 1).reshape(-1);
            var keep = (scores > Config.ScoreThresh).nonzero().squeeze(1);
            boxes = boxes.index_select(0, keep); scores = scores.index_select(0, keep); labels = labels.index_select(0, keep);
            keep = TensorBoxOps.RemoveSmall(boxes, 1e-2);
            boxes = boxes.index_select(0, keep); scores = scores.index_select(0, keep); labels = labels.index_select(0, keep);
            keep = TensorNms.Batched(boxes, scores, labels, Config.NmsThresh);
            keep = keep.narrow(0, 0, Math.Min(Config.DetectionsPerImage, keep.shape[0]));
            result.Add(new DetectionOutput(boxes.index_select(0, keep), scores.index_select(0, keep), labels.index_select(0, keep)));
        }
        return result;
    }
}
