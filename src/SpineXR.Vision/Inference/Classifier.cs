// Image-level abnormality inference (VinDr-SpineXR's classifier): batched, eval mode, no_grad,
// input pipeline on worker threads, optional horizontal-flip test-time augmentation (mean of logits).
// The model runs on libtorch (the TorchSharp module) or ONNX Runtime (the run's exported model.onnx, docs/onnx.md);
// batching, decoding and TTA are shared, each engine only maps a batch of normalised pixels to first-class logits.
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using SpineXR.IO;
using SpineXR.Vision.Models;
using SpineXR.Vision.Onnx;
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
    private readonly nn.Module<Tensor, Tensor>? _model;
    private readonly OnnxClassifierSession? _onnx;

    public ModelCard Card { get; }
    public ClassifierTransform Transform { get; }

    /// <summary>The engine that runs the model.</summary>
    public InferenceBackend Backend => _onnx is null ? InferenceBackend.Libtorch : InferenceBackend.Onnx;

    public Classifier(nn.Module<Tensor, Tensor> model, ModelCard card)
    {
        _model = model;
        Card = card;
        Transform = new ClassifierTransform(card.InputSize, card.Mean, card.Std);
        _model.eval();
    }

    /// <summary>Takes ownership of an ONNX Runtime session of the card's exported model.</summary>
    public Classifier(OnnxClassifierSession onnx, ModelCard card)
    {
        _onnx = onnx;
        Card = card;
        Transform = new ClassifierTransform(card.InputSize, card.Mean, card.Std);
    }

    /// <summary>
    /// Loads <c>RUN_DIR/model.json</c> and, on libtorch, <c>RUN_DIR/weights.safetensors</c> (strict); on ONNX Runtime,
    /// <c>RUN_DIR/model.onnx</c>, checked against the weights' SHA-256 (<see cref="OnnxRunModel.Open"/>).
    /// </summary>
    public static Classifier Load(string runDir, InferenceEngine? engine = null)
    {
        engine = (engine ?? InferenceEngine.Default).Validate();
        var card = ModelCard.Load(runDir, ModelCard.ClassifierTask);
        if (engine.Backend == InferenceBackend.Onnx)
            return new Classifier(OnnxClassifierSession.Open(runDir, engine.Device, card.InputSize), card);
        TorchRuntime.EnsureLoaded();
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
        var loads = images.Select(i => i.Load).ToList();
        var (logits, failed) = _onnx is { } onnx
            ? PredictLogits(onnx.FirstLogits, Transform, loads, batchSize, hflipTta, workers, progress)
            : PredictLogits(_model!, Transform, loads, batchSize, hflipTta, workers, progress);
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
        bool wasTraining = model.training;
        model.eval();
        try { return PredictLogits(TorchForward(model, transform.InputSize), transform, images, batchSize, hflipTta, workers, progress); }
        finally
        {
            if (wasTraining) model.train();
        }
    }

    /// <summary>One engine's forward: first-class logits of the first <c>count</c> images of an NCHW pixel buffer.</summary>
    private delegate float[] BatchForward(float[] pixels, int count);

    /// <summary>The libtorch forward of an eval-mode module, under no_grad, every tensor disposed before it returns.</summary>
    private static BatchForward TorchForward(nn.Module<Tensor, Tensor> model, int s) => (pixels, count) =>
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var x = torch.tensor(pixels.AsSpan(0, count * 3 * s * s).ToArray(), [count, 3, s, s]);
        var l = model.call(x)[.., 0]; // (N, classes) -> (N,)
        return l.contiguous().data<float>().ToArray();
    };

    private static (double[] Logits, IReadOnlyDictionary<int, string> Failed) PredictLogits(BatchForward forward, ClassifierTransform transform,
        IReadOnlyList<Func<GrayImage>> images, int batchSize, bool hflipTta, int workers, Diagnostics.ProgressReporter? progress)
    {
        if (batchSize < 1) throw new ArgumentException("must be positive", nameof(batchSize));
        var logits = new double[images.Count];
        Array.Fill(logits, double.NaN);
        var failed = new ConcurrentDictionary<int, string>();
        int s = transform.InputSize;
        var plans = Enumerable.Range(0, (images.Count + batchSize - 1) / batchSize).Select(b =>
            (b, Enumerable.Range(b * batchSize, Math.Min(batchSize, images.Count - b * batchSize)).Select(i => new BatchItem(i, Augmentation.None)).ToArray()));
        using var loader = new BatchLoader(plans, i => images[i](), transform, DefaultWorkers(workers), 2, failed);
        for (var batch = loader.Next(); batch != null; batch = loader.Next())
        {
            if (batch.Count > 0)
            {
                float[] v = forward(batch.Pixels, batch.Count);
                if (hflipTta)
                {
                    float[] mirrored = forward(FlipWidth(batch.Pixels, batch.Count * 3, s), batch.Count);
                    for (int j = 0; j < v.Length; j++) v[j] = (v[j] + mirrored[j]) / 2;
                }
                for (int j = 0; j < batch.Count; j++) logits[batch.Indices[j]] = v[j];
            }
            progress?.Advance(Math.Min(batchSize, images.Count - batch.Key * batchSize));
        }
        return (logits, failed);
    }

    /// <summary>A copy of the first <paramref name="planes"/> S x S planes, each row reversed (horizontal flip).</summary>
    private static float[] FlipWidth(float[] pixels, int planes, int s)
    {
        var flipped = new float[planes * s * s];
        for (int row = 0; row < planes * s; row++)
        {
            var dst = flipped.AsSpan(row * s, s);
            pixels.AsSpan(row * s, s).CopyTo(dst);
            dst.Reverse();
        }
        return flipped;
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

    public void Dispose()
    {
        _model?.Dispose();
        _onnx?.Dispose();
    }
}
