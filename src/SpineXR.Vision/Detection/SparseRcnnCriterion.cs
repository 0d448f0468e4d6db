// The set-prediction loss of Sparse R-CNN (official loss.py, SetCriterion with use_focal): after Hungarian
// matching, a sigmoid focal loss over all proposals x classes (matched proposals are positives of their
// target's class, every other entry a negative), L1 on matched boxes normalised by the image size, and
// 1 - GIoU on matched boxes; each divided by the number of target boxes in the batch and weighted
// (2, 5, 2). With deep supervision every stage is matched and supervised the same way.
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection;

/// <summary>Hungarian-matched focal, L1 and GIoU losses over every stage of a Sparse R-CNN head.</summary>
public sealed class SparseRcnnCriterion
{
    private readonly SparseRcnnConfig _o;

    public SparseRcnnMatcher Matcher { get; }

    /// <summary>
    /// Predictions each target may take (1 = the official one-to-one matching). Above 1 the loss is H-DETR's
    /// one-to-many term: every target entered this many times, normalised by the repeated count; the trainer sets it
    /// for the first phase of a run and returns to 1 (see DetectorModelConfig.SparseOneToMany).
    /// </summary>
    public int TargetRepeats { get; set; } = 1;

    public SparseRcnnCriterion(SparseRcnnConfig options)
    {
        options.Validate();
        _o = options;
        Matcher = new SparseRcnnMatcher(options.ClassWeight, options.L1Weight, options.GiouWeight, options.FocalAlpha, options.FocalGamma);
    }

    /// <summary>
    /// Weighted loss terms for stage outputs logits (S, N, Q, C) and boxes (S, N, Q, 4) xyxy pixels: the last stage as
    /// loss_ce, loss_bbox, loss_giou and stage s &lt; S-1 as loss_ce_s, loss_bbox_s, loss_giou_s (the official names).
    /// </summary>
    public Dictionary<string, Tensor> Forward(Tensor logits, Tensor boxes, IReadOnlyList<SetTarget> targets)
    {
        long stages = logits.shape[0];
        // Normalise by the batch's number of target boxes (at least 1), as the official num_boxes.
        double numBoxes = Math.Max(1.0, targets.Sum(t => (double)t.Labels.shape[0] * SparseRcnnMatcher.Copies(TargetRepeats, _o.NumProposals, t.Labels.shape[0])));
        var losses = new Dictionary<string, Tensor>();
        for (long s = 0; s < stages; s++)
        {
            string suffix = s == stages - 1 ? "" : $"_{s}";
            using var scope = NewDisposeScope();
            var (ce, l1, giou) = StageLosses(logits[s], boxes[s], targets, numBoxes);
            losses["loss_ce" + suffix] = (ce * _o.ClassWeight).MoveToOuterDisposeScope();
            losses["loss_bbox" + suffix] = (l1 * _o.L1Weight).MoveToOuterDisposeScope();
            losses["loss_giou" + suffix] = (giou * _o.GiouWeight).MoveToOuterDisposeScope();
        }
        return losses;
    }

    /// <summary>Unweighted (focal, L1, 1 - GIoU) of one stage: logits (N, Q, C), boxes (N, Q, 4).</summary>
    internal (Tensor Focal, Tensor L1, Tensor Giou) StageLosses(Tensor logits, Tensor boxes, IReadOnlyList<SetTarget> targets, double numBoxes)
    {
        using var scope = NewDisposeScope();
        long n = logits.shape[0], q = logits.shape[1], c = logits.shape[2];
        var matches = Matcher.Match(logits, boxes, targets, TargetRepeats);

        // Flat prediction index b*Q + i of every match, with its target's class, box and image size.
        var flat = new List<long>();
        var tgtLabels = new List<Tensor>();
        var tgtBoxes = new List<Tensor>();
        var sizes = new List<Tensor>();
        for (int b = 0; b < n; b++)
        {
            var (pi, ti) = matches[b];
            if (pi.Length == 0) continue;
            flat.AddRange(pi.Select(i => b * q + i));
            var idx = tensor(ti, device: logits.device);
            tgtLabels.Add(targets[b].Labels.index_select(0, idx));
            tgtBoxes.Add(targets[b].Boxes.index_select(0, idx));
            sizes.Add(targets[b].ImageSizeXyxy.unsqueeze(0).expand(pi.Length, 4));
        }

        var flatLogits = logits.reshape(n * q, c); // (N*Q, C)
        var onehot = zeros_like(flatLogits);
        if (flat.Count == 0)
        {
            var focal0 = SigmoidFocalSum(flatLogits, onehot) / numBoxes;
            var none = boxes.sum() * 0; // keeps the graph for a batch without boxes
            return (focal0.MoveToOuterDisposeScope(), none.MoveToOuterDisposeScope(), none.clone().MoveToOuterDisposeScope());
        }
        var predIdx = tensor(flat.ToArray(), device: logits.device);
        var labels = cat(tgtLabels, 0);
        onehot.index_put_(ones(labels.shape[0], dtype: onehot.dtype, device: onehot.device), predIdx, labels);
        var focal = SigmoidFocalSum(flatLogits, onehot) / numBoxes;

        var src = boxes.reshape(n * q, 4).index_select(0, predIdx); // (M, 4)
        var tgt = cat(tgtBoxes, 0); // (M, 4)
        var size = cat(sizes, 0); // (M, 4)
        var l1 = (src / size - tgt / size).abs().sum() / numBoxes;
        var giou = (1 - Ops.GeneralizedBoxIou.Elementwise(src, tgt)).sum() / numBoxes;
        return (focal.MoveToOuterDisposeScope(), l1.MoveToOuterDisposeScope(), giou.MoveToOuterDisposeScope());
    }

    // fvcore's sigmoid_focal_loss with reduction "sum".
    private Tensor SigmoidFocalSum(Tensor logits, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var p = logits.sigmoid();
        var ce = nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction: nn.Reduction.None);
        var pt = p * targets + (1 - p) * (1 - targets);
        var loss = ce * (1 - pt).pow(_o.FocalGamma);
        if (_o.FocalAlpha >= 0)
            loss = loss * (_o.FocalAlpha * targets + (1 - _o.FocalAlpha) * (1 - targets));
        return loss.sum().MoveToOuterDisposeScope();
    }
}
