// The detector training loop (torchvision's detection reference recipe): SGD with momentum and weight decay, linear
// warm-up then step decay, gradient clipping, repeat-factor sampling, augmentation, mAP@0.5 on a validation split every
// EvalEvery steps with the best model kept, resumable checkpoints (model, optimizer, position), log.csv.
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SpineXR.Boxes;
using SpineXR.Data;
using SpineXR.Diagnostics;
using SpineXR.IO;
using SpineXR.Metrics;
using SpineXR.Vision.Detection.Inference;
using SpineXR.Vision.Training;
using SpineXR.Vision.Weights;
using TorchSharp;
using static TorchSharp.torch;
using SpineXR.Vision.Data;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Detection.Training;

/// <summary>How a training run ended.</summary>
public sealed record DetectorTrainResult(int Steps, bool Finished, double BestMap50, int BestStep, double ImagesPerSecond, IReadOnlyList<string> FailedImages);

/// <summary>Trains a detector into a run directory; resumes from its checkpoint when one exists.</summary>
public sealed class DetectorTrainer
{
    private readonly DetectorTrainConfig _c;
    private readonly IDetectionDataSource _train;
    private readonly IDetectionDataSource? _val;
    private readonly string _runDir;
    private readonly TextWriter _log;
    private readonly IReadOnlyList<string> _classes = LesionTaxonomy.Classes;

    /// <summary>torchvision weights to start from (COCO detector or ImageNet ResNet); ignored when resuming.</summary>
    public string? InitWeights { get; init; }

    /// <summary>Stop after this step even if MaxIters is larger (a checkpoint is written); for tests simulating a kill.</summary>
    public int? StopAfterStep { get; init; }

    /// <summary>Show a progress bar (on a terminal) or plain lines.</summary>
    public bool ShowProgress { get; init; } = true;

    public DetectorTrainer(DetectorTrainConfig config, IDetectionDataSource train, IDetectionDataSource? val, string runDir, TextWriter? log = null)
    {
        _c = config.Validate();
        _train = train;
        _val = val;
        _runDir = runDir;
        _log = log ?? Console.Error;
    }

    internal sealed record Cached(GrayImageF Image, BoxF[] Boxes, int[] Classes);

    /// <summary>The learning rate: the shared schedule with this configuration's warm-up, decay steps and time budget.</summary>
    public LrSchedule Schedule => new(_c.Solver.Lr, _c.Solver.Steps, _c.Solver.Gamma, _c.Solver.WarmupIters, _c.Solver.WarmupFactor, _c.Solver.MaxIters, _c.Solver.MaxMinutes);

    /// <summary>Learning rate of <paramref name="step"/> after <paramref name="elapsedMinutes"/> of training (<see cref="Schedule"/>).</summary>
    public double LearningRate(int step, double elapsedMinutes = 0) => Schedule.At(step, elapsedMinutes);

    /// <summary>Learning-rate decays that have fallen by this step or this share of the time budget.</summary>
    public int DecaysPassed(int step, double elapsedMinutes) => Schedule.DecaysPassed(step, elapsedMinutes);

    /// <summary>Trains with the shared <see cref="TrainLoop"/> until MaxIters, the time budget or <paramref name="cancel"/>.</summary>
    public DetectorTrainResult Run(CancellationToken cancel = default)
    {
        TorchRuntime.EnsureLoaded();
        var (model, solver, input) = (_c.Model, _c.Solver, _c.Input);
        if (solver.Threads > 0) torch.set_num_threads(solver.Threads);
        var run = new RunDirectory(_runDir);

        // Images stream from the source (the data layer's on-disk cache) as batches need them; only the annotations
        // stay in memory, so memory does not grow with the dataset (docs/training.md "Data loading").
        var failed = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var train = new ImageStream(_train, Enumerable.Range(0, _train.Samples.Count).Where(i => input.IncludeEmpty || _train.Samples[i].Boxes.Length > 0).ToArray(), input.MinSizes.Max(), failed, _log);
        var val = new ImageStream(_val, _val is null ? [] : Enumerable.Range(0, _val.Samples.Count).ToArray(), model.MinSize, failed, _log);
        if (train.Count == 0) throw new InvalidOperationException("no trainable images (none has boxes)");
        _log.WriteLine($"train images {train.Count}, validation images {val.Count}");

        torch.manual_seed(solver.Seed);
        var arch = DetectorRegistry.Get(model.Arch);
        using var module = arch.Build(model, _classes.Count, input.MinSizes);
        var parameters = module.parameters().Where(p => p.requires_grad).ToList();
        using TorchSharp.Modules.OptimizerHelper opt = arch.Optimizer(parameters, solver);
        if (InitWeights is not null && Checkpoint.LatestStep(run.CheckpointDir) is null)
            _log.WriteLine(arch.Init(module, InitWeights));

        string dataHash = DataHash(_train.Samples);
        var sampler = new RepeatFactorSampler(train.Indices.Select(i => _train.Samples[i].Classes).ToList(), _classes.Count, input.RepeatThreshold);
        var task = new DetectorTask(this, module, opt, parameters, train, val, sampler, dataHash, failed);
        var hooks = TrainHooks.Standard(Schedule, solver.EvalEvery, solver.LogEvery, solver.CheckpointEvery,
            new ProgressHook("train detector", _log, quiet: !ShowProgress, solver.MaxMinutes), solver.MaxMinutes, elapsedColumn: true);
        var loop = new TrainLoop(task, run, hooks, _log) { UpgradeConfig = saved => DetectorTrainConfig.FromJson(saved).ToJson() };
        var ctx = loop.Run(_c.ToJson(), solver.MaxIters, StopAfterStep, cancel);

        var state = ctx.State;
        // nothing to select with: the last weights are the model
        if (!task.CanEvaluate || double.IsNaN(state.BestMetric)) SaveModel(module, dataHash, double.NaN);
        return new DetectorTrainResult(state.Step, ctx.Finished, double.IsNaN(state.BestMetric) ? -1 : state.BestMetric, state.BestStep,
            state.ImagesSeen / Math.Max(1e-9, state.TrainSeconds),
            failed.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}: {f.Value}").ToList());
    }

    /// <summary>The detector's half of the train loop: augmented batches prepared one step ahead, the model's own losses, validation mAP@0.5.</summary>
    private sealed class DetectorTask(DetectorTrainer trainer, nn.Module module, TorchSharp.Modules.OptimizerHelper optimizer, List<TorchSharp.Modules.Parameter> parameters,
        ImageStream train, ImageStream val, RepeatFactorSampler sampler, string dataHash, ConcurrentDictionary<string, string> failed) : ITrainingTask
    {
        private Task<List<Cached>>? _next;
        private int _lastStep;

        public nn.Module Model => module;

        public TorchSharp.Modules.OptimizerHelper Optimizer => optimizer;

        public IReadOnlyList<string> LogColumns { get; } = ["val_map50"];

        public string Metric => "val_map50";

        public bool CanEvaluate => val.Count > 0;

        public IReadOnlyDictionary<string, string> Failed => failed;

        public void Start(int firstStep, int lastStep, IReadOnlyDictionary<string, string> failedBefore)
        {
            foreach (var (k, v) in failedBefore) failed.TryAdd(k, v);
            _lastStep = lastStep;
            // Batches are built from (seed, step) alone so a resumed run sees the same data and augmentation.
            if (firstStep < lastStep) _next = Task.Run(() => trainer.MakeBatch(train, sampler, firstStep));
        }

        public StepResult Step(TrainContext context)
        {
            int step = context.Step;
            var batch = _next!.Result;
            _next = step + 1 < _lastStep ? Task.Run(() => trainer.MakeBatch(train, sampler, step + 1)) : null;
            if (train.AllFailed) throw new InvalidOperationException($"no trainable images: all {train.Count} failed to load");
            var c = trainer._c;
            DetectorRegistry.Get(c.Model.Arch).BeforeStep(module, c.Model, trainer.DecaysPassed(step, context.ElapsedSeconds / 60));
            module.train();
            if (batch.Count == 0) return StepResult.Empty;
            var model = (IObjectDetector)module;
            using var scope = NewDisposeScope();
            var images = batch.Select(b => DetectorTensor.FromGray(b.Image)).ToList();
            var targets = batch.Select(b => ToTarget(b, model.FirstClassLabel)).ToList();
            var losses = model.Losses(images, targets, new Random(StableHash.Seed(c.Solver.Seed, "loss", step, 0)));
            var total = losses.Values.Aggregate((a, b) => a + b);
            optimizer.zero_grad();
            TorchRuntime.Backward(total);
            if (c.Solver.ClipGradNorm > 0) nn.utils.clip_grad_norm_(parameters, c.Solver.ClipGradNorm);
            optimizer.step();
            var terms = losses.Select(kv => KeyValuePair.Create(kv.Key.StartsWith("loss", StringComparison.Ordinal) ? kv.Key : "loss_" + kv.Key, (double)kv.Value.item<float>())).ToList();
            return new StepResult(total.item<float>(), batch.Count, terms);
        }

        public IReadOnlyDictionary<string, double> Evaluate() => new Dictionary<string, double> { ["val_map50"] = trainer.Evaluate(module, val) };

        public void SaveBest(TrainContext context, IReadOnlyDictionary<string, double> evaluation) => trainer.SaveModel(module, dataHash, evaluation["val_map50"]);

        public void Stop()
        {
            // let a batch being prepared finish before the caller disposes anything it reads
            try { _next?.Wait(); }
            catch (AggregateException) { }
        }
    }

    internal List<Cached> MakeBatch(ImageStream train, RepeatFactorSampler sampler, int step)
    {
        // position in the stream of epochs: epoch e is a seeded shuffle; step s takes items [s*B, (s+1)*B)
        var (solver, input) = (_c.Solver, _c.Input);
        long start = (long)step * solver.BatchSize;
        var picks = new int[solver.BatchSize];
        int epoch = 0;
        long offset = 0;
        List<int> order = sampler.Epoch(new Random(StableHash.Seed(solver.Seed, "epoch", epoch, 0)));
        for (int j = 0; j < picks.Length; j++)
        {
            long pos = start + j;
            while (pos >= offset + order.Count)
            {
                offset += order.Count;
                epoch++;
                order = sampler.Epoch(new Random(StableHash.Seed(solver.Seed, "epoch", epoch, 0)));
            }
            picks[j] = order[(int)(pos - offset)];
        }
        var loaded = train.Load(picks);
        var result = new List<Cached>(solver.BatchSize);
        for (int j = 0; j < picks.Length; j++)
        {
            // an image that failed to load leaves its place empty; the others keep their augmentation seeds
            if (loaded[j] is not { } item) continue;
            var rng = new Random(StableHash.Seed(solver.Seed, "augment", step, j));
            var (img, boxes, cls) = DetectionAugment.Apply(item.Image, item.Boxes, item.Classes, input, rng);
            result.Add(new Cached(img, boxes, cls));
        }
        return result;
    }

    /// <summary>Boxes (K, 4) and labels (K); K may be 0 (an augmentation can move every box out; TorchSharp cannot wrap an empty array).</summary>
    private static DetectionTarget ToTarget(Cached b, int firstLabel)
    {
        if (b.Boxes.Length == 0) return new DetectionTarget(zeros(0, 4), zeros(0, ScalarType.Int64));
        return new DetectionTarget(
            tensor(b.Boxes.SelectMany(x => new[] { x.X1, x.Y1, x.X2, x.Y2 }).ToArray()).view(-1, 4),
            tensor(b.Classes.Select(c => (long)(c + firstLabel)).ToArray(), ScalarType.Int64));
    }

    internal double Evaluate(nn.Module module, ImageStream val)
    {
        var detector = new Detector(_c.Model, _classes, module) { Tta = false };
        var truth = new List<CocoTruth>();
        var dets = new List<CocoDetection>();
        // a few images at a time, so validation memory does not grow with the validation set; a whole number of the
        // detector's batches, so images are paired (and padded) as in one call over the whole set
        int chunk = 4 * detector.BatchSize;
        int n = 0;
        for (int first = 0; first < val.Count; first += chunk)
        {
            var images = val.Load(Enumerable.Range(first, Math.Min(chunk, val.Count - first)).ToArray()).OfType<Cached>().ToList();
            var preds = detector.Predict(images.Select(v => v.Image).ToList());
            for (int i = 0; i < images.Count; i++, n++)
            {
                float inv = 1f / images[i].Image.Scale;
                for (int k = 0; k < images[i].Boxes.Length; k++)
                {
                    var b = images[i].Boxes[k];
                    truth.Add(new CocoTruth(n, images[i].Classes[k], new CocoBox(b.X1 * inv, b.Y1 * inv, b.Width * inv, b.Height * inv)));
                }
                foreach (var d in preds[i])
                    dets.Add(new CocoDetection(n, d.ClassId, new CocoBox(d.Box.X1, d.Box.Y1, d.Box.Width, d.Box.Height), d.Score));
            }
        }
        var map = new CocoEvaluation(n, _classes.Count, truth.ToArray(), dets.ToArray()).Evaluate().MeanAp(0);
        module.train();
        return double.IsNaN(map) ? 0 : map;
    }

    internal void SaveModel(nn.Module module, string dataHash, double map)
    {
        StateDict.SaveSafeTensors(module, Path.Combine(_runDir, "weights.safetensors"));
        Card(_c, _classes, dataHash, double.IsNaN(map) ? null : new Dictionary<string, double> { ["val_map50"] = map }).Save(_runDir);
    }

    /// <summary>
    /// The detector's model.json: config.model rebuilds the network (all that loading reads), config.solver and
    /// config.input record how it was trained; input and normalisation describe its feed.
    /// </summary>
    public static ModelCard Card(DetectorTrainConfig config, IReadOnlyList<string> classes, string dataHash, Dictionary<string, double>? metrics) =>
        new(ModelCard.DetectionTask, ArchitectureName(config), classes.ToArray(), 0, null!, null!, null!, null!)
        {
            LabelOffset = DetectorRegistry.Get(config.Model.Arch).LabelOffset,
            Input = new DetectorInput(config.Model.MinSize, config.Model.MaxSize),
            Normalisation = new Normalisation([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
            Config = config.ToJson(),
            Training = new TrainingRecord(dataHash, RunDirectory.GitCommit(), DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture)),
            Metrics = metrics,
        };

    /// <summary>torchvision-style name of the configured network, e.g. fasterrcnn_resnet18_fpn or efficientdet_d0 (<see cref="DetectorRegistry"/>).</summary>
    public static string ArchitectureName(DetectorTrainConfig c) => DetectorRegistry.Get(c.Model.Arch).CardName(c.Model);

    /// <summary>
    /// Some images of a source, loaded when asked for (in parallel, scaled to a short side, boxes scaled with them).
    /// An image that fails is reported once, remembered, and not tried again.
    /// </summary>
    internal sealed class ImageStream(IDetectionDataSource? src, int[] indices, int maxShort, ConcurrentDictionary<string, string> failed, TextWriter log)
    {
        private int _failedHere;

        /// <summary>Source indices, in order; position k of this stream is source image Indices[k].</summary>
        public int[] Indices => indices;

        public int Count => indices.Length;

        public bool AllFailed => Count > 0 && Volatile.Read(ref _failedHere) >= Count;

        /// <summary>The images at <paramref name="positions"/>; null where one failed to load.</summary>
        public Cached?[] Load(int[] positions)
        {
            var result = new Cached?[positions.Length];
            Parallel.For(0, positions.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) }, j =>
            {
                int i = indices[positions[j]];
                var s = src!.Samples[i];
                if (failed.ContainsKey(s.ImageId)) return;
                try
                {
                    var img = src.Load(i, maxShort);
                    var boxes = s.Boxes.Select(b => new BoxF(b.X1 * img.Scale, b.Y1 * img.Scale, b.X2 * img.Scale, b.Y2 * img.Scale)).ToArray();
                    result[j] = new Cached(img, boxes, s.Classes);
                }
                catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or FormatException or NotSupportedException or ArgumentException)
                {
                    if (failed.TryAdd(s.ImageId, e.Message))
                    {
                        Interlocked.Increment(ref _failedHere);
                        lock (log) log.WriteLine($"skipped {s.ImageId}: {e.Message}");
                    }
                }
            });
            return result;
        }
    }

    private static string DataHash(IReadOnlyList<DetectionSample> samples)
    {
        var sb = new StringBuilder();
        foreach (var s in samples)
        {
            sb.Append(s.ImageId);
            foreach (var b in s.Boxes) sb.Append(CultureInfo.InvariantCulture, $"|{b.X1},{b.Y1},{b.X2},{b.Y2}");
            sb.Append('\n');
        }
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..16].ToLowerInvariant();
    }
}
