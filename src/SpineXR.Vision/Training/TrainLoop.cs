// The one train loop of every trainer (docs/training.md "Engine"), shaped like detectron2's engine: the loop runs the
// steps of an ITrainingTask (the classifier or a detector) and calls hooks around them. Learning-rate schedule, time
// budget, evaluation with keep-best, log.csv and TensorBoard, checkpoints and progress are hooks, so every trainer
// gets the same behaviour, the same checkpoint format and the same resume guard.
using System.Diagnostics;
using System.Text.Json;
using TorchSharp.Modules;
using static TorchSharp.torch;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Training;

/// <summary>What one optimisation step reports: its loss, the images it used, and the named terms of the loss.</summary>
public readonly record struct StepResult(double Loss, int Images, IReadOnlyList<KeyValuePair<string, double>> Terms)
{
    /// <summary>A step whose batch was empty (every image of it failed to load): no update was made.</summary>
    public static StepResult Empty { get; } = new(double.NaN, 0, []);
}

/// <summary>
/// The model-specific half of training: builds batches, runs one optimisation step, evaluates, saves the best model.
/// A step's batch and augmentation must be a pure function of (seed, step), so a resumed run sees what an
/// uninterrupted one would.
/// </summary>
public interface ITrainingTask
{
    nn.Module Model { get; }

    OptimizerHelper Optimizer { get; }

    /// <summary>log.csv columns after step, loss, lr and img_per_s; other keys that rows carry are appended after these.</summary>
    IReadOnlyList<string> LogColumns { get; }

    /// <summary>The evaluation key that keep-best maximises (val_auroc, val_map50).</summary>
    string Metric { get; }

    /// <summary>Whether there is anything to evaluate on (a validation split).</summary>
    bool CanEvaluate { get; }

    /// <summary>Images that failed to load so far: image id to reason.</summary>
    IReadOnlyDictionary<string, string> Failed { get; }

    /// <summary>Prepares batches for steps <paramref name="firstStep"/> up to <paramref name="lastStep"/> (exclusive); <paramref name="failedBefore"/> are skipped.</summary>
    void Start(int firstStep, int lastStep, IReadOnlyDictionary<string, string> failedBefore);

    /// <summary>Runs step <see cref="TrainContext.Step"/>: forward, backward (through <see cref="TorchRuntime.Backward"/>), clipping, optimizer step.</summary>
    StepResult Step(TrainContext context);

    /// <summary>Validation metrics of the current weights (keys like val_auroc), leaving the model in training mode.</summary>
    IReadOnlyDictionary<string, double> Evaluate();

    /// <summary>The current weights became the best so far: write them (and whatever makes them loadable) into the run directory.</summary>
    void SaveBest(TrainContext context, IReadOnlyDictionary<string, double> evaluation);

    /// <summary>Stops background loading (called once, whatever ended the loop).</summary>
    void Stop();
}

/// <summary>Trainer state kept in every checkpoint (checkpoint/step-N/trainer.json) and restored on resume.</summary>
public sealed class TrainState
{
    /// <summary>Version of this layout; checkpoints without it were written before the shared engine.</summary>
    public int Format { get; set; }

    public const int CurrentFormat = 2;

    /// <summary>Steps completed.</summary>
    public int Step { get; set; }

    public double BestMetric { get; set; } = double.NaN;

    public int BestStep { get; set; }

    /// <summary>Training time over all runs of this directory (the time budget counts it).</summary>
    public double TrainSeconds { get; set; }

    public long ImagesSeen { get; set; }

    /// <summary>log.csv rows so far; the log is rewritten from them, so a resumed run keeps only rows up to its checkpoint.</summary>
    public List<Dictionary<string, double>> Rows { get; set; } = [];

    public Dictionary<string, string> Failed { get; set; } = [];

    /// <summary>The configuration that trained this state: resuming under a different one is refused.</summary>
    public JsonElement Config { get; set; }
}

/// <summary>Where a run stands, shared by the loop and its hooks.</summary>
public sealed class TrainContext
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly double _secondsBefore;

    internal TrainContext(ITrainingTask task, RunDirectory run, TrainState state, int maxSteps, int lastStep, TextWriter log)
    {
        Task = task;
        Run = run;
        State = state;
        MaxSteps = maxSteps;
        LastStep = lastStep;
        Log = log;
        ResumedFrom = state.Step;
        _secondsBefore = state.TrainSeconds;
    }

    public ITrainingTask Task { get; }

    public RunDirectory Run { get; }

    public TrainState State { get; }

    public TextWriter Log { get; }

    /// <summary>Steps of the whole run (the schedule's length).</summary>
    public int MaxSteps { get; }

    /// <summary>This process stops after this step (less than <see cref="MaxSteps"/> when a test simulates a kill).</summary>
    public int LastStep { get; }

    /// <summary>The step this process started from (0, or the checkpoint's).</summary>
    public int ResumedFrom { get; }

    /// <summary>Index of the step being run; after it, the number of steps completed.</summary>
    public int Step => State.Step;

    /// <summary>Learning rate of the current step.</summary>
    public double Lr { get; set; }

    /// <summary>What the last step reported.</summary>
    public StepResult Last { get; internal set; } = StepResult.Empty;

    /// <summary>The evaluation made after the last step, if one was.</summary>
    public IReadOnlyDictionary<string, double>? Evaluation { get; set; }

    /// <summary>Seconds the last evaluation took (kept out of the images-per-second figure).</summary>
    public double EvaluationSeconds { get; set; }

    /// <summary>Why the loop stopped before <see cref="LastStep"/> (a hook set it), or null.</summary>
    public string? StopReason { get; private set; }

    public bool Cancelled { get; internal set; }

    /// <summary>All <see cref="MaxSteps"/> steps are done.</summary>
    public bool Finished => State.Step >= MaxSteps;

    /// <summary>Training time including earlier runs of this directory.</summary>
    public double ElapsedSeconds => _secondsBefore + _clock.Elapsed.TotalSeconds;

    public void RequestStop(string reason) => StopReason ??= reason;
}

/// <summary>Something done around steps: override what you need. Hooks run in the order given to the loop.</summary>
public abstract class TrainHook
{
    public virtual void BeforeTrain(TrainContext context) { }

    public virtual void BeforeStep(TrainContext context) { }

    public virtual void AfterStep(TrainContext context) { }

    public virtual void AfterTrain(TrainContext context) { }
}

/// <summary>Runs a task's steps from its checkpoint (or step 0) to the end, a stop request or cancellation.</summary>
public sealed class TrainLoop(ITrainingTask task, RunDirectory run, IReadOnlyList<TrainHook> hooks, TextWriter log)
{
    /// <summary>Configuration keys that may change between a checkpoint and its resumption (they do not change what is trained).</summary>
    public static IReadOnlySet<string> ResumableKeys { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "max_minutes", "threads", "workers", "prefetch", "log_every", "checkpoint_every",
    };

    /// <summary>
    /// Turns the configuration a checkpoint was saved with into today's layout before the resume guard compares it
    /// (a trainer's FromJson/ToJson, which read the flat layout written before the configuration was split); null
    /// compares it as saved.
    /// </summary>
    public Func<JsonElement, JsonElement>? UpgradeConfig { get; init; }

    /// <param name="config">The configuration, serialised (guarded on resume).</param>
    /// <param name="maxSteps">Steps of the whole run.</param>
    /// <param name="stopAfter">Stop after this step in this process (tests simulating a kill); null for none.</param>
    public TrainContext Run(JsonElement config, int maxSteps, int? stopAfter = null, CancellationToken cancel = default)
    {
        var state = Resume(config);
        int lastStep = Math.Min(maxSteps, stopAfter ?? int.MaxValue);
        var context = new TrainContext(task, run, state, maxSteps, lastStep, log);
        task.Start(state.Step, lastStep, state.Failed);
        try
        {
            foreach (var h in hooks) h.BeforeTrain(context);
            while (state.Step < lastStep)
            {
                if (cancel.IsCancellationRequested) { context.Cancelled = true; break; }
                foreach (var h in hooks) h.BeforeStep(context);
                if (context.StopReason != null) break;
                context.Evaluation = null;
                var result = task.Step(context);
                if (result.Images > 0 && !double.IsFinite(result.Loss))
                {
                    string terms = result.Terms.Count == 0 ? "" : $" ({string.Join(" ", result.Terms.Select(t => FormattableString.Invariant($"{t.Key}={t.Value:G4}")))})";
                    throw new InvalidOperationException($"loss became {result.Loss} at step {state.Step + 1}{terms}; lower lr (now {context.Lr:G3})");
                }
                context.Last = result;
                state.Step++;
                state.ImagesSeen += result.Images;
                foreach (var h in hooks) h.AfterStep(context);
            }
            context.Evaluation = null;
            state.TrainSeconds = context.ElapsedSeconds;
            foreach (var h in hooks) h.AfterTrain(context);
        }
        finally
        {
            task.Stop();
            foreach (var h in hooks.OfType<IDisposable>()) h.Dispose();
        }
        return context;
    }

    private TrainState Resume(JsonElement config)
    {
        if (File.Exists(Path.Combine(run.CheckpointDir, "state.json")))
            throw new InvalidOperationException($"{run.CheckpointDir} was written by SpineXR before its shared training engine and cannot be resumed; " +
                                                "its model (model.json, weights.safetensors) still loads: delete checkpoint/ to train again in this folder, or use another --out");
        var fresh = new TrainState { Format = TrainState.CurrentFormat, Config = config };
        var saved = Checkpoint.Load(run.CheckpointDir, task.Model, task.Optimizer);
        if (saved is not { } r) return fresh;
        TrainState? state = null;
        try { state = r.TrainerState.Deserialize<TrainState>(ConfigBinder.Json); }
        catch (JsonException) { }
        if (state is null || state.Format != TrainState.CurrentFormat)
            throw new InvalidOperationException($"{run.CheckpointDir}: a checkpoint of an older SpineXR (no trainer state format {TrainState.CurrentFormat}); delete checkpoint/ to train again in this folder");
        JsonElement savedConfig;
        try { savedConfig = UpgradeConfig is { } upgrade ? upgrade(state.Config) : state.Config; }
        catch (Exception e) when (e is JsonException or InvalidDataException or ArgumentException)
        {
            throw new InvalidOperationException($"{run.CheckpointDir}: its configuration cannot be read ({e.Message}); delete checkpoint/ to train again in this folder", e);
        }
        var differ = DifferentKeys(savedConfig, config);
        if (differ.Count > 0)
            throw new InvalidOperationException($"{run.Root} holds a checkpoint of a different configuration ({string.Join(", ", differ)}); use another --out or delete its checkpoint/ folder");
        state.Step = r.Step;
        state.Config = config;
        log.WriteLine($"resuming from step {r.Step} ({run.CheckpointDir})");
        return state;
    }

    /// <summary>
    /// Keys whose values differ (<c>section.key</c> inside a configuration's sections), apart from those whose last part
    /// is one of <see cref="ResumableKeys"/>.
    /// </summary>
    internal static List<string> DifferentKeys(JsonElement saved, JsonElement now)
    {
        // values compared in compact form: the saved copy was written indented, at a different depth
        static void Flat(JsonElement e, string prefix, Dictionary<string, string> into)
        {
            if (e.ValueKind != JsonValueKind.Object) { into[prefix] = JsonSerializer.Serialize(e); return; }
            foreach (var p in e.EnumerateObject())
            {
                string key = prefix.Length == 0 ? p.Name : $"{prefix}.{p.Name}";
                if (p.Value.ValueKind == JsonValueKind.Object) Flat(p.Value, key, into);
                else into[key] = JsonSerializer.Serialize(p.Value);
            }
        }
        var a = new Dictionary<string, string>(StringComparer.Ordinal);
        var b = new Dictionary<string, string>(StringComparer.Ordinal);
        Flat(saved, "", a);
        Flat(now, "", b);
        return a.Keys.Union(b.Keys).Where(k => !ResumableKeys.Contains(k[(k.LastIndexOf('.') + 1)..]))
            .Where(k => !a.TryGetValue(k, out var x) || !b.TryGetValue(k, out var y) || x != y)
            .Order(StringComparer.Ordinal).ToList();
    }
}
