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
public sealed class ClassifierTrainer(ClassifierConfig config, RunDirectory run, TextWriter? log = null, bool quiet = false)
{
    private static readonly string[] LogColumns = ["step", "loss", "lr", "img_per_s", "val_auroc", "val_loss"];

    public ClassifierConfig Config { get; } = config.Validate();

    /// <summary>Stop after this step even if <see cref="ClassifierConfig.Steps"/> is larger (a checkpoint is written); for tests simulating a kill.</summary>
    public int? StopAfterStep { get; init; }

    private TextWriter Log => log ?? (quiet ? TextWriter.Null : Console.Error);

    private sealed record State(int Step, double BestAuroc, int BestStep, List<Dictionary<string, double>> Rows, Dictionary<string, string> Failed, JsonElement Config);

    /// <summary>Splits samples by study into (train, validation): a seeded shuffle of study ids, the first fraction held out.</summary>
    public static (List<ClassifierSample> Train, List<ClassifierSample> Val) SplitByStudy(IReadOnlyList<ClassifierSample> samples, double valFraction, int seed)
    {
        if (valFraction <= 0) return (samples.ToList(), []);
        var studies = samples.Select(s => s.StudyId).Distinct().OrderBy(s => s, StringComparer.Ordinal).ToArray();
        new Random(seed).Shuffle(studies);
        int nVal = (int)Math.Ceiling(studies.Length * valFraction);
        var val = studies.Take(nVal).ToHashSet(StringComparer.Ordinal);
        return (samples.Where(s => !val.Contains(s.StudyId)).ToList(), samples.Where(s => val.Contains(s.StudyId)).ToList());
    }

    /// <summary>
    /// Trains on <paramref name="train"/> (validating on <paramref name="val"/> when non-empty), resuming from
    /// <c>RUN_DIR/checkpoint</c> when one exists. Writes model.json, weights.safetensors, metrics.json, log.csv.
    /// </summary>
    public ClassifierTrainResult Train(IReadOnlyList<ClassifierSample> train, IReadOnlyList<ClassifierSample> val, TrainingContext context)
    {
        if (train.Count == 0) throw new ArgumentException("no training images", nameof(train));
        if (!train.Any(s => s.Abnormal) || train.All(s => s.Abnormal))
            throw new ArgumentException("training images must include both normal and abnormal ones", nameof(train));
        TorchRuntime.EnsureLoaded();
        var c = Config;
        torch.manual_seed(c.Seed);
        using var model = ClassifierArchitectures.Create(c.Arch, 1);
        string? initReport = null;
        if (c.Init != null)
        {
            string head = ClassifierArchitectures.HeadPrefix(c.Arch);
            var report = StateDict.LoadFile(model, c.Init, strict: true, skip: k => k.StartsWith(head, StringComparison.Ordinal));
            initReport = $"initialised from {c.Init}: {report}";
            Log.WriteLine(initReport);
        }
        model.train();
        var parameters = model.parameters().ToList();
        OptimizerHelper optimizer = c.Optimizer == OptimizerKind.Sgd
            ? torch.optim.SGD(parameters, c.Lr, momentum: c.Momentum, weight_decay: c.WeightDecay)
            : torch.optim.AdamW(parameters, c.Lr, weight_decay: c.WeightDecay);
        var schedule = new LrSchedule(c.Lr, c.Steps, c.Milestones, c.Gamma, c.WarmupSteps);
        var configJson = JsonSerializer.SerializeToElement(c, ConfigBinder.Json);

        var state = new State(0, double.NaN, 0, [], [], configJson);
        var resumed = Checkpoint.Load(run.CheckpointDir, model, optimizer);
        if (resumed is { } r)
        {
            var saved = r.TrainerState.Deserialize<State>(ConfigBinder.Json) ?? throw new InvalidDataException($"{run.CheckpointDir}: empty trainer state");
            if (Compact(saved.Config) != Compact(configJson))
                throw new InvalidOperationException($"{run.Root} holds a checkpoint of a different configuration; use another --out or delete its checkpoint/ folder");
            state = saved with { Step = r.Step };
            Log.WriteLine($"resuming from step {r.Step} ({run.CheckpointDir})");
        }
        int resumedFrom = state.Step;
        var failedIdx = new ConcurrentDictionary<int, string>();
        var failedNames = new ConcurrentDictionary<string, string>(state.Failed);
        void OnFailure(IReadOnlyList<ClassifierSample> set, int i, string why)
        {
            if (failedNames.TryAdd(set[i].ImageId, why)) Log.WriteLine($"unreadable image {set[i].ImageId}: {why} (skipped)");
        }
        foreach (var (i, s) in train.Select((s, i) => (i, s)))
            if (state.Failed.TryGetValue(s.ImageId, out var why)) failedIdx[i] = why;

        var transform = new ClassifierTransform(c.InputSize, c.Mean, c.Std);
        int workers = Classifier.DefaultWorkers(c.Workers);
        int lastStep = Math.Min(c.Steps, StopAfterStep ?? int.MaxValue);
        var plans = Enumerable.Range(state.Step, Math.Max(0, lastStep - state.Step)).Select(s => (s, PlanStep(train, s)));
        int s0 = c.InputSize;

        var scalars = new ScalarLog(run.Root);
        double lossSum = 0; int lossN = 0; double lastLoss = double.NaN;
        var sinceLog = System.Diagnostics.Stopwatch.StartNew();
        int imagesSinceLog = 0;
        long imagesTotal = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var progress = new ProgressReporter("train", (long)(lastStep - state.Step) * c.BatchSize, quiet ? null : log, quiet))
        using (var loader = new BatchLoader(plans, i => train[i].Load(), transform, workers, c.Prefetch, failedIdx, (i, why) => OnFailure(train, i, why)))
        {
            for (var batch = loader.Next(); batch != null; batch = loader.Next())
            {
                int step = batch.Key;
                double lr = schedule.At(step);
                foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
                if (batch.Count > 0)
                {
                    using var scope = NewDisposeScope();
                    var x = torch.tensor(batch.Pixels.AsSpan(0, batch.Count * transform.Length).ToArray(), [batch.Count, 3, s0, s0]);
                    var y = torch.tensor(batch.Indices.Select(i => train[i].Abnormal ? 1f : 0f).ToArray(), [batch.Count, 1]);
                    var logits = model.call(x);
                    var loss = LossFor(logits, y);
                    optimizer.zero_grad();
                    TorchRuntime.Backward(loss);
                    if (c.ClipGradNorm > 0) nn.utils.clip_grad_norm_(parameters, c.ClipGradNorm);
                    optimizer.step();
                    lastLoss = loss.item<float>();
                    if (!double.IsFinite(lastLoss)) throw new InvalidOperationException($"loss became {lastLoss} at step {step + 1}; lower lr (now {lr:G3})");
                    lossSum += lastLoss; lossN++;
                }
                int done = step + 1;
                imagesSinceLog += batch.Count;
                imagesTotal += batch.Count;
                progress.SetStatus($"step {done}/{c.Steps} loss {lastLoss:F4} lr {lr:G3}");
                progress.Advance(c.BatchSize);

                bool evalNow = val.Count > 0 && (done % c.EvalEvery == 0 || done == c.Steps);
                if (done % c.LogEvery == 0 || evalNow || done == lastStep)
                {
                    var row = new Dictionary<string, double>
                    {
                        ["step"] = done, ["loss"] = lossN > 0 ? lossSum / lossN : double.NaN, ["lr"] = lr,
                        ["img_per_s"] = imagesSinceLog / Math.Max(1e-9, sinceLog.Elapsed.TotalSeconds),
                    };
                    lossSum = 0; lossN = 0; imagesSinceLog = 0; sinceLog.Restart();
                    if (evalNow)
                    {
                        var (auroc, vloss) = Evaluate(model, val, transform, workers);
                        row["val_auroc"] = auroc; row["val_loss"] = vloss;
                        Log.WriteLine($"step {done}: validation AUROC {auroc:F4} loss {vloss:F4} ({val.Count} images)");
                        if (double.IsNaN(state.BestAuroc) || auroc > state.BestAuroc)
                        {
                            state = state with { BestAuroc = auroc, BestStep = done };
                            StateDict.SaveSafeTensors(model, run.Weights);
                        }
                        sinceLog.Restart();
                    }
                    state.Rows.Add(row);
                    scalars.Write(done, row.Where(kv => kv.Key is not ("step" or "img_per_s"))
                        .Select(kv => KeyValuePair.Create(kv.Key.StartsWith("val_", StringComparison.Ordinal) ? "val/" + kv.Key[4..] : "train/" + kv.Key, kv.Value)));
                }
                if (done % c.CheckpointEvery == 0 || done == lastStep)
                {
                    state = state with { Step = done, Failed = new Dictionary<string, string>(failedNames) };
                    Checkpoint.Save(run.CheckpointDir, done, model, optimizer, JsonSerializer.SerializeToElement(state, ConfigBinder.Json));
                    run.WriteLog(LogColumns, state.Rows);
                }
            }
        }
        state = state with { Step = lastStep };
        double rate = imagesTotal / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
        var failed = new Dictionary<string, string>(failedNames);
        if (lastStep < c.Steps)
            return new ClassifierTrainResult(lastStep, resumedFrom, state.BestAuroc, state.BestStep, lastLoss, rate, failed);

        // Finished: the best validated model (or the last one without validation) becomes the run's model.
        if (val.Count == 0 || !File.Exists(run.Weights)) StateDict.SaveSafeTensors(model, run.Weights);
        double threshold = 0.5;
        if (val.Count > 0)
        {
            using var best = ClassifierArchitectures.Create(c.Arch, 1);
            StateDict.LoadFile(best, run.Weights);
            var probs = PredictLogits(best, val, transform, workers).Select(l => 1 / (1 + Math.Exp(-l))).ToArray();
            threshold = YoudenThreshold(probs, val.Select(v => v.Abnormal).ToArray(), threshold);
        }
        var card = new ModelCard("classifier", c.Arch, ["Abnormal"], c.InputSize, c.Mean, c.Std,
            new Dictionary<string, double> { ["abnormal"] = threshold },
            new Provenance(context.DataHash, configJson, RunDirectory.GitCommit(), DateTime.UtcNow, c.Steps, context.Preset, context.DataPath, c.Init));
        card.Save(run.Root);
        run.WriteMetrics(new
        {
            split = "validation",
            auroc = state.BestAuroc,
            best_step = state.BestStep,
            threshold,
            n_images = val.Count,
            n_train_images = train.Count,
            final_loss = lastLoss,
            images_per_second = rate,
            failed_images = failed.Count,
        });
        run.WriteLog(LogColumns, state.Rows);
        if (failed.Count > 0)
            SpineXR.IO.AtomicFile.WriteAllText(Path.Combine(run.Root, "failed_images.csv"),
                "image_id,reason\n" + string.Concat(failed.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key},\"{f.Value.Replace("\"", "\"\"")}\"\n")));
        return new ClassifierTrainResult(c.Steps, resumedFrom, state.BestAuroc, state.BestStep, lastLoss, rate, failed);
    }

    private static string Compact(JsonElement e) => JsonSerializer.Serialize(e);

    /// <summary>The items of step <paramref name="step"/>: epoch-wise seeded shuffles, or class-balanced draws; augmentation seeded by step.</summary>
    internal BatchItem[] PlanStep(IReadOnlyList<ClassifierSample> train, int step)
    {
        var c = Config;
        var rng = new Random(StableHash.Seed(c.Seed, "classifier-step", step));
        var items = new BatchItem[c.BatchSize];
        if (c.BalancedSampling)
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
            long first = (long)step * c.BatchSize;
            int[]? perm = null; long permEpoch = -1;
            for (int j = 0; j < items.Length; j++)
            {
                long k = first + j;
                long epoch = k / train.Count;
                if (epoch != permEpoch)
                {
                    perm = Enumerable.Range(0, train.Count).ToArray();
                    new Random(StableHash.Seed(c.Seed, "classifier-epoch", epoch)).Shuffle(perm);
                    permEpoch = epoch;
                }
                items[j] = new BatchItem(perm![k % train.Count], default);
            }
        }
        for (int j = 0; j < items.Length; j++)
            items[j] = items[j] with { Augmentation = ClassifierTransform.Draw(rng, c.HFlip, c.RotationDegrees, c.BrightnessContrast) };
        return items;
    }

    private Tensor LossFor(Tensor logits, Tensor targets)
    {
        if (Config.Loss == LossKind.Bce) return nn.functional.binary_cross_entropy_with_logits(logits, targets);
        // torchvision.ops.sigmoid_focal_loss with mean reduction.
        var p = logits.sigmoid();
        var ce = nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction: nn.Reduction.None);
        var pt = p * targets + (1 - p) * (1 - targets);
        var loss = ce * (1 - pt).pow(Config.FocalGamma);
        if (Config.FocalAlpha >= 0) loss = (Config.FocalAlpha * targets + (1 - Config.FocalAlpha) * (1 - targets)) * loss;
        return loss.mean();
    }

    private (double Auroc, double Loss) Evaluate(nn.Module<Tensor, Tensor> model, IReadOnlyList<ClassifierSample> val, ClassifierTransform transform, int workers)
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
