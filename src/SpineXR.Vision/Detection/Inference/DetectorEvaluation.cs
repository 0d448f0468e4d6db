// Evaluation glue: a run directory's detector over a data source or a dataset split, as COCO mAP@0.5 (the eval
// layer's CocoEvaluation) or as prediction records for `spinexr eval detector --model RUN_DIR`.
using SpineXR.Data;
using SpineXR.Evaluation;
using SpineXR.Metrics;
using SpineXR.Vision.Data;

namespace SpineXR.Vision.Detection.Inference;

/// <summary>Runs a trained detector over many images.</summary>
public static class DetectorEvaluation
{
    /// <summary>Detections for every image of <paramref name="source"/> in original pixels; images that fail are reported to <paramref name="log"/> and skipped.</summary>
    public static List<(int Index, SpineXR.Boxes.ScoredBox[] Detections)> PredictAll(Detector detector, IDetectionDataSource source, TextWriter? log = null)
    {
        int size = detector.Config.MinSize;
        var result = new List<(int, SpineXR.Boxes.ScoredBox[])>();
        var pending = new List<(int, GrayImageF)>();
        void Flush()
        {
            var preds = detector.Predict(pending.Select(p => p.Item2).ToList());
            for (int i = 0; i < pending.Count; i++) result.Add((pending[i].Item1, preds[i]));
            pending.Clear();
        }
        // decode the next image while the model runs on the current batch
        Task<GrayImageF?>? next = null;
        for (int i = 0; i < source.Samples.Count; i++)
        {
            int k = i;
            var task = next ?? Task.Run(() => TryLoad(source, k, size, log));
            next = i + 1 < source.Samples.Count ? Task.Run(() => TryLoad(source, k + 1, size, log)) : null;
            if (task.Result is { } img) pending.Add((i, img));
            if (pending.Count >= detector.BatchSize) Flush();
        }
        if (pending.Count > 0) Flush();
        return result;
    }

    private static GrayImageF? TryLoad(IDetectionDataSource source, int i, int size, TextWriter? log)
    {
        try
        {
            return source.Load(i, size);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or FormatException or NotSupportedException or ArgumentException)
        {
            log?.WriteLine($"skipped {source.Samples[i].ImageId}: {e.Message}");
            return null;
        }
    }

    /// <summary>mAP@0.5 (COCO, 101 points, 100 detections per image, mean over classes with ground truth) of RUN_DIR on a source.</summary>
    public static double Evaluate(string runDir, IDetectionDataSource source, TextWriter? log = null)
    {
        using var detector = Detector.Load(runDir);
        var preds = PredictAll(detector, source, log ?? Console.Error);
        var truth = new List<CocoTruth>();
        var dets = new List<CocoDetection>();
        for (int i = 0; i < source.Samples.Count; i++)
        {
            var s = source.Samples[i];
            for (int k = 0; k < s.Boxes.Length; k++)
                truth.Add(new CocoTruth(i, s.Classes[k], new CocoBox(s.Boxes[k].X1, s.Boxes[k].Y1, s.Boxes[k].Width, s.Boxes[k].Height)));
        }
        foreach (var (i, ds) in preds)
            foreach (var d in ds) dets.Add(new CocoDetection(i, d.ClassId, new CocoBox(d.Box.X1, d.Box.Y1, d.Box.Width, d.Box.Height), d.Score));
        double map = new CocoEvaluation(source.Samples.Count, LesionTaxonomy.Classes.Count, truth.ToArray(), dets.ToArray()).Evaluate().MeanAp(0);
        return double.IsNaN(map) ? 0 : map;
    }

    /// <summary>The `eval detector --model RUN_DIR` hook: every detection of a dataset split, in original pixels.</summary>
    public static IReadOnlyList<DetectorPrediction> PredictSplit(string runDir, string dataset, string split)
    {
        using var detector = Detector.Load(runDir);
        var index = DatasetIndex.Load(dataset);
        var images = index.Get(split);
        if (images.Count == 0) throw new InvalidDataException($"{dataset}: no images in split '{split}'");
        var source = new DatasetDetectionSource(dataset, images, detector.Config.MaxSize);
        var result = new List<DetectorPrediction>();
        foreach (var (i, ds) in PredictAll(detector, source, Console.Error))
            foreach (var d in ds)
                result.Add(new DetectorPrediction(images[i].ImageId, d.ClassId, d.Box.X1, d.Box.Y1, d.Box.Width, d.Box.Height, d.Score));
        return result;
    }
}
