using SpineXR.Data;
using SpineXR.Inference;

namespace SpineXR.Web.Tests;

/// <summary>
/// A predictor with known answers: three boxes (classes 0, 3, 5; scores 0.9, 0.6, 0.3) placed relative to the image
/// size (original pixels, as the real pipeline), P(abnormal) from the image's mean brightness. Counts calls and the most calls seen running at once.
/// </summary>
public sealed class FakePredictor : ISpinePredictor
{
    private int _running;
    private int _maxRunning;
    private int _calls;

    /// <summary>Work per image, to make requests overlap.</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>When set, Predict blocks until it is released (queue tests).</summary>
    public SemaphoreSlim? Gate { get; init; }

    /// <summary>What <see cref="MaxInputShrink"/> answers (1: full size, as the interface's default).</summary>
    public double Shrink { get; init; } = 1;

    public double MaxInputShrink(int width, int height) => Shrink;

    public int Calls => Volatile.Read(ref _calls);

    /// <summary>The last image predicted, as the models received it.</summary>
    public SpineImage? LastImage { get; private set; }
    public int MaxRunning => Volatile.Read(ref _maxRunning);

    public PredictionProvenance Provenance { get; } = new()
    {
        Classifiers = ["runs/fake-classifier"], Detectors = ["runs/fake-detector"],
        AbnormalThreshold = 0.28, KeepThreshold = 0.5, Tta = false,
    };

    public static readonly (int ClassId, float Score, float X1, float Y1, float X2, float Y2)[] Boxes =
    [
        (0, 0.9f, 0.10f, 0.10f, 0.40f, 0.30f),
        (3, 0.6f, 0.50f, 0.40f, 0.90f, 0.60f),
        (5, 0.3f, 0.20f, 0.70f, 0.60f, 0.90f),
    ];

    public IReadOnlyList<ImagePrediction> Predict(IReadOnlyList<SpineImage> batch, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        LastImage = batch[^1];
        int now = Interlocked.Increment(ref _running);
        int seen;
        while (now > (seen = Volatile.Read(ref _maxRunning)) && Interlocked.CompareExchange(ref _maxRunning, now, seen) != seen) { }
        try
        {
            Gate?.Wait(cancellationToken);
            if (Delay > TimeSpan.Zero) Thread.Sleep(Delay);
            return batch.Select(img =>
            {
                long sum = 0;
                foreach (byte b in img.Gray8) sum += b;
                double p = Math.Clamp(sum / (255.0 * img.Gray8.Length) + 0.3, 0, 1);
                return new ImagePrediction
                {
                    File = img.File, ImageId = img.ImageId,
                    StudyInstanceUid = img.StudyInstanceUid, SeriesInstanceUid = img.SeriesInstanceUid, SopInstanceUid = img.SopInstanceUid,
                    Width = img.OriginalWidth, Height = img.OriginalHeight,
                    AbnormalProbability = p, Logit = Math.Log(p / (1 - p + 1e-12) + 1e-12),
                    Verdict = p >= Provenance.AbnormalThreshold ? "abnormal" : "normal",
                    Boxes = Boxes.Select(b => new PredictedBox(LesionTaxonomy.Classes[b.ClassId], b.ClassId, b.Score,
                        [b.X1 * img.OriginalWidth, b.Y1 * img.OriginalHeight, b.X2 * img.OriginalWidth, b.Y2 * img.OriginalHeight])).ToList(),
                    // What the decision rule dropped: one more, low-scoring box.
                    DetectorBoxes = Boxes.Append((6, 0.05f, 0.7f, 0.05f, 0.95f, 0.2f)).Select(b => new PredictedBox(LesionTaxonomy.Classes[b.Item1], b.Item1, b.Item2,
                        [b.Item3 * img.OriginalWidth, b.Item4 * img.OriginalHeight, b.Item5 * img.OriginalWidth, b.Item6 * img.OriginalHeight])).ToList(),
                };
            }).ToList();
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    public void Dispose() { }
}
