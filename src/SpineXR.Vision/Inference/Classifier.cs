// Image-level abnormality inference (VinDr-SpineXR's classifier): batched, eval mode, no_grad,
// input pipeline on worker threads, optional horizontal-flip test-time augmentation (mean of logits).
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using SpineXR.IO;
using SpineXR.Vision.Models;
using SpineXR.Imaging;
using SpineXR.Vision.Preprocessing;
using SpineXR.Vision.Weights;
using TorchSharp;
using static TorchSharp.torch;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Inference;

/// <summary>One image's verdict. <see cref="Logit"/> is NaN and <see cref="Error"/> set when the image could not be read.</summary>
public sealed record ClassifierOutput(string ImageId, double Logit, string? Error = null)
{
    /// <summary>P(abnormal) = sigmoid(logit).</summary>
    public double Probability => 1 / (1 + Math.Exp(-Logit));
    public bool Ok => Error is null;
}

/// <summary>A trained classifier loaded from a run directory (model.json + weights.safetensors).</summary>
public sealed class Classifier : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> _model;

    public ModelCard Card { get; }
    public ClassifierTransform Transform { get; }

    public Classifier(nn.Module<Tensor, Tensor> model, ModelCard card)
    {
        _model = model;
        Card = card;
        Transform = new ClassifierTransform(card.InputSize, card.Mean, card.Std);
        _model.eval();
    }

    /// <summary>Loads <c>RUN_DIR/model.json</c> and <c>RUN_DIR/weights.safetensors</c> (strict).</summary>
    public static Classifier Load(string runDir)
    {
        TorchRuntime.EnsureLoaded();
        var card = ModelCard.Load(runDir, ModelCard.ClassifierTask);
        string path = Path.Combine(runDir, "weights.safetensors");
        var weights = StateDict.Read(path);
        try
        {
            var model = ClassifierArchitectures.Build(card.Architecture, weights);
            StateDict.Load(model, weights, source: path);
            return new Classifier(model, card);
        }
        finally { foreach (var t in weights.Values) t.Dispose(); }
    }

    /// <summary>
    /// Predicts every image, <paramref name="batchSize"/> at a time, decoding on <paramref name="workers"/> threads ahead of the model.
    /// Unreadable images get a prediction with <see cref="ClassifierOutput.Error"/> set; the rest go on.
    /// </summary>
    public IReadOnlyList<ClassifierOutput> Predict(IReadOnlyList<(string ImageId, Func<GrayImage> Load)> images,
        int batchSize = 16, bool hflipTta = false, int workers = 0, Diagnostics.ProgressReporter? progress = null)
    {
        var (logits, failed) = PredictLogits(_model, Transform, images.Select(i => i.Load).ToList(), batchSize, hflipTta, workers, progress);
        return images.Select((im, i) => new ClassifierOutput(im.ImageId, logits[i], failed.TryGetValue(i, out var why) ? why : null)).ToList();
    }

    /// <summary>
    /// Predicts DICOM files (reference 8-bit conversion, stretched to the input size; cached in <paramref name="cacheDirectory"/>
    /// when given). The image id is the file name without extension. Unreadable files come back with an error, never an exception.
    /// </summary>
    public IReadOnlyList<ClassifierOutput> PredictFiles(IReadOnlyList<string> dicomPaths, int batchSize = 16, bool hflipTta = false,
        int workers = 0, string? cacheDirectory = null, Diagnostics.ProgressReporter? progress = null)
    {
        var loader = new ImageLoader(new ImageLoadOptions { Size = Card.InputSize, Mode = ResizeMode.Stretch, Bits = 8 }, cacheDirectory);
        return Predict(dicomPaths.Select(p => (Path.GetFileNameWithoutExtension(p), (Func<GrayImage>)(() => loader.Load(p)))).ToList(),
            batchSize, hflipTta, workers, progress);
    }

    /// <summary>
    /// Eval-mode first-output logits of <paramref name="model"/> for every image (NaN where unreadable, with the reason in
    /// Failed); the module's training flag is restored afterwards. With <paramref name="hflipTta"/>, the mean of the
    /// logits of the image and its mirror.
    /// </summary>
    public static (double[] Logits, IReadOnlyDictionary<int, string> Failed) PredictLogits(nn.Module<Tensor, Tensor> model, ClassifierTransform transform,
        IReadOnlyList<Func<GrayImage>> images, int batchSize = 16, bool hflipTta = false, int workers = 0, Diagnostics.ProgressReporter? progress = null)
    {
        if (batchSize < 1) throw new ArgumentException("must be positive", nameof(batchSize));
        bool wasTraining = model.training;
        model.eval();
        var logits = new double[images.Count];
        Array.Fill(logits, double.NaN);
        var failed = new ConcurrentDictionary<int, string>();
        int s = transform.InputSize;
        var plans = Enumerable.Range(0, (images.Count + batchSize - 1) / batchSize).Select(b =>
            (b, Enumerable.Range(b * batchSize, Math.Min(batchSize, images.Count - b * batchSize)).Select(i => new BatchItem(i, Augmentation.None)).ToArray()));
        try
        {
            using var loader = new BatchLoader(plans, i => images[i](), transform, DefaultWorkers(workers), 2, failed);
            for (var batch = loader.Next(); batch != null; batch = loader.Next())
            {
                if (batch.Count > 0)
                {
                    using var _ = no_grad();
                    using var scope = NewDisposeScope();
                    var x = torch.tensor(batch.Pixels.AsSpan(0, batch.Count * transform.Length).ToArray(), [batch.Count, 3, s, s]);
                    var l = model.call(x)[.., 0]; // (N, classes) -> (N,)
                    if (hflipTta) l = (l + model.call(x.flip(3))[.., 0]) / 2;
                    float[] v = l.contiguous().data<float>().ToArray();
                    for (int j = 0; j < batch.Count; j++) logits[batch.Indices[j]] = v[j];
                }
                progress?.Advance(Math.Min(batchSize, images.Count - batch.Key * batchSize));
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        return (logits, failed);
    }

    /// <summary>Loader threads: half the cores (at least one) unless given.</summary>
    public static int DefaultWorkers(int workers) => workers > 0 ? workers : Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>Writes the classifier predictions CSV of docs/design.md: <c>image_id, abnormal_prob, logit</c> (readable images only), atomically.</summary>
    public static void WritePredictionsCsv(string path, IEnumerable<ClassifierOutput> predictions)
    {
        var sb = new StringBuilder("image_id,abnormal_prob,logit\n");
        foreach (var p in predictions.Where(p => p.Ok))
            sb.Append(p.ImageId).Append(',')
              .Append(p.Probability.ToString("R", CultureInfo.InvariantCulture)).Append(',')
              .Append(p.Logit.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    public void Dispose() => _model.Dispose();
}
