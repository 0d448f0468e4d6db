// Region Proposal Network (Ren et al., Faster R-CNN, NeurIPS 2015) as torchvision 0.14's rpn.py:
// a shared 3x3 conv + ReLU, per-anchor objectness and box deltas, top-n per level before NMS, clipping,
// small-box removal, per-level NMS (RpnProposals, which the ONNX Runtime backend runs too), and the sampled BCE +
// smooth-L1 (beta 1/9) training losses.
using SpineXR.Vision.Detection.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SpineXR.Vision.Detection;

/// <summary>RPN thresholds and sizes; torchvision's defaults.</summary>
public sealed record RpnConfig
{
    public int PreNmsTopNTrain { get; init; } = 2000;
    public int PreNmsTopNTest { get; init; } = 1000;
    public int PostNmsTopNTrain { get; init; } = 2000;
    public int PostNmsTopNTest { get; init; } = 1000;
    public double NmsThresh { get; init; } = 0.7;
    public double FgIouThresh { get; init; } = 0.7;
    public double BgIouThresh { get; init; } = 0.3;
    public int BatchSizePerImage { get; init; } = 256;
    public double PositiveFraction { get; init; } = 0.5;
    public double ScoreThresh { get; init; } = 0.0;
}

/// <summary>RPN head: conv (conv.0.0 + ReLU), cls_logits (A per cell), bbox_pred (4A per cell).</summary>
public sealed class RPNHead : Module<Tensor[], (Tensor[] Logits, Tensor[] Deltas)>
{
    private readonly Sequential conv;
    private readonly Conv2d cls_logits, bbox_pred;

    public RPNHead(long inChannels, long numAnchors) : base(nameof(RPNHead))
    {
        var c = Conv2d(inChannels, inChannels, 3, padding: 1);
        conv = Sequential(("0", (Module<Tensor, Tensor>)Sequential(("0", (Module<Tensor, Tensor>)c), ("1", ReLU()))));
        cls_logits = Conv2d(inChannels, numAnchors, 1);
        bbox_pred = Conv2d(inChannels, numAnchors * 4, 1);
        using (no_grad())
        {
            foreach (var l in new[] { c, cls_logits, bbox_pred })
            {
                init.normal_(l.weight, std: 0.01);
                init.zeros_(l.bias!);
            }
        }
        RegisterComponents();
    }

    public override (Tensor[] Logits, Tensor[] Deltas) forward(Tensor[] features)
    {
        var logits = new Tensor[features.Length];
        var deltas = new Tensor[features.Length];
        for (int i = 0; i < features.Length; i++)
        {
            using var t = conv.call(features[i]);
            logits[i] = cls_logits.call(t);
            deltas[i] = bbox_pred.call(t);
        }
        return (logits, deltas);
    }
}

/// <summary>The RPN: head (module), anchors, proposal selection, coder, matcher and sampler (plain objects).</summary>
public sealed class RegionProposalNetwork : Module
{
    private readonly RPNHead head;
    private readonly AnchorGenerator _anchors;
    private readonly RpnProposals _proposals;
    private readonly BoxCoder _coder = new(1, 1, 1, 1);
    private readonly Matcher _matcher;
    private readonly BalancedPositiveNegativeSampler _sampler;

    public RpnConfig Config { get; }

    public RegionProposalNetwork(long inChannels, AnchorGenerator anchors, RpnConfig config) : base(nameof(RegionProposalNetwork))
    {
        Config = config;
        _anchors = anchors;
        _proposals = new RpnProposals(config);
        int a = anchors.NumAnchorsPerLocation()[0];
        head = new RPNHead(inChannels, a);
        _matcher = new Matcher(config.FgIouThresh, config.BgIouThresh, allowLowQualityMatches: true);
        _sampler = new BalancedPositiveNegativeSampler(config.BatchSizePerImage, config.PositiveFraction);
        RegisterComponents();
    }

    /// <summary>(N, A*C, H, W) -> (N, H*W*A, C): the order anchors are generated in.</summary>
    internal static Tensor PermuteAndFlatten(Tensor layer, long n, long c, long h, long w) =>
        layer.view(n, -1, c, h, w).permute(0, 3, 4, 1, 2).reshape(n, -1, c);

    /// <summary>
    /// The head on every level, flattened in the anchors' generation order: objectness (N, sum HWA) before the sigmoid
    /// and deltas (N, sum HWA, 4); what the ONNX graph outputs as rpn_objectness and rpn_deltas.
    /// </summary>
    public (Tensor Objectness, Tensor Deltas) HeadOutputs(Tensor[] features)
    {
        using var scope = NewDisposeScope();
        var (logits, deltas) = head.call(features);
        long n = features[0].shape[0];
        // per level (N, A, H, W) -> (N, HWA, 1), concatenated -> (N, sum HWA); deltas (N, 4A, H, W) -> (N, sum HWA, 4)
        var objectness = cat(logits.Select(o => PermuteAndFlatten(o, n, 1, o.shape[2], o.shape[3])).ToArray(), 1).squeeze(2);
        var predDeltas = cat(deltas.Select(d => PermuteAndFlatten(d, n, 4, d.shape[2], d.shape[3])).ToArray(), 1);
        return (objectness.MoveToOuterDisposeScope(), predDeltas.MoveToOuterDisposeScope());
    }

    /// <summary>Proposals per image (K_i, 4) in resized-image pixels; losses when targets are given (training).</summary>
    public (Tensor[] Proposals, Dictionary<string, Tensor> Losses) Forward(ImageList images, Tensor[] features, IReadOnlyList<DetectionTarget>? targets, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var (objectness, predDeltas) = HeadOutputs(features);
        var levelSizes = features.Select(f => (f.shape[2], f.shape[3])).ToArray();
        var anchors = _anchors.Generate(images.Tensors.shape[2], images.Tensors.shape[3], levelSizes);
        var boxes = _proposals.Select(objectness.detach(), predDeltas.detach(), anchors, images.ImageSizes, levelSizes, training);
        var losses = new Dictionary<string, Tensor>();
        if (targets is not null)
        {
            var (labels, matchedGt) = AssignTargets(anchors, targets);
            var regressionTargets = matchedGt.Select(g => _coder.Encode(g, anchors)).ToArray();
            var (lObj, lBox) = ComputeLoss(objectness, predDeltas.reshape(-1, 4), labels, regressionTargets, generator);
            losses["loss_objectness"] = lObj.MoveToOuterDisposeScope();
            losses["loss_rpn_box_reg"] = lBox.MoveToOuterDisposeScope();
        }
        foreach (var b in boxes) b.MoveToOuterDisposeScope();
        return (boxes, losses);
    }

    private (Tensor[] Labels, Tensor[] MatchedGt) AssignTargets(Tensor anchors, IReadOnlyList<DetectionTarget> targets)
    {
        var labels = new Tensor[targets.Count];
        var matched = new Tensor[targets.Count];
        for (int i = 0; i < targets.Count; i++)
        {
            var gt = targets[i].Boxes;
            if (gt.shape[0] == 0)
            {
                matched[i] = zeros_like(anchors);
                labels[i] = zeros(anchors.shape[0]);
                continue;
            }
            var m = _matcher.Match(TensorBoxOps.Iou(gt, anchors));
            matched[i] = gt.index_select(0, m.clamp_min(0));
            var l = (m >= 0).to(ScalarType.Float32);
            l = l.masked_fill(m == Matcher.BelowLowThreshold, 0f).masked_fill(m == Matcher.BetweenThresholds, -1f);
            labels[i] = l;
        }
        return (labels, matched);
    }

    private (Tensor Objectness, Tensor BoxReg) ComputeLoss(Tensor objectness, Tensor predDeltas, Tensor[] labels, Tensor[] regressionTargets, Generator? generator)
    {
        var (pos, neg) = _sampler.Sample(labels, generator);
        var posInds = cat(pos, 0).nonzero().squeeze(1);
        var negInds = cat(neg, 0).nonzero().squeeze(1);
        var sampled = cat([posInds, negInds], 0);
        var obj = objectness.flatten();
        var l = cat(labels, 0);
        var reg = cat(regressionTargets, 0);
        var boxLoss = functional.smooth_l1_loss(predDeltas.index_select(0, posInds), reg.index_select(0, posInds), reduction: Reduction.Sum, beta: 1.0 / 9) / sampled.numel();
        var objLoss = functional.binary_cross_entropy_with_logits(obj.index_select(0, sampled), l.index_select(0, sampled));
        return (objLoss, boxLoss);
    }
}

/// <summary>
/// The RPN's proposal selection (torchvision's box decoding and filter_proposals): a plain object shared by
/// <see cref="RegionProposalNetwork"/> and the ONNX Runtime backend, whose graph ends at the RPN head (docs/onnx.md).
/// </summary>
public sealed class RpnProposals
{
    private readonly BoxCoder _coder = new(1, 1, 1, 1);

    public RpnConfig Config { get; }

    public RpnProposals(RpnConfig config) => Config = config;

    /// <summary>
    /// Proposals per image (K_i, 4) in resized-image pixels, by decreasing objectness. <paramref name="objectness"/> holds
    /// N * sum(HWA) logits and <paramref name="deltas"/> N * sum(HWA) rows of (dx, dy, dw, dh), both in the anchors'
    /// generation order (level, row, column, anchor) of every image in turn; <paramref name="anchors"/> is (sum HWA, 4),
    /// the same for every image; <paramref name="levelSizes"/> are the pyramid levels' (H, W), each with the same number
    /// of anchors per location. Training takes the training top-n. The proposals belong to the caller's dispose scope.
    /// </summary>
    public Tensor[] Select(Tensor objectness, Tensor deltas, Tensor anchors, IReadOnlyList<(long H, long W)> imageSizes,
        IReadOnlyList<(long H, long W)> levelSizes, bool training)
    {
        int n = imageSizes.Count;
        long cells = levelSizes.Sum(s => s.H * s.W);
        if (cells == 0 || anchors.shape[0] % cells != 0 || objectness.numel() != n * anchors.shape[0])
            throw new ArgumentException($"{anchors.shape[0]} anchors over {cells} cells and {objectness.numel()} objectness logits for {n} images", nameof(levelSizes));
        long a = anchors.shape[0] / cells;
        var numAnchorsPerLevel = levelSizes.Select(s => s.H * s.W * a).ToArray();
        var anchorList = Enumerable.Repeat(anchors, n).ToArray();
        // (N*sum, 4) deltas against each image's anchors -> (N, sum, 4) boxes
        var proposals = _coder.Decode(deltas.reshape(-1, 4), anchorList).view(n, -1, 4);
        return Filter(proposals, objectness, imageSizes, numAnchorsPerLevel, training);
    }

    private Tensor[] Filter(Tensor proposals, Tensor objectness, IReadOnlyList<(long H, long W)> imageSizes, long[] numAnchorsPerLevel, bool training)
    {
        long n = proposals.shape[0];
        objectness = objectness.reshape(n, -1);
        int preNms = training ? Config.PreNmsTopNTrain : Config.PreNmsTopNTest;
        int postNms = training ? Config.PostNmsTopNTrain : Config.PostNmsTopNTest;
        var levels = cat(numAnchorsPerLevel.Select((cnt, i) => full(cnt, (long)i, ScalarType.Int64)).ToArray(), 0);
        // top pre_nms_top_n per level, indices into the concatenated anchors
        var topIdx = new List<Tensor>();
        long offset = 0;
        foreach (long cnt in numAnchorsPerLevel)
        {
            var ob = objectness.narrow(1, offset, cnt);
            long k = Math.Min(preNms, cnt);
            var (_, idx) = ob.topk((int)k, dim: 1);
            topIdx.Add(idx + offset);
            offset += cnt;
        }
        var top = cat(topIdx.ToArray(), 1);
        var result = new Tensor[n];
        for (int i = 0; i < n; i++)
        {
            var ti = top[i];
            var scores = sigmoid(objectness[i].index_select(0, ti));
            var lvl = levels.index_select(0, ti);
            var boxes = TensorBoxOps.ClipToImage(proposals[i].index_select(0, ti), imageSizes[i].H, imageSizes[i].W);
            var keep = TensorBoxOps.RemoveSmall(boxes, 1e-3);
            boxes = boxes.index_select(0, keep); scores = scores.index_select(0, keep); lvl = lvl.index_select(0, keep);
            keep = (scores >= Config.ScoreThresh).nonzero().squeeze(1);
            boxes = boxes.index_select(0, keep); scores = scores.index_select(0, keep); lvl = lvl.index_select(0, keep);
            keep = TensorNms.Batched(boxes, scores, lvl, Config.NmsThresh);
            keep = keep.narrow(0, 0, Math.Min(postNms, keep.shape[0]));
            result[i] = boxes.index_select(0, keep);
        }
        return result;
    }
}
