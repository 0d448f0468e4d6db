// Sparse R-CNN (Sun et al., "Sparse R-CNN: End-to-End Object Detection with Learnable Proposals", CVPR 2021),
// following the official projects/SparseRCNN/sparsercnn/detector.py: transform -> backbone (ResNet-FPN, P2-P5)
// -> learned proposal boxes (normalised cxcywh, scaled to each image) and proposal features -> DynamicHead
// stages -> set loss (training) or top-k over proposals x classes (inference). No NMS, anchors or RPN.
// Field names give the official keys: init_proposal_features.weight, init_proposal_boxes.weight,
// head.head_series.N...; the backbone uses torchvision names (backbone.body..., backbone.fpn...), see
// SparseRcnnWeights for the detectron2 mapping.
using SpineXR.Vision.Detection.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection;

/// <summary>Sparse R-CNN: backbone, init_proposal_features, init_proposal_boxes, head. Labels are 0-based object classes (no background).</summary>
public sealed class SparseRcnn : nn.Module, IObjectDetector
{
    private readonly BackboneWithFpn backbone;
    private readonly Embedding init_proposal_features;
    private readonly Embedding init_proposal_boxes;
    private readonly DynamicHead head;
    private readonly GeneralizedRCNNTransform _transform;
    private readonly SparseRcnnCriterion _criterion;

    public SparseRcnnConfig Config { get; }
    public int FirstClassLabel => 0;
    public int NumObjectClasses => Config.NumClasses;
    public GeneralizedRCNNTransform Transform => _transform;
    public BackboneWithFpn Backbone => backbone;
    public SparseRcnnCriterion Criterion => _criterion;

    public SparseRcnn(SparseRcnnConfig config) : base(nameof(SparseRcnn))
    {
        config.Validate();
        Config = config;
        backbone = new BackboneWithFpn(config.Backbone);
        init_proposal_features = nn.Embedding(config.NumProposals, config.HiddenDim);
        init_proposal_boxes = nn.Embedding(config.NumProposals, 4);
        using (no_grad())
        using (var start = InitialProposals(config.NumProposals, config.ProposalInit))
            init_proposal_boxes.weight!.copy_(start);
        head = new DynamicHead(config, Pool);
        _transform = new GeneralizedRCNNTransform(config.MinSize, config.MaxSize);
        _criterion = new SparseRcnnCriterion(config);
        RegisterComponents();
    }

    /// <summary>
    /// The starting proposal boxes (Q, 4), normalised cxcywh: the whole image (0.5, 0.5, 1, 1) for every proposal, or
    /// a grid of ceil(sqrt(Q)) columns filled row by row, each box twice its cell's size (clipped to the image) so a
    /// lesion on a cell border still overlaps one proposal well.
    /// </summary>
    public static Tensor InitialProposals(int count, ProposalInit init)
    {
        var values = new float[count * 4];
        int cols = (int)Math.Ceiling(Math.Sqrt(count));
        int rows = (count + cols - 1) / cols;
        for (int i = 0; i < count; i++)
        {
            if (init == ProposalInit.Image)
            {
                values[4 * i] = values[4 * i + 1] = 0.5f;
                values[4 * i + 2] = values[4 * i + 3] = 1f;
                continue;
            }
            double cx = (i % cols + 0.5) / cols, cy = (i / cols + 0.5) / rows;
            double w = 2.0 / cols, h = 2.0 / rows;
            double x0 = Math.Max(0, cx - w / 2), x1 = Math.Min(1, cx + w / 2);
            double y0 = Math.Max(0, cy - h / 2), y1 = Math.Min(1, cy + h / 2);
            values[4 * i] = (float)((x0 + x1) / 2);
            values[4 * i + 1] = (float)((y0 + y1) / 2);
            values[4 * i + 2] = (float)(x1 - x0);
            values[4 * i + 3] = (float)(y1 - y0);
        }
        return tensor(values).reshape(count, 4);
    }

    /// <inheritdoc/>
    public Dictionary<string, Tensor> Losses(IReadOnlyList<Tensor> images, IReadOnlyList<DetectionTarget> targets, Random? rng = null)
    {
        if (images.Count != targets.Count) throw new ArgumentException("one target per image", nameof(targets));
        rng ??= Random.Shared;
        using var scope = NewDisposeScope();
        var (list, boxes) = _transform.ResizeForTraining(images, targets.Select(t => t.Boxes).ToList(), Config.MinSize, rng);
        var (logits, predBoxes, whwh) = Forward(list);
        var setTargets = targets.Select((t, i) => new SetTarget(boxes[i].to(float32), t.Labels.to(int64), whwh[i])).ToArray();
        var losses = _criterion.Forward(logits, predBoxes, setTargets);
        foreach (var t in losses.Values) t.MoveToOuterDisposeScope();
        return losses;
    }

    /// <inheritdoc/>
    public List<DetectionOutput> Detect(IReadOnlyList<Tensor> images)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var list = _transform.Forward(images);
        var (logits, boxes, _) = Forward(list);
        var result = new List<DetectionOutput>();
        for (int i = 0; i < images.Count; i++)
        {
            var (b, s, l) = Postprocess(Config, logits[-1][i], boxes[-1][i], list.ImageSizes[i], (images[i].shape[^2], images[i].shape[^1]));
            result.Add(new DetectionOutput(b.MoveToOuterDisposeScope(), s.MoveToOuterDisposeScope(), l.MoveToOuterDisposeScope()));
        }
        return result;
    }

    /// <summary>
    /// The network on a transformed batch: logits (S, N, Q, C), boxes (S, N, Q, 4) xyxy in resized-image pixels for
    /// every stage S, and each image's (W, H, W, H) before padding, (N, 4).
    /// </summary>
    public (Tensor Logits, Tensor Boxes, Tensor ImageWhwh) Forward(ImageList list)
    {
        using var scope = NewDisposeScope();
        var features = backbone.call(list.Tensors).Take(4).ToArray(); // P2..P5
        var whwh = ImageWhwh(list).to(list.Tensors.device);
        // (Q, 4) normalised cxcywh -> (1, Q, 4) xyxy -> (N, Q, 4) pixels
        var proposals = BoxFormat.CxcywhToXyxy(init_proposal_boxes.weight!).unsqueeze(0) * whwh.unsqueeze(1);
        var (logits, boxes) = head.call(features, proposals, init_proposal_features.weight!);
        return (logits.MoveToOuterDisposeScope(), boxes.MoveToOuterDisposeScope(), whwh.MoveToOuterDisposeScope());
    }

    /// <summary>Each image's (W, H, W, H) after resizing and before padding, (N, 4) float32: what the learned proposals are fractions of.</summary>
    public static Tensor ImageWhwh(ImageList list) =>
        tensor(list.ImageSizes.SelectMany(s => new float[] { s.W, s.H, s.W, s.H }).ToArray()).reshape(-1, 4);

    /// <summary>
    /// Official inference for one image: sigmoid scores, the top DetectionsPerImage of Q x C (proposal, class) pairs,
    /// optional class-wise NMS, boxes scaled from the resized to the original size, clipped, empty ones dropped,
    /// sorted by decreasing score. The ONNX Runtime backend runs it on the exported graph's outputs.
    /// </summary>
    internal static (Tensor Boxes, Tensor Scores, Tensor Labels) Postprocess(SparseRcnnConfig config, Tensor logits, Tensor boxes, (long H, long W) resized, (long H, long W) original)
    {
        using var scope = NewDisposeScope();
        long q = logits.shape[0], c = logits.shape[1];
        var scores = logits.sigmoid().flatten(); // (Q*C), index = proposal * C + class
        var (top, idx) = scores.topk((int)Math.Min(config.DetectionsPerImage, q * c));
        var labels = idx.remainder(c);
        var b = boxes.index_select(0, idx.div(c, rounding_mode: RoundingMode.floor));
        b = GeneralizedRCNNTransform.ResizeBoxes(b, resized, original);
        b = TensorBoxOps.ClipToImage(b, original.H, original.W);
        var keep = ((b.select(1, 2) > b.select(1, 0)) & (b.select(1, 3) > b.select(1, 1))).nonzero().squeeze(1);
        b = b.index_select(0, keep);
        top = top.index_select(0, keep);
        labels = labels.index_select(0, keep);
        if (config.NmsThreshold is double thr)
        {
            var k = TensorNms.Batched(b, top, labels, thr);
            b = b.index_select(0, k);
            top = top.index_select(0, k);
            labels = labels.index_select(0, k);
        }
        return (b.MoveToOuterDisposeScope(), top.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    // The official ROIPooler with ROIAlignV2: RoIAlign with aligned=True on P2..P5 (strides 4..32), each box on
    // level floor(4 + log2(sqrt(area) / 224 + 1e-8)) clamped to 2..5 (detectron2's assign_boxes_to_levels).
    private Tensor Pool(IReadOnlyList<Tensor> features, Tensor boxes)
    {
        using var scope = NewDisposeScope();
        long n = boxes.shape[0], q = boxes.shape[1];
        int r = Config.PoolerResolution;
        var flat = boxes.reshape(n * q, 4);
        var batchIdx = arange(n, dtype: flat.dtype, device: flat.device).repeat_interleave(q).unsqueeze(1);
        var rois = cat([batchIdx, flat], 1); // (N*Q, 5)
        var area = ((flat.select(1, 2) - flat.select(1, 0)) * (flat.select(1, 3) - flat.select(1, 1))).clamp_min(0);
        var level = floor(4 + log2(sqrt(area) / 224 + 1e-8)).clamp(2, 1 + features.Count).to(int64) - 2;
        long channels = features[0].shape[1];
        var output = zeros([n * q, channels, r, r], features[0].dtype, features[0].device);
        for (int l = 0; l < features.Count; l++)
        {
            var idx = (level == l).nonzero().squeeze(1);
            if (idx.numel() == 0) continue;
            double scale = 1.0 / (1 << (l + 2));
            var pooled = RoIAlign.Forward(features[l], rois.index_select(0, idx), r, r, scale, Config.SamplingRatio, aligned: true);
            output = output.index_copy(0, idx, pooled);
        }
        return output.MoveToOuterDisposeScope();
    }
}
