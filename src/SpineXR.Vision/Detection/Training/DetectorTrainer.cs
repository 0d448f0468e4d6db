// The detector training loop (torchvision's detection reference recipe): SGD with momentum and weight decay, linear
// warm-up then step decay, gradient clipping, repeat-factor sampling, augmentation, mAP@0.5 on a validation split every
// EvalEvery steps with the best model kept, resumable checkpoints (model, optimizer, position), log.csv.
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
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

    private sealed record Cached(GrayImageF Image, BoxF[] Boxes, int[] Classes);

    private sealed class State
    {
        public int Step { get; set; }
        public double BestMap50 { get; set; } = -1;
        public int BestStep { get; set; }
        public double TrainSeconds { get; set; }
        public long ImagesSeen { get; set; }
    }

    public DetectorTrainResult Run(CancellationToken cancel = default)
    {
        TorchRuntime.EnsureLoaded();
        if (_c.Threads > 0) torch.set_num_threads(_c.Threads);
        Directory.CreateDirectory(_runDir);
        string ckptDir = Path.Combine(_runDir, "checkpoint");
        Directory.CreateDirectory(ckptDir);

        var failed = new List<string>();
        int maxShort = _c.MinSizes.Max();
        var train = LoadAll(_train, maxShort, failed, keep: s => _c.IncludeEmpty || s.Boxes.Length > 0);
        var val = _val is null ? [] : LoadAll(_val, _c.MinSizes[^1], failed, keep: _ => true);
        if (train.Count == 0) throw new InvalidOperationException("no trainable images (all failed to load, or none has boxes)");
        _log.WriteLine($"train images {train.Count}, validation images {val.Count}, failed {failed.Count}");

        torch.manual_seed(_c.Seed);
        using var module = _c.BuildModel(_classes.Count);
        var model = (IObjectDetector)module;
        var parameters = module.parameters().Where(p => p.requires_grad).ToList();
        TorchSharp.Modules.OptimizerHelper opt = module is SparseRcnn
            ? torch.optim.AdamW(parameters, _c.Lr, weight_decay: _c.WeightDecay)
            : torch.optim.SGD(parameters, _c.Lr, momentum: _c.Momentum, weight_decay: _c.WeightDecay);

        var state = new State();
        string statePath = Path.Combine(ckptDir, "state.json");
        if (File.Exists(statePath))
        {
            state = JsonSerializer.Deserialize<State>(File.ReadAllText(statePath)) ?? new State();
            StateDict.LoadFile(module, Path.Combine(ckptDir, "model.safetensors"));
            opt.load_state_dict(Path.Combine(ckptDir, "optimizer.bin"));
            _log.WriteLine($"resuming at step {state.Step} (best mAP@0.5 {state.BestMap50:F4} at step {state.BestStep})");
        }
        else if (InitWeights is not null)
        {
            _log.WriteLine(module is SparseRcnn sparse ? SparseRcnnWeights.LoadFile(sparse, InitWeights).ToString() : DetectorInit.Apply(module, InitWeights));
        }
        string dataHash = DataHash(_train.Samples);
        string logPath = Path.Combine(_runDir, "log.csv");
        if (!File.Exists(logPath) || state.Step == 0)
            AtomicFile.WriteAllText(logPath, "step,loss,loss_terms,lr,map50,images_per_s,elapsed_s\n");

        var sampler = new RepeatFactorSampler(train.Select(t => t.Classes).ToList(), _classes.Count, _c.RepeatThreshold);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var scalars = new ScalarLog(_runDir);
        double startSeconds = state.TrainSeconds;
        using var progress = ShowProgress
            ? new ProgressReporter("train detector", _c.MaxIters, _log, timeLimit: _c.MaxMinutes > 0 ? TimeSpan.FromSeconds(_c.MaxMinutes * 60 - startSeconds) : null)
            : null;
        progress?.Advance(state.Step);

        // Batches are built from (seed, step) alone so a resumed run sees the same data and augmentation.
        Task<List<Cached>> next = Task.Run(() => MakeBatch(train, sampler, state.Step));
        double lossEma = double.NaN;
        bool finished = false;
        // Validation mAP@0.5 of the current weights, logged; they become the model when they beat the best so far.
        double EvaluateAndKeepBest(string note)
        {
            double map = Evaluate(module, val);
            _log.WriteLine($"step {state.Step}{note}: validation mAP@0.5 {map:F4}");
            if (map > state.BestMap50)
            {
                state.BestMap50 = map;
                state.BestStep = state.Step;
                SaveModel(module, dataHash, map);
            }
            return map;
        }
        while (!cancel.IsCancellationRequested)
        {
            if (state.Step >= _c.MaxIters) { finished = true; break; }
            if (_c.MaxMinutes > 0 && startSeconds + clock.Elapsed.TotalSeconds > _c.MaxMinutes * 60) break;
            var batch = next.Result;
            int step = state.Step;
            next = Task.Run(() => MakeBatch(train, sampler, step + 1));
            double minutes = (startSeconds + clock.Elapsed.TotalSeconds) / 60;
            double lr = LearningRate(step, minutes);
            foreach (var g in opt.ParamGroups) g.LearningRate = lr;
            if (module is SparseRcnn sparseModel)
                sparseModel.Criterion.TargetRepeats = DecaysPassed(step, minutes) == 0 ? _c.SparseOneToMany : 1;

            module.train();
            string terms;
            double lossValue;
            var lossTerms = new List<KeyValuePair<string, double>>();
            using (var scope = NewDisposeScope())
            {
                var images = batch.Select(b => tensor(b.Image.Pixels).view(1, b.Image.Height, b.Image.Width).expand(3, b.Image.Height, b.Image.Width)).ToList();
                var targets = batch.Select(b => ToTarget(b, model.FirstClassLabel)).ToList();
                var losses = model.Losses(images, targets, new Random(StableHash.Seed(_c.Seed, "loss", step, 0)));
                var total = losses.Values.Aggregate((a, b) => a + b);
                opt.zero_grad();
                TorchRuntime.Backward(total);
                if (_c.ClipGradNorm > 0) nn.utils.clip_grad_norm_(parameters, _c.ClipGradNorm);
                opt.step();
                lossValue = total.item<float>();
                foreach (var (name, value) in losses) lossTerms.Add(KeyValuePair.Create("train/" + name, (double)value.item<float>()));
                terms = string.Join(" ", lossTerms.Select(kv => FormattableString.Invariant($"{kv.Key[6..]}={kv.Value:F4}")));
            }
            if (!double.IsFinite(lossValue)) throw new InvalidOperationException($"loss is {lossValue} at step {step} ({terms}); lower lr");
            lossEma = double.IsNaN(lossEma) ? lossValue : 0.9 * lossEma + 0.1 * lossValue;
            state.Step = step + 1;
            state.ImagesSeen += batch.Count;
            progress?.Advance();
            progress?.SetStatus($"loss {lossEma:F3} lr {lr:G3}");
            double elapsed = startSeconds + clock.Elapsed.TotalSeconds;
            double ips = state.ImagesSeen / Math.Max(1e-9, elapsed);

            string mapCell = "";
            if (val.Count > 0 && (state.Step % _c.EvalEvery == 0 || state.Step == _c.MaxIters))
            {
                double map = EvaluateAndKeepBest("");
                mapCell = map.ToString("F4", CultureInfo.InvariantCulture);
                scalars.Write(state.Step, [KeyValuePair.Create("val/map50", map)]);
            }
            if (state.Step % _c.LogEvery == 0 || mapCell.Length > 0)
            {
                scalars.Write(state.Step, [KeyValuePair.Create("train/loss", lossValue), KeyValuePair.Create("train/lr", lr), .. lossTerms]);
                File.AppendAllText(logPath, string.Create(CultureInfo.InvariantCulture,
                    $"{state.Step},{lossValue:F5},\"{terms}\",{lr:G6},{mapCell},{ips:F3},{elapsed:F1}\n"));
            }
            if (state.Step % _c.CheckpointEvery == 0)
            {
                state.TrainSeconds = elapsed;
                SaveCheckpoint(module, opt, state, ckptDir);
            }
        }
        // Stopped by the time budget between evaluations: judge the last weights too, or up to eval_every - 1
        // steps of training would be thrown away.
        if (!finished && !cancel.IsCancellationRequested && val.Count > 0 && state.Step % _c.EvalEvery != 0 && state.Step > state.BestStep)
        {
            double map = EvaluateAndKeepBest(" (time budget reached)");
            File.AppendAllText(logPath, string.Create(CultureInfo.InvariantCulture,
                $"{state.Step},,\"time budget reached\",,{map:F4},,{startSeconds + clock.Elapsed.TotalSeconds:F1}\n"));
        }
        state.TrainSeconds = startSeconds + clock.Elapsed.TotalSeconds;
        SaveCheckpoint(module, opt, state, ckptDir);
        if (val.Count == 0 || state.BestMap50 < 0)
        {
            // nothing to select with: the last weights are the model
            SaveModel(module, dataHash, double.NaN);
        }
        var ipsFinal = state.ImagesSeen / Math.Max(1e-9, state.TrainSeconds);
        return new DetectorTrainResult(state.Step, finished, state.BestMap50, state.BestStep, ipsFinal, failed);
    }

    /// <summary>
    /// Linear warm-up from WarmupFactor to 1, then multiplied by Gamma at each of Steps. With a time budget the decay
    /// points are also fractions of it: step s of MaxIters decays at s / MaxIters of MaxMinutes, whichever comes first,
    /// so a run that the budget will stop before MaxIters still gets its low-learning-rate phase (on a slow machine
    /// the step-only schedule would never decay).
    /// </summary>
    public double LearningRate(int step, double elapsedMinutes = 0)
    {
        double f = 1;
        if (step < _c.WarmupIters)
        {
            double a = (double)step / _c.WarmupIters;
            f = _c.WarmupFactor * (1 - a) + a;
        }
        return _c.Lr * f * Math.Pow(_c.Gamma, DecaysPassed(step, elapsedMinutes));
    }

    /// <summary>Learning-rate decays that have fallen by this step or this share of the time budget.</summary>
    public int DecaysPassed(int step, double elapsedMinutes)
    {
        double timeFraction = _c.MaxMinutes > 0 ? elapsedMinutes / _c.MaxMinutes : 0;
        return _c.Steps.Count(s => step >= s || timeFraction >= (double)s / _c.MaxIters);
    }

    private List<Cached> MakeBatch(List<Cached> train, RepeatFactorSampler sampler, int step)
    {
        // position in the stream of epochs: epoch e is a seeded shuffle; step s takes items [s*B, (s+1)*B)
        long start = (long)step * _c.BatchSize;
        var result = new List<Cached>(_c.BatchSize);
        int epoch = 0;
        long offset = 0;
        List<int> order = sampler.Epoch(new Random(StableHash.Seed(_c.Seed, "epoch", epoch, 0)));
        while (result.Count < _c.BatchSize)
        {
            long pos = start + result.Count;
            while (pos >= offset + order.Count)
            {
                offset += order.Count;
                epoch++;
                order = sampler.Epoch(new Random(StableHash.Seed(_c.Seed, "epoch", epoch, 0)));
            }
            var item = train[order[(int)(pos - offset)]];
            var rng = new Random(StableHash.Seed(_c.Seed, "augment", step, result.Count));
            var (img, boxes, cls) = DetectionAugment.Apply(item.Image, item.Boxes, item.Classes, _c, rng);
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

    private double Evaluate(nn.Module module, List<Cached> val)
    {
        var detector = new Detector(_c, _classes, module) { Tta = false };
        var truth = new List<CocoTruth>();
        var dets = new List<CocoDetection>();
        var preds = detector.Predict(val.Select(v => v.Image).ToList());
        for (int i = 0; i < val.Count; i++)
        {
            float inv = 1f / val[i].Image.Scale;
            for (int k = 0; k < val[i].Boxes.Length; k++)
            {
                var b = val[i].Boxes[k];
                truth.Add(new CocoTruth(i, val[i].Classes[k], new CocoBox(b.X1 * inv, b.Y1 * inv, b.Width * inv, b.Height * inv)));
            }
            foreach (var d in preds[i])
                dets.Add(new CocoDetection(i, d.ClassId, new CocoBox(d.Box.X1, d.Box.Y1, d.Box.Width, d.Box.Height), d.Score));
        }
        var map = new CocoEvaluation(val.Count, _classes.Count, truth.ToArray(), dets.ToArray()).Evaluate().MeanAp(0);
        module.train();
        return double.IsNaN(map) ? 0 : map;
    }

    private void SaveModel(nn.Module module, string dataHash, double map)
    {
        string path = Path.Combine(_runDir, "weights.safetensors");
        StateDict.SaveSafeTensors(module, path);
        var metrics = double.IsNaN(map) ? null : new JsonObject { ["val_map50"] = map };
        ModelCard.Write(_runDir, _c, _classes, dataHash, metrics);
    }

    private static void SaveCheckpoint(nn.Module module, TorchSharp.Modules.OptimizerHelper opt, State state, string dir)
    {
        StateDict.SaveSafeTensors(module, Path.Combine(dir, "model.safetensors"));
        string optTmp = Path.Combine(dir, "optimizer.bin.tmp");
        opt.save_state_dict(optTmp);
        File.Move(optTmp, Path.Combine(dir, "optimizer.bin"), overwrite: true);
        // state.json last: it is what marks the checkpoint complete
        AtomicFile.WriteAllText(Path.Combine(dir, "state.json"), JsonSerializer.Serialize(state));
    }

    private List<Cached> LoadAll(IDetectionDataSource src, int maxShort, List<string> failed, Func<DetectionSample, bool> keep)
    {
        var idx = Enumerable.Range(0, src.Samples.Count).Where(i => keep(src.Samples[i])).ToArray();
        var loaded = new Cached?[idx.Length];
        var errors = new string?[idx.Length];
        Parallel.For(0, idx.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) }, j =>
        {
            var s = src.Samples[idx[j]];
            try
            {
                var img = src.Load(idx[j], maxShort);
                var boxes = s.Boxes.Select(b => new BoxF(b.X1 * img.Scale, b.Y1 * img.Scale, b.X2 * img.Scale, b.Y2 * img.Scale)).ToArray();
                loaded[j] = new Cached(img, boxes, s.Classes);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or FormatException or NotSupportedException or ArgumentException)
            {
                errors[j] = $"{s.ImageId}: {e.Message}";
            }
        });
        foreach (var e in errors.Where(e => e is not null))
        {
            _log.WriteLine($"skipped {e}");
            failed.Add(e!);
        }
        return loaded.Where(l => l is not null).Select(l => l!).ToList();
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
