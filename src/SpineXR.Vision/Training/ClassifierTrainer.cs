// Abnormality classifier training (VinDr-SpineXR, section 3.2): one "Abnormal" logit, BCE (or sigmoid
// focal loss), SGD/AdamW with warm-up and multi-step decay, gradient clipping, h-flip augmentation,
// validation AUROC every K steps with the best model kept, resumable checkpoints.
// Determinism: the batch of step s and its augmentations are a pure function of (seed, s), so a
// resumed run sees exactly the data an uninterrupted one would.
using System.Collections.Concurrent;
using System.Text.Json;
using SpineXR.Data;
using SpineXR.Diagnostics;
using SpineXR.Metrics;
using SpineXR.Vision.Inference;
using SpineXR.Vision.Models;
using SpineXR.Vision.Preprocessing;
using SpineXR.Vision.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using SpineXR.Vision.Data;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Training;

/// <summary>What a training run produced.</summary>
public sealed record ClassifierTrainResult(
    int StepsDone,
    int ResumedFrom,
    double BestValAuroc,
    int BestStep,
    double LastLoss,
    double ImagesPerSecond,
    IReadOnlyDictionary<string, string> FailedImages);

/// <summary>Where the data and the configuration came from (recorded in model.json).</summary>
public sealed record TrainingContext(string DataHash, string? DataPath = null, string? Preset = null);

/// <summary>Trains an image-level abnormal/normal classifier into a <see cref="RunDirectory"/>.</summary>
public sealed class ClassifierTrainer(ClassifierTrainConfig config, RunDirectory run, TextWriter? log = null, bool quiet = false)
{
    public ClassifierTrainConfig Config { get; } = config.Validate();

    /// <summary>Stop after this step even if <see cref="ClassifierSolverConfig.Steps"/> is larger (a checkpoint is written); for tests simulating a kill.</summary>
    public int? StopAfterStep { get; init; }

    private TextWriter Log => log ?? (quiet ? TextWriter.Null : Console.Error);

    /// <summary>Splits samples by study into (train, validation) with the split every trainer uses (<see cref="StudySplit"/>).</summary>
    public static (List<ClassifierSample> Train, List<ClassifierSample> Val) SplitByStudy(IReadOnlyList<ClassifierSample> samples, double valFraction, int seed) =>
        StudySplit.Split(samples, s => s.StudyId, valFraction, seed);

    /// <summary>
    /// Trains on <paramref name="train"/> (validating on <paramref name="val"/> when non-empty) with the shared
    /// <see cref="TrainLoop"/>, resuming from <c>RUN_DIR/checkpoint</c> when one exists. Writes model.json,
    /// weights.safetensors, metrics.json, log.csv.
    /// </summary>
    public ClassifierTrainResult Train(IReadOnlyList<ClassifierSample> train, IReadOnlyList<ClassifierSample> val, TrainingContext context)
    {
        if (train.Count == 0) throw new ArgumentException("no training images", nameof(train));
        if (!train.Any(s => s.Abnormal) || train.All(s => s.Abnormal))
            throw new ArgumentException("training images must include both normal and abnormal ones", nameof(train));
        TorchRuntime.EnsureLoaded();
        var (m, s) = (Config.Model, Config.Solver);
        torch.manual_seed(s.Seed);
        var arch = ClassifierArchitectures.Registry.Get(m.Arch);
        using var model = arch.Create(1);
        if (s.Init != null)
        {
            var report = StateDict.LoadFile(model, s.Init, strict: true, skip: k => k.StartsWith(arch.HeadPrefix, StringComparison.Ordinal));
            Log.WriteLine($"initialised from {s.Init}: {report}");
        }
        model.train();
        var parameters = model.parameters().ToList();
        using OptimizerHelper optimizer = s.Optimizer == OptimizerKind.Sgd
            ? torch.optim.SGD(parameters, s.Lr, momentum: s.Momentum, weight_decay: s.WeightDecay)
            : torch.optim.AdamW(parameters, s.Lr, weight_decay: s.WeightDecay);
        var configJson = Config.ToJson();
        var transform = new ClassifierTransform(m.InputSize, m.Mean, m.Std);
        int workers = Classifier.DefaultWorkers(Config.Input.Workers);

        var task = new ClassifierTask(this, model, optimizer, parameters, train, val, transform, workers);
        var hooks = TrainHooks.Standard(new LrSchedule(s.Lr, s.Steps, s.Milestones, s.Gamma, s.WarmupSteps),
            s.EvalEvery, s.LogEvery, s.CheckpointEvery, new ProgressHook("train", quiet ? null : log, quiet));
        var loop = new TrainLoop(task, run, hooks, Log) { UpgradeConfig = saved => ClassifierTrainConfig.FromJson(saved).ToJson() };
        var ctx = loop.Run(configJson, s.Steps, StopAfterStep);
        var state = ctx.State;
        double rate = state.ImagesSeen / Math.Max(1e-9, state.TrainSeconds);
        var failed = new Dictionary<string, string>(task.Failed);
        double lastLoss = ctx.Last.Loss;
        if (!ctx.Finished)
            return new ClassifierTrainResult(state.Step, ctx.ResumedFrom, state.BestMetric, state.BestStep, lastLoss, rate, failed);

        // Finished: the best validated model (or the last one without validation) becomes the run's model.
        if (val.Count == 0 || !File.Exists(run.Weights)) StateDict.SaveSafeTensors(model, run.Weights);
        double threshold = 0.5;
        if (val.Count > 0)
        {
            using var best = arch.Create(1);
            StateDict.LoadFile(best, run.Weights);
            var probs = PredictLogits(best, val, transform, workers).Select(l => 1 / (1 + Math.Exp(-l))).ToArray();
            threshold = YoudenThreshold(probs, val.Select(v => v.Abnormal).ToArray(), threshold);
        }
        var card = new ModelCard(ModelCard.ClassifierTask, m.Arch, ["Abnormal"], m.InputSize, m.Mean, m.Std,
            new Dictionary<string, double> { ["abnormal"] = threshold },
            new Provenance(context.DataHash, configJson, RunDirectory.GitCommit(), DateTime.UtcNow, s.Steps, context.Preset, context.DataPath, s.Init));
        card.Save(run.Root);
        run.WriteMetrics(new
        {
            split = "validation",
            auroc = state.BestMetric,
            best_step = state.BestStep,
            threshold,
            n_images = val.Count,
            n_train_images = train.Count,
            final_loss = lastLoss,
            images_per_second = rate,
            failed_images = failed.Count,
        });
        if (failed.Count > 0)
            SpineXR.IO.AtomicFile.WriteAllText(Path.Combine(run.Root, "failed_images.csv"),
                "image_id,reason\n" + string.Concat(failed.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key},\"{f.Value.Replace("\"", "\"\"")}\"\n")));
        return new ClassifierTrainResult(s.Steps, ctx.ResumedFrom, state.BestMetric, state.BestStep, lastLoss, rate, failed);
    }

    /// <summary>The classifier's half of the train loop: batches from the loader threads, one BCE/focal step, validation AUROC.</summary>
    private sealed class ClassifierTask(ClassifierTrainer trainer, nn.Module<Tensor, Tensor> model, OptimizerHelper optimizer, List<Parameter> parameters,
        IReadOnlyList<ClassifierSample> train, IReadOnlyList<ClassifierSample> val, ClassifierTransform transform, int workers) : ITrainingTask
    {
        private readonly ConcurrentDictionary<string, string> _failed = new(StringComparer.Ordinal);
        private BatchLoader? _loader;

        public nn.Module Model => model;

        public OptimizerHelper Optimizer => optimizer;

        public IReadOnlyList<string> LogColumns { get; } = ["val_auroc", "val_loss"];

        public string Metric => "val_auroc";

        public bool CanEvaluate => val.Count > 0;

        public IReadOnlyDictionary<string, string> Failed => _failed;

        public void Start(int firstStep, int lastStep, IReadOnlyDictionary<string, string> failedBefore)
        {
            var failedIdx = new ConcurrentDictionary<int, string>();
            foreach (var (k, v) in failedBefore) _failed[k] = v;
            for (int i = 0; i < train.Count; i++)
                if (failedBefore.TryGetValue(train[i].ImageId, out var why)) failedIdx[i] = why;
            var plans = Enumerable.Range(firstStep, Math.Max(0, lastStep - firstStep)).Select(s => (s, trainer.PlanStep(train, s)));
            _loader = new BatchLoader(plans, i => train[i].Load(), transform, workers, trainer.Config.Input.Prefetch, failedIdx, (i, why) =>
            {
                if (_failed.TryAdd(train[i].ImageId, why)) trainer.Log.WriteLine($"unreadable image {train[i].ImageId}: {why} (skipped)");
            });
        }

        public StepResult Step(TrainContext context)
        {
            var batch = _loader!.Next() ?? throw new InvalidOperationException($"no batch for step {context.Step}");
            if (batch.Key != context.Step) throw new InvalidOperationException($"batch of step {batch.Key} at step {context.Step}");
            if (batch.Count == 0) return StepResult.Empty;
            using var scope = NewDisposeScope();
            int s0 = transform.InputSize;
            var x = torch.tensor(batch.Pixels.AsSpan(0, batch.Count * transform.Length).ToArray(), [batch.Count, 3, s0, s0]);
            var y = torch.tensor(batch.Indices.Select(i => train[i].Abnormal ? 1f : 0f).ToArray(), [batch.Count, 1]);
            var logits = model.call(x);
            var loss = trainer.LossFor(logits, y);
            optimizer.zero_grad();
            TorchRuntime.Backward(loss);
            if (trainer.Config.Solver.ClipGradNorm > 0) nn.utils.clip_grad_norm_(parameters, trainer.Config.Solver.ClipGradNorm);
            optimizer.step();
            return new StepResult(loss.item<float>(), batch.Count, []);
        }

        public IReadOnlyDictionary<string, double> Evaluate()
        {
            var (auroc, loss) = trainer.Evaluate(model, val, transform, workers);
            return new Dictionary<string, double> { ["val_auroc"] = auroc, ["val_loss"] = loss };
        }

        public void SaveBest(TrainContext context, IReadOnlyDictionary<string, double> evaluation) => StateDict.SaveSafeTensors(model, context.Run.Weights);

        public void Stop() => _loader?.Dispose();
    }

    /// <summary>The items of step <paramref name="step"/>: epoch-wise seeded shuffles, or class-balanced draws; augmentation seeded by step.</summary>
    internal BatchItem[] PlanStep(IReadOnlyList<ClassifierSample> train, int step)
    {
        var (s, input) = (Config.Solver, Config.Input);
        var rng = new Random(StableHash.Seed(s.Seed, "classifier-step", step));
        var items = new BatchItem[s.BatchSize];
        if (input.BalancedSampling)
        {
            var pos = Enumerable.Range(0, train.Count).Where(i => train[i].Abnormal).ToArray();
            var neg = Enumerable.Range(0, train.Count).Where(i => !train[i].Abnormal).ToArray();
            for (int j = 0; j < items.Length; j++)
            {
                var pool = rng.NextDouble() < 0.5 ? pos : neg;
                items[j] = new BatchItem(pool[rng.Next(pool.Length)], default);
            }
        }
        else
        {
            long first = (long)step * s.BatchSize;
            int[]? perm = null; long permEpoch = -1;
            for (int j = 0; j < items.Length; j++)
            {
                long k = first + j;
                long epoch = k / train.Count;
                if (epoch != permEpoch)
                {
                    perm = Enumerable.Range(0, train.Count).ToArray();
                    new Random(StableHash.Seed(s.Seed, "classifier-epoch", epoch)).Shuffle(perm);
                    permEpoch = epoch;
                }
                items[j] = new BatchItem(perm![k % train.Count], default);
            }
        }
        for (int j = 0; j < items.Length; j++)
            items[j] = items[j] with { Augmentation = ClassifierTransform.Draw(rng, input.HFlip, input.RotationDegrees, input.BrightnessContrast) };
        return items;
    }

    internal Tensor LossFor(Tensor logits, Tensor targets)
    {
        var m = Config.Model;
        if (m.Loss == LossKind.Bce) return nn.functional.binary_cross_entropy_with_logits(logits, targets);
        // torchvision.ops.sigmoid_focal_loss with mean reduction.
        var p = logits.sigmoid();
        var ce = nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction: nn.Reduction.None);
        var pt = p * targets + (1 - p) * (1 - targets);
        var loss = ce * (1 - pt).pow(m.FocalGamma);
        if (m.FocalAlpha >= 0) loss = (m.FocalAlpha * targets + (1 - m.FocalAlpha) * (1 - targets)) * loss;
        return loss.mean();
    }

    internal (double Auroc, double Loss) Evaluate(nn.Module<Tensor, Tensor> model, IReadOnlyList<ClassifierSample> val, ClassifierTransform transform, int workers)
    {
        var logits = PredictLogits(model, val, transform, workers);
        var ok = Enumerable.Range(0, val.Count).Where(i => !double.IsNaN(logits[i])).ToArray();
        var scores = ok.Select(i => logits[i]).ToArray();
        var labels = ok.Select(i => val[i].Abnormal).ToArray();
        double loss = ok.Length == 0 ? double.NaN : ok.Average(i =>
        {
            double l = logits[i], y = val[i].Abnormal ? 1 : 0;
            return Math.Max(l, 0) - l * y + Math.Log(1 + Math.Exp(-Math.Abs(l))); // BCE with logits, stable form
        });
        double auroc = labels.Distinct().Count() == 2 ? Roc.Auroc(scores, labels) : double.NaN;
        return (auroc, loss);
    }

    private static double[] PredictLogits(nn.Module<Tensor, Tensor> model, IReadOnlyList<ClassifierSample> samples, ClassifierTransform transform, int workers) =>
        Classifier.PredictLogits(model, transform, samples.Select(s => s.Load).ToList(), 16, false, workers).Logits;

    private static double YoudenThreshold(double[] probs, bool[] labels, double fallback)
    {
        var ok = Enumerable.Range(0, probs.Length).Where(i => !double.IsNaN(probs[i])).ToArray();
        var p = ok.Select(i => probs[i]).ToArray();
        var y = ok.Select(i => labels[i]).ToArray();
        if (y.Distinct().Count() < 2) return fallback;
        var curve = Roc.Curve(p, y);
        double t = curve.Thresholds[curve.YoudenIndex()];
        return double.IsFinite(t) ? Math.Clamp(t, 0, 1) : fallback;
    }
}
