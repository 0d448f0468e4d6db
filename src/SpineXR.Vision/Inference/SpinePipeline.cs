// The VinDr-SpineXR inference pipeline (Nguyen et al., MICCAI 2021, Fig. 2): classifier ensemble by the mean of
// the logits (official ensemble_classifier.py), detector ensemble by weighted boxes fusion, then the decision rule
// of spine/eval_overall.py: an image called normal keeps only boxes scoring >= keep, an abnormal one keeps all.
using SpineXR.Boxes;
using SpineXR.Inference;
using SpineXR.Vision.Detection.Inference;
using SpineXR.Imaging;
using SpineXR.Vision.Data;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Inference;

/// <summary>Options of <see cref="SpinePipeline"/>; defaults follow the official code.</summary>
public sealed record SpinePipelineOptions
{
    /// <summary>Abnormal threshold c; null = the first classifier run's validation Youden threshold (model.json).</summary>
    public double? AbnormalThreshold { get; init; }

    /// <summary>Boxes of images called normal are kept only at or above this score (official: 0.5).</summary>
    public double KeepThreshold { get; init; } = 0.5;

    /// <summary>Horizontal-flip test-time augmentation for classifier (logit mean) and detectors (WBF); null = each run's own setting.</summary>
    public bool? Tta { get; init; }

    /// <summary>Engine and device every model runs on (default: libtorch on the CPU; docs/onnx.md).</summary>
    public InferenceEngine Engine { get; init; } = InferenceEngine.Default;

    /// <summary>WBF settings for fusing several detectors.</summary>
    public WbfOptions Fusion { get; init; } = new() { IouThreshold = 0.55f, SkipBoxThreshold = 0.0f };

    public void Validate()
    {
        if (AbnormalThreshold is { } c && !(c >= 0 && c <= 1)) throw new ArgumentException("must be in [0, 1]", nameof(AbnormalThreshold));
        if (!(KeepThreshold >= 0 && KeepThreshold <= 1)) throw new ArgumentException("must be in [0, 1]", nameof(KeepThreshold));
        Engine.Validate();
    }
}

/// <summary>Classifier runs + detector runs + the decision rule behind <see cref="ISpinePredictor"/>.</summary>
public sealed class SpinePipeline : ISpinePredictor
{
    private readonly IReadOnlyList<Classifier> _classifiers;
    private readonly IReadOnlyList<Detector> _detectors;
    private readonly SpinePipelineOptions _options;
    private readonly double _threshold;
    // TorchSharp modules are not documented as safe for concurrent forwards; the service queues onto one pipeline.
    private readonly object _gate = new();

    public PredictionProvenance Provenance { get; }

    private SpinePipeline(IReadOnlyList<Classifier> classifiers, IReadOnlyList<Detector> detectors, SpinePipelineOptions options,
        IReadOnlyList<string> classifierDirs, IReadOnlyList<string> detectorDirs)
    {
        _classifiers = classifiers;
        _detectors = detectors;
        _options = options;
        _threshold = options.AbnormalThreshold
                     ?? (classifiers[0].Card.Thresholds.TryGetValue("abnormal", out double t) ? t : 0.5);
        Provenance = new PredictionProvenance
        {
            Classifiers = classifierDirs.Select(Path.GetFullPath).ToList(),
            Detectors = detectorDirs.Select(Path.GetFullPath).ToList(),
            AbnormalThreshold = _threshold,
            KeepThreshold = options.KeepThreshold,
            Tta = options.Tta ?? detectors.Any(d => d.Tta),
        };
    }

    /// <summary>Loads every run directory; the error names the run that failed.</summary>
    public static SpinePipeline Load(IReadOnlyList<string> classifierDirs, IReadOnlyList<string> detectorDirs, SpinePipelineOptions? options = null)
    {
        options ??= new SpinePipelineOptions();
        options.Validate();
        if (classifierDirs.Count == 0) throw new ArgumentException("at least one classifier run is needed", nameof(classifierDirs));
        if (detectorDirs.Count == 0) throw new ArgumentException("at least one detector run is needed", nameof(detectorDirs));
        var classifiers = new List<Classifier>();
        var detectors = new List<Detector>();
        try
        {
            foreach (var d in classifierDirs) classifiers.Add(Wrap(d, () => Classifier.Load(d, options.Engine)));
            foreach (var d in detectorDirs)
            {
                var det = Wrap(d, () => Detector.Load(d, options.Engine));
                if (options.Tta is { } tta) det.Tta = tta;
                detectors.Add(det);
            }
            return new SpinePipeline(classifiers, detectors, options, classifierDirs, detectorDirs);
        }
        catch
        {
            foreach (var c in classifiers) c.Dispose();
            foreach (var d in detectors) d.Dispose();
            throw;
        }
    }

    private static T Wrap<T>(string dir, Func<T> load)
    {
        try { return load(); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"cannot load run {dir}: {e.Message}", e);
        }
    }

    /// <summary>
    /// The smallest of: each classifier's shrink to its square input (short side / input size) and each detector's
    /// resize at evaluation (1 / min(min_size / short side, max_size / long side)).
    /// </summary>
    public double MaxInputShrink(int width, int height)
    {
        double shortSide = Math.Min(width, height), longSide = Math.Max(width, height);
        double shrink = double.PositiveInfinity;
        foreach (var c in _classifiers) shrink = Math.Min(shrink, shortSide / c.Card.InputSize);
        foreach (var d in _detectors)
            shrink = Math.Min(shrink, 1 / Math.Min(d.Config.MinSize / shortSide, d.Config.MaxSize / longSide));
        return Math.Max(1, shrink);
    }

    public IReadOnlyList<ImagePrediction> Predict(IReadOnlyList<SpineImage> batch, CancellationToken cancellationToken = default)
    {
        if (batch.Count == 0) return [];
        lock (_gate)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double[] logits = ClassifierLogits(batch);
            cancellationToken.ThrowIfCancellationRequested();
            ScoredBox[][] boxes = DetectorBoxes(batch);
            var result = new ImagePrediction[batch.Count];
            for (int i = 0; i < batch.Count; i++)
            {
                var img = batch[i];
                double p = 1 / (1 + Math.Exp(-logits[i]));
                bool abnormal = p >= _threshold;
                // Clipped to the original image: a reduced decode's last row and column can reach a pixel past it.
                var all = boxes[i].OrderByDescending(d => d.Score)
                    .Select(d => PredictedBox.From(d with { Box = d.Box.Clip(img.OriginalWidth, img.OriginalHeight) })).ToList();
                var kept = abnormal ? all : all.Where(b => b.Score >= _options.KeepThreshold).ToList();
                result[i] = new ImagePrediction
                {
                    File = img.File, ImageId = img.ImageId, Width = img.OriginalWidth, Height = img.OriginalHeight,
                    StudyInstanceUid = img.StudyInstanceUid, SeriesInstanceUid = img.SeriesInstanceUid, SopInstanceUid = img.SopInstanceUid,
                    AbnormalProbability = p, Logit = logits[i], Verdict = abnormal ? "abnormal" : "normal",
                    Boxes = kept, DetectorBoxes = all,
                };
            }
            return result;
        }
    }

    /// <summary>Mean of the classifiers' logits per image.</summary>
    private double[] ClassifierLogits(IReadOnlyList<SpineImage> batch)
    {
        var sum = new double[batch.Count];
        var inputs = batch.Select(b => (b.ImageId, (Func<GrayImage>)b.ToGray)).ToList();
        foreach (var c in _classifiers)
        {
            var preds = c.Predict(inputs, batchSize: Math.Max(1, batch.Count), hflipTta: _options.Tta ?? false, workers: 1);
            for (int i = 0; i < batch.Count; i++)
            {
                if (!preds[i].Ok) throw new InvalidDataException($"{batch[i].File}: classifier failed: {preds[i].Error}");
                sum[i] += preds[i].Logit;
            }
        }
        for (int i = 0; i < sum.Length; i++) sum[i] /= _classifiers.Count;
        return sum;
    }

    /// <summary>Each detector on the batch at its own input size; several detectors fused by WBF per image.</summary>
    private ScoredBox[][] DetectorBoxes(IReadOnlyList<SpineImage> batch)
    {
        var perModel = new List<List<ScoredBox[]>>();
        foreach (var d in _detectors)
        {
            int shortSide = d.Config.MinSize;
            var images = batch.Select(b => ImageResize.ToShortSide(GrayImageF.From(b), shortSide)).ToList();
            perModel.Add(d.Predict(images));
        }
        var result = new ScoredBox[batch.Count][];
        for (int i = 0; i < batch.Count; i++)
        {
            result[i] = perModel.Count == 1
                ? perModel[0][i]
                : WeightedBoxesFusion.Fuse(perModel.Select(m => (IReadOnlyList<ScoredBox>)m[i]).ToList(), batch[i].OriginalWidth, batch[i].OriginalHeight, _options.Fusion);
        }
        return result;
    }

    public void Dispose()
    {
        foreach (var c in _classifiers) c.Dispose();
        foreach (var d in _detectors) d.Dispose();
    }
}
