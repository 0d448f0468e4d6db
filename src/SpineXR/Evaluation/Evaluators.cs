// Joins prediction files with the ground truth of a split and runs the metrics; every prediction that cannot be
// used (unknown image, image missing a prediction) is reported and counted, never dropped silently.
using SpineXR.Metrics;

namespace SpineXR.Evaluation;

/// <summary>Classifier evaluation over a split: the metrics plus what was matched and what was not.</summary>
public sealed record ClassifierEvalReport(ClassifierResult Result, ClassifierEvalOptions Options, int UnknownImages, int MissingImages);

/// <summary>Options of <see cref="Evaluators.Detector"/>.</summary>
public sealed record DetectorEvalOptions
{
    /// <summary>IoU thresholds to report; AP at 0.5 (the paper's metric) is always computed too.</summary>
    public IReadOnlyList<double> IouThresholds { get; init; } = [0.5];

    /// <summary>Bootstrap resamples of images for the mAP interval; 0 disables it.</summary>
    public int Resamples { get; init; } = 1000;

    public uint Seed { get; init; } = 1999;
    public double Confidence { get; init; } = 0.95;
    public int MaxDetections { get; init; } = 100;

    /// <summary>False positives per image at which FROC sensitivity is read.</summary>
    public IReadOnlyList<double> FrocRates { get; init; } = [0.125, 0.25, 0.5, 1, 2, 4, 8];

    public void Validate()
    {
        if (Resamples < 0) throw new ArgumentException("must be >= 0", nameof(Resamples));
        if (Confidence is <= 0 or >= 1) throw new ArgumentException("must be in (0, 1)", nameof(Confidence));
        new CocoEvalOptions { IouThresholds = IouThresholds, MaxDetections = MaxDetections }.Validate();
    }
}

/// <summary>Detector evaluation over a split.</summary>
public sealed record DetectorEvalReport(CocoResult Result, DetectorEvalOptions Options, int Iou50Index, int[] RequestedIndices,
    Interval? Map50Ci, Interval? MapRequestedCi, double[] Froc, int NImages, int NTruth, int NDetections, int UnknownImages)
{
    public double Map50 => Result.MeanAp(Iou50Index);

    /// <summary>mAP averaged over the requested IoU thresholds.</summary>
    public double MapRequested => RequestedIndices.Average(t => Result.MeanAp(t));
}

/// <summary>Runs the classifier and detector evaluations.</summary>
public static class Evaluators
{
    /// <summary>Evaluates classifier predictions on the images of <paramref name="truth"/> that have one.</summary>
    public static ClassifierEvalReport Classifier(GroundTruthSet truth, IReadOnlyList<ClassifierPrediction> predictions,
        ClassifierEvalOptions options, List<string> problems)
    {
        var scores = new List<double>();
        var labels = new List<bool>();
        var have = new bool[truth.Images.Count];
        int unknown = 0;
        foreach (var p in predictions)
        {
            int i = truth.IndexOf(p.ImageId);
            if (i < 0) { unknown++; problems.Add($"image {p.ImageId}: not in the ground truth of this split, prediction ignored"); continue; }
            have[i] = true;
            scores.Add(p.AbnormalProb);
            labels.Add(truth.Images[i].Abnormal);
        }
        int missing = have.Count(h => !h);
        if (missing > 0)
            problems.Add($"{missing} of {truth.Images.Count} images have no prediction (first: {string.Join(", ", truth.Images.Where((_, i) => !have[i]).Take(5).Select(m => m.ImageId))}); metrics use the {scores.Count} that do");
        if (scores.Count == 0) throw new InvalidDataException("no prediction matches an image of the split");
        var result = ClassifierEvaluation.Evaluate(scores.ToArray(), labels.ToArray(), options);
        return new ClassifierEvalReport(result, options, unknown, missing);
    }

    /// <summary>Evaluates detections on every image of <paramref name="truth"/> (images without detections count).</summary>
    public static DetectorEvalReport Detector(GroundTruthSet truth, IReadOnlyList<DetectorPrediction> detections,
        DetectorEvalOptions options, List<string> problems)
    {
        options.Validate();
        var thr = options.IouThresholds.ToList();
        int[] requested = Enumerable.Range(0, thr.Count).ToArray();
        int i50 = thr.IndexOf(0.5);
        if (i50 < 0) { thr.Add(0.5); i50 = thr.Count - 1; }

        var gt = new List<CocoTruth>();
        for (int i = 0; i < truth.Images.Count; i++)
            foreach (var b in truth.Images[i].Boxes)
                gt.Add(new CocoTruth(i, b.ClassId, new CocoBox(b.X1, b.Y1, b.X2 - b.X1, b.Y2 - b.Y1)));
        var dt = new List<CocoDetection>(detections.Count);
        var unknownIds = new HashSet<string>(StringComparer.Ordinal);
        int unknownBoxes = 0;
        foreach (var d in detections)
        {
            int i = truth.IndexOf(d.ImageId);
            if (i < 0) { unknownIds.Add(d.ImageId); unknownBoxes++; continue; }
            dt.Add(new CocoDetection(i, d.ClassId, new CocoBox(d.X, d.Y, d.W, d.H), d.Score));
        }
        if (unknownBoxes > 0)
            problems.Add($"{unknownBoxes} detection(s) on {unknownIds.Count} image(s) not in the ground truth of this split ignored (first: {string.Join(", ", unknownIds.Take(5))})");

        int k = Data.LesionTaxonomy.Classes.Count;
        var ev = new CocoEvaluation(truth.Images.Count, k, gt.ToArray(), dt.ToArray(),
            new CocoEvalOptions { IouThresholds = thr, MaxDetections = options.MaxDetections });
        var result = ev.Evaluate();
        Interval? ci50 = null, ciReq = null;
        if (options.Resamples > 0 && gt.Count > 0)
        {
            var (per, over, _) = ev.BootstrapMap(options.Resamples, options.Seed, options.Confidence, requested);
            ci50 = per[i50];
            ciReq = over;
        }
        double[] froc = ev.Froc(options.FrocRates, i50);
        return new DetectorEvalReport(result, options with { IouThresholds = thr }, i50, requested, ci50, ciReq, froc,
            truth.Images.Count, gt.Count, dt.Count, unknownIds.Count);
    }
}
