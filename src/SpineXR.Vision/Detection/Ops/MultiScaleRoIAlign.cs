// Multi-level RoI pooling as torchvision.ops.MultiScaleRoIAlign: each level's scale is inferred as the power of
// two nearest to feature size / largest image size, and each box goes to level
// floor(4 + log2(sqrt(area) / 224) + 1e-6) clamped to the available levels (FPN paper, eq. 1).
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection.Ops;

/// <summary>RoIAlign over a feature pyramid (the levels used are the first <see cref="NumLevels"/> maps given).</summary>
public sealed class MultiScaleRoIAlign
{
    public int NumLevels { get; }
    public int OutputSize { get; }
    public int SamplingRatio { get; }
    public double CanonicalScale { get; }
    public int CanonicalLevel { get; }

    public MultiScaleRoIAlign(int numLevels = 4, int outputSize = 7, int samplingRatio = 2, double canonicalScale = 224, int canonicalLevel = 4)
    {
        if (numLevels < 1) throw new ArgumentException("must be positive", nameof(numLevels));
        if (outputSize < 1) throw new ArgumentException("must be positive", nameof(outputSize));
        NumLevels = numLevels;
        OutputSize = outputSize;
        SamplingRatio = samplingRatio;
        CanonicalScale = canonicalScale;
        CanonicalLevel = canonicalLevel;
    }

    /// <summary>Level index (0-based, relative to kMin) of each box: (K, 4) -> (K) int64.</summary>
    public static Tensor MapLevels(Tensor boxes, int kMin, int kMax, double canonicalScale = 224, int canonicalLevel = 4, double eps = 1e-6)
    {
        using var scope = NewDisposeScope();
        var s = sqrt(TensorBoxOps.Area(boxes));
        var target = floor(canonicalLevel + log2(s / canonicalScale) + eps);
        target = target.clamp(kMin, kMax);
        return (target.to(ScalarType.Int64) - kMin).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// features: pyramid maps (only the first NumLevels used); boxes: per-image (K_i, 4) in resized-image pixels;
    /// imageSizes: per-image (H, W) before padding. Returns (sum K_i, C, OutputSize, OutputSize).
    /// </summary>
    public Tensor Forward(IReadOnlyList<Tensor> features, IReadOnlyList<Tensor> boxes, IReadOnlyList<(long H, long W)> imageSizes)
    {
        using var scope = NewDisposeScope();
        var x = features.Take(NumLevels).ToArray();
        var rois = ConvertToRoiFormat(boxes);
        long maxH = imageSizes.Max(s => s.H), maxW = imageSizes.Max(s => s.W);
        var scales = x.Select(f => InferScale(f, maxH, maxW)).ToArray();
        if (x.Length == 1)
            return RoIAlign.Forward(x[0], rois, OutputSize, OutputSize, scales[0], SamplingRatio, aligned: false).MoveToOuterDisposeScope();
        int kMin = (int)Math.Round(-Math.Log2(scales[0]));
        int kMax = (int)Math.Round(-Math.Log2(scales[^1]));
        var levels = MapLevels(rois.narrow(1, 1, 4), kMin, kMax, CanonicalScale, CanonicalLevel);
        long k = rois.shape[0], c = x[0].shape[1];
        var parts = new List<Tensor>();
        var where = new List<Tensor>();
        for (int lvl = 0; lvl < x.Length; lvl++)
        {
            var idx = (levels == lvl).nonzero().squeeze(1);
            if (idx.numel() == 0) continue;
            parts.Add(RoIAlign.Forward(x[lvl], rois.index_select(0, idx), OutputSize, OutputSize, scales[lvl], SamplingRatio, aligned: false));
            where.Add(idx);
        }
        if (parts.Count == 0) return zeros([0, c, OutputSize, OutputSize], x[0].dtype).MoveToOuterDisposeScope();
        // Scatter the per-level results back into RoI order (index_copy is differentiable for the features).
        var all = cat(parts, 0);
        var order = cat(where, 0);
        var result = zeros([k, c, OutputSize, OutputSize], all.dtype).index_copy(0, order, all);
        return result.MoveToOuterDisposeScope();
    }

    internal static Tensor ConvertToRoiFormat(IReadOnlyList<Tensor> boxes)
    {
        using var scope = NewDisposeScope();
        var ids = boxes.Select((b, i) => full([b.shape[0], 1], (float)i, b.dtype)).ToArray();
        return cat([cat(ids, 0), cat(boxes.ToArray(), 0)], 1).MoveToOuterDisposeScope();
    }

    private static double InferScale(Tensor feature, long maxH, long maxW)
    {
        // torchvision: 2 ** round(log2(size / original)) from float32 ratios; rows decide (columns must agree).
        float approx = (float)feature.shape[2] / maxH;
        return Math.Pow(2, Math.Round(Math.Log2(approx)));
    }
}
