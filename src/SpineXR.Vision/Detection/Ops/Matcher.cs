// Anchor/proposal to ground-truth matching as torchvision's _utils.Matcher.
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection.Ops;

/// <summary>
/// Assigns each prediction the ground truth of highest IoU: index when IoU >= high, <see cref="BelowLowThreshold"/> (-1)
/// when below low, <see cref="BetweenThresholds"/> (-2) in between. With low-quality matches allowed, every gt also
/// keeps the predictions of its own highest IoU (ties included).
/// </summary>
public sealed class Matcher
{
    public const long BelowLowThreshold = -1;
    public const long BetweenThresholds = -2;

    public double HighThreshold { get; }
    public double LowThreshold { get; }
    public bool AllowLowQualityMatches { get; }

    public Matcher(double highThreshold, double lowThreshold, bool allowLowQualityMatches)
    {
        if (lowThreshold > highThreshold) throw new ArgumentException("low threshold must be <= high threshold", nameof(lowThreshold));
        HighThreshold = highThreshold;
        LowThreshold = lowThreshold;
        AllowLowQualityMatches = allowLowQualityMatches;
    }

    /// <summary>quality (M gt, N predictions) -> (N) int64 matches.</summary>
    public Tensor Match(Tensor quality)
    {
        if (quality.shape[0] == 0) throw new ArgumentException("no ground-truth boxes to match", nameof(quality));
        using var scope = NewDisposeScope();
        var (matchedVals, matches) = quality.max(0);
        var allMatches = AllowLowQualityMatches ? matches.clone() : null;
        var below = matchedVals < LowThreshold;
        var between = (matchedVals >= LowThreshold).logical_and(matchedVals < HighThreshold);
        matches = matches.masked_fill(below, BelowLowThreshold).masked_fill(between, BetweenThresholds);
        if (allMatches is not null)
        {
            var (highest, _) = quality.max(1);
            var pairs = (quality == highest.unsqueeze(1)).nonzero();
            var predInds = pairs.select(1, 1);
            matches.index_put_(allMatches.index_select(0, predInds), predInds);
        }
        return matches.MoveToOuterDisposeScope();
    }
}
