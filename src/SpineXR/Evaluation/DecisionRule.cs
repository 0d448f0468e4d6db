// The VinDr-SpineXR decision rule (official spine/eval_overall.py, combine_results): for an image the classifier calls
// normal (P(abnormal) < c) keep only boxes scoring >= keep; for an abnormal image keep every box.
namespace SpineXR.Evaluation;

/// <summary>What the decision rule did.</summary>
public sealed record DecisionOutcome(IReadOnlyList<DetectorPrediction> Kept, int DroppedBoxes, int ImagesCalledNormal, int ImagesWithoutClassifier);

/// <summary>Combines the classifier's verdict with the detector's boxes.</summary>
public static class DecisionRule
{
    /// <summary>
    /// Applies the rule. Images that have boxes but no classifier probability keep all their boxes and are counted
    /// (the official script would fail on them).
    /// </summary>
    public static DecisionOutcome Apply(IReadOnlyList<DetectorPrediction> boxes, IReadOnlyDictionary<string, double> abnormalProb,
        double abnormalThreshold, double keepThreshold = 0.5)
    {
        if (!double.IsFinite(abnormalThreshold)) throw new ArgumentException("must be finite", nameof(abnormalThreshold));
        if (!double.IsFinite(keepThreshold)) throw new ArgumentException("must be finite", nameof(keepThreshold));
        var kept = new List<DetectorPrediction>(boxes.Count);
        var noClassifier = new HashSet<string>(StringComparer.Ordinal);
        int dropped = 0;
        foreach (var b in boxes)
        {
            if (!abnormalProb.TryGetValue(b.ImageId, out double p)) { noClassifier.Add(b.ImageId); kept.Add(b); continue; }
            if (p < abnormalThreshold && b.Score < keepThreshold) { dropped++; continue; }
            kept.Add(b);
        }
        int normal = abnormalProb.Count(kv => kv.Value < abnormalThreshold);
        return new DecisionOutcome(kept, dropped, normal, noClassifier.Count);
    }
}
