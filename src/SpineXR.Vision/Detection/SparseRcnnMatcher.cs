// Hungarian matching of Sparse R-CNN / DETR (official loss.py, HungarianMatcher with use_focal): the cost of
// giving target j to prediction i is ClassWeight * focal class cost + L1Weight * L1 distance of boxes
// normalised by the image size + GiouWeight * (-GIoU), and each image is solved by exact linear assignment.
using SpineXR.Boxes;
using SpineXR.Vision.Detection.Ops;
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection;

/// <summary>One-to-one assignment of predictions to targets by minimum total matching cost.</summary>
public sealed class SparseRcnnMatcher
{
    public double CostClass { get; }
    public double CostBbox { get; }
    public double CostGiou { get; }
    public double Alpha { get; }
    public double Gamma { get; }

    public SparseRcnnMatcher(double costClass = 2.0, double costBbox = 5.0, double costGiou = 2.0, double alpha = 0.25, double gamma = 2.0)
    {
        if (costClass == 0 && costBbox == 0 && costGiou == 0) throw new ArgumentException("all costs are zero", nameof(costClass));
        CostClass = costClass;
        CostBbox = costBbox;
        CostGiou = costGiou;
        Alpha = alpha;
        Gamma = gamma;
    }

    /// <summary>
    /// Cost matrix of one image: logits (Q, C), boxes (Q, 4) xyxy pixels, target labels (K), target boxes (K, 4)
    /// xyxy pixels, image size (4) as (W, H, W, H) -> (Q, K).
    /// </summary>
    public Tensor CostMatrix(Tensor logits, Tensor boxes, Tensor targetLabels, Tensor targetBoxes, Tensor imageSizeXyxy)
    {
        using var scope = NewDisposeScope();
        var prob = logits.sigmoid();
        // Focal-style class cost: the positive focal term minus the negative one, at each target's class.
        var neg = (1 - Alpha) * prob.pow(Gamma) * -(1 - prob + 1e-8).log();
        var pos = Alpha * (1 - prob).pow(Gamma) * -(prob + 1e-8).log();
        var costClass = (pos - neg).index_select(1, targetLabels); // (Q, K)
        var costBbox = cdist(boxes / imageSizeXyxy, targetBoxes / imageSizeXyxy, p: 1); // (Q, K)
        var costGiou = -GeneralizedBoxIou.Pairwise(boxes, targetBoxes); // (Q, K)
        return (CostBbox * costBbox + CostClass * costClass + CostGiou * costGiou).MoveToOuterDisposeScope();
    }

    /// <summary>Copies of each of <paramref name="targets"/> targets a one-to-many match over <paramref name="predictions"/> makes: <paramref name="repeats"/>, capped so they fit.</summary>
    public static int Copies(int repeats, long predictions, long targets) =>
        targets == 0 ? 1 : (int)Math.Max(1, Math.Min(repeats, predictions / targets));

    /// <summary>
    /// Matches each image: logits (N, Q, C), boxes (N, Q, 4). Returns per image the matched prediction indices and
    /// the target index each takes, ordered by prediction index (as scipy's linear_sum_assignment).
    /// With <paramref name="repeats"/> r &gt; 1 the matching is one-to-many (H-DETR's hybrid matching, Jia et al.,
    /// CVPR 2023): each target is entered r times (fewer where r x K would exceed Q), so up to r predictions take it.
    /// </summary>
    public (long[] Predictions, long[] Targets)[] Match(Tensor logits, Tensor boxes, IReadOnlyList<SetTarget> targets, int repeats = 1)
    {
        if (repeats < 1) throw new ArgumentOutOfRangeException(nameof(repeats), repeats, "must be positive");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        long n = logits.shape[0], q = logits.shape[1];
        if (targets.Count != n) throw new ArgumentException($"{targets.Count} targets for {n} images", nameof(targets));
        var result = new (long[], long[])[n];
        for (int b = 0; b < n; b++)
        {
            var t = targets[b];
            int k = (int)t.Labels.shape[0];
            if (k == 0)
            {
                result[b] = ([], []);
                continue;
            }
            int r = Copies(repeats, q, k);
            var c = CostMatrix(logits[b], boxes[b], t.Labels, t.Boxes, t.ImageSizeXyxy);
            if (r > 1) c = c.repeat(1, r); // column j*K + t is copy j of target t
            c = c.to(ScalarType.Float64).cpu().contiguous();
            var (rows, cols) = LinearAssignment.SolvePairs(c.data<double>().ToArray(), (int)q, k * r);
            result[b] = (rows.Select(x => (long)x).ToArray(), cols.Select(x => (long)(x % k)).ToArray());
        }
        return result;
    }
}
