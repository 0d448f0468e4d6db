// Weighted Boxes Fusion (Solovyev et al. 2021) with the semantics of ensemble_boxes.weighted_boxes_fusion:
// boxes with score < skip_box_thr dropped, coordinates ordered and clipped to the image, zero-area boxes dropped;
// per label, boxes visited by decreasing weighted score (score * model weight) join the fused box with the highest
// IoU > iou_thr (strictly) or start a new cluster; a fused box is the score-weighted mean of its members; its score is
// the mean (avg) or max of member scores, rescaled by min(#models, #members) / sum(weights) (avg) or 1 / max(weight) (max).
namespace SpineXR.Boxes;

/// <summary>How the fused score is formed from its members.</summary>
public enum WbfConfidence { Avg, Max }

/// <summary>Options of <see cref="WeightedBoxesFusion"/>; defaults as ensemble_boxes.</summary>
public sealed record WbfOptions
{
    /// <summary>Members must overlap a fused box with IoU strictly above this.</summary>
    public float IouThreshold { get; init; } = 0.55f;

    /// <summary>Boxes scoring below this are ignored.</summary>
    public float SkipBoxThreshold { get; init; } = 0.0f;

    public WbfConfidence Confidence { get; init; } = WbfConfidence.Avg;

    /// <summary>Weight per model; null = all 1.</summary>
    public IReadOnlyList<float>? Weights { get; init; }

    /// <summary>Let fused scores exceed 1 when a model puts several boxes into one cluster (ensemble_boxes' allows_overflow).</summary>
    public bool AllowsOverflow { get; init; }

    public void Validate(int models)
    {
        if (!(IouThreshold is >= 0 and <= 1)) throw new ArgumentException("must be in [0, 1]", nameof(IouThreshold));
        if (float.IsNaN(SkipBoxThreshold)) throw new ArgumentException("is NaN", nameof(SkipBoxThreshold));
        if (Weights != null && Weights.Count != models)
            throw new ArgumentException($"{Weights.Count} weights for {models} models", nameof(Weights));
        if (Weights != null && Weights.Any(w => !(w > 0))) throw new ArgumentException("weights must be > 0", nameof(Weights));
    }
}

/// <summary>Fuses the detections of several models (or test-time augmentations) of one image.</summary>
public static class WeightedBoxesFusion
{
    private readonly record struct Member(int Label, float Score, float Weight, BoxF Box);

    /// <summary>
    /// Fuses <paramref name="models"/>' detections of one image. Coordinates are clipped to [0, width] x [0, height]
    /// (ensemble_boxes clips to [0, 1] on normalised boxes; WBF is otherwise scale-free, so pixels work directly).
    /// Result sorted by decreasing score.
    /// </summary>
    public static ScoredBox[] Fuse(IReadOnlyList<IReadOnlyList<ScoredBox>> models, float width, float height, WbfOptions? options = null)
    {
        options ??= new WbfOptions();
        options.Validate(models.Count);
        float[] weights = options.Weights?.ToArray() ?? Enumerable.Repeat(1f, models.Count).ToArray();
        float wSum = weights.Sum(), wMax = weights.Max();

        var byLabel = new SortedDictionary<int, List<Member>>();
        for (int m = 0; m < models.Count; m++)
            foreach (var d in models[m])
            {
                if (d.Score < options.SkipBoxThreshold) continue;
                float x1 = Math.Min(d.Box.X1, d.Box.X2), x2 = Math.Max(d.Box.X1, d.Box.X2);
                float y1 = Math.Min(d.Box.Y1, d.Box.Y2), y2 = Math.Max(d.Box.Y1, d.Box.Y2);
                x1 = Math.Clamp(x1, 0, width); x2 = Math.Clamp(x2, 0, width);
                y1 = Math.Clamp(y1, 0, height); y2 = Math.Clamp(y2, 0, height);
                if ((x2 - x1) * (y2 - y1) == 0) continue;
                if (!byLabel.TryGetValue(d.ClassId, out var l)) byLabel[d.ClassId] = l = [];
                l.Add(new Member(d.ClassId, d.Score * weights[m], weights[m], new BoxF(x1, y1, x2, y2)));
            }

        var result = new List<ScoredBox>();
        foreach (var (label, members) in byLabel)
        {
            // numpy's argsort()[::-1]: ascending then reversed, so equal scores come in reverse input order (exact for numpy's
            // stable small-array path; its introsort leaves larger tie orders unspecified).
            var order = Enumerable.Range(0, members.Count).ToArray();
            Array.Sort(order, (a, b) => { int c = members[b].Score.CompareTo(members[a].Score); return c != 0 ? c : b.CompareTo(a); });
            var clusters = new List<List<Member>>();
            var fused = new List<Member>();
            foreach (int i in order)
            {
                var mb = members[i];
                int best = -1;
                float bestIou = options.IouThreshold;
                for (int c = 0; c < fused.Count; c++)
                {
                    float iou = BoxOps.Iou(fused[c].Box, mb.Box);
                    if (iou > bestIou) { bestIou = iou; best = c; }
                }
                if (best >= 0)
                {
                    clusters[best].Add(mb);
                    fused[best] = Average(clusters[best], options.Confidence);
                }
                else
                {
                    clusters.Add([mb]);
                    fused.Add(mb);
                }
            }
            for (int c = 0; c < fused.Count; c++)
            {
                float s = fused[c].Score;
                s = options.Confidence == WbfConfidence.Max ? s / wMax
                    : options.AllowsOverflow ? s * clusters[c].Count / wSum
                    : s * Math.Min(weights.Length, clusters[c].Count) / wSum;
                result.Add(new ScoredBox(fused[c].Box, label, s));
            }
        }
        result.Sort((a, b) => b.Score.CompareTo(a.Score));
        return result.ToArray();
    }

    private static Member Average(List<Member> cluster, WbfConfidence conf)
    {
        double x1 = 0, y1 = 0, x2 = 0, y2 = 0, sum = 0, max = double.NegativeInfinity, w = 0;
        foreach (var m in cluster)
        {
            x1 += m.Score * m.Box.X1; y1 += m.Score * m.Box.Y1; x2 += m.Score * m.Box.X2; y2 += m.Score * m.Box.Y2;
            sum += m.Score; max = Math.Max(max, m.Score); w += m.Weight;
        }
        float score = (float)(conf == WbfConfidence.Max ? max : sum / cluster.Count);
        return new Member(cluster[0].Label, score, (float)w, new BoxF((float)(x1 / sum), (float)(y1 / sum), (float)(x2 / sum), (float)(y2 / sum)));
    }

    /// <summary>
    /// Horizontal-flip test-time augmentation: <paramref name="flipped"/> was predicted on the mirrored image; its boxes are
    /// mirrored back and fused with <paramref name="original"/> by WBF (two equally weighted "models").
    /// </summary>
    public static ScoredBox[] MergeHorizontalFlip(IReadOnlyList<ScoredBox> original, IReadOnlyList<ScoredBox> flipped,
        float width, float height, WbfOptions? options = null)
    {
        var unflipped = flipped.Select(d => d with { Box = BoxOps.FlipHorizontal(d.Box, width) }).ToArray();
        return Fuse([original, unflipped], width, height, options);
    }
}
