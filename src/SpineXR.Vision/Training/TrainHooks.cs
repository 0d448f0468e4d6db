// The hooks of the shared train loop (docs/training.md "Engine"). Order matters and is fixed by TrainHooks.Standard:
// time budget and learning rate before a step; evaluation (with keep-best), then the log row, then the checkpoint
// after it, so a row carries the evaluation of its step and a checkpoint carries the row.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SpineXR.Diagnostics;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Training;

/// <summary>Sets every parameter group's learning rate from the schedule before each step.</summary>
public sealed class LrScheduleHook(LrSchedule schedule) : TrainHook
{
    public override void BeforeStep(TrainContext context)
    {
        context.Lr = schedule.At(context.Step, context.ElapsedSeconds / 60);
        foreach (var g in context.Task.Optimizer.ParamGroups) g.LearningRate = context.Lr;
    }
}

/// <summary>Stops the loop once training time (over all runs of the directory) passes the budget.</summary>
public sealed class TimeBudgetHook(double maxMinutes) : TrainHook
{
    public const string Reason = "time budget reached";

    public override void BeforeStep(TrainContext context)
    {
        if (maxMinutes > 0 && context.ElapsedSeconds > maxMinutes * 60) context.RequestStop(Reason);
    }
}

/// <summary>
/// Evaluates every <paramref name="every"/> steps and after the last one, keeping the best weights by the task's
/// metric. A run stopped by the time budget between evaluations is judged once more, or up to every - 1 steps of
/// training would be thrown away.
/// </summary>
public sealed class EvaluationHook(int every) : TrainHook
{
    public override void AfterStep(TrainContext context)
    {
        if (context.Task.CanEvaluate && (context.Step % every == 0 || context.Step == context.MaxSteps)) Evaluate(context, "");
    }

    public override void AfterTrain(TrainContext context)
    {
        var s = context.State;
        if (context.StopReason == TimeBudgetHook.Reason && context.Task.CanEvaluate && s.Step % every != 0 && s.Step > s.BestStep)
            Evaluate(context, $" ({TimeBudgetHook.Reason})");
    }

    private static void Evaluate(TrainContext context, string note)
    {
        var clock = Stopwatch.StartNew();
        var ev = context.Task.Evaluate();
        context.Evaluation = ev;
        context.Log.WriteLine($"step {context.Step}{note}: validation " +
                              string.Join(" ", ev.Select(kv => FormattableString.Invariant($"{kv.Key[(kv.Key.StartsWith("val_", StringComparison.Ordinal) ? 4 : 0)..]} {kv.Value:F4}"))));
        double metric = ev.TryGetValue(context.Task.Metric, out double m) ? m : double.NaN;
        var s = context.State;
        if (double.IsNaN(s.BestMetric) || metric > s.BestMetric)
        {
            s.BestMetric = metric;
            s.BestStep = context.Step;
            context.Task.SaveBest(context, ev);
        }
        context.EvaluationSeconds = clock.Elapsed.TotalSeconds;
    }
}

/// <summary>
/// A log.csv row every <paramref name="every"/> steps, at each evaluation and at the last step: the mean loss (and
/// loss terms) since the previous row, the learning rate, images per second (evaluation time left out) and the
/// evaluation; the same values go to TensorBoard (train/..., val/...).
/// </summary>
public sealed class LogHook(int every, bool elapsedColumn = false) : TrainHook
{
    public static readonly string[] BaseColumns = ["step", "loss", "lr", "img_per_s"];

    private readonly Dictionary<string, double> _termSums = new(StringComparer.Ordinal);
    private readonly Stopwatch _sinceRow = new();
    private ScalarLog? _scalars;
    private double _lossSum;
    private int _lossN;
    private int _images;

    public override void BeforeTrain(TrainContext context)
    {
        _scalars = new ScalarLog(context.Run.Root);
        _sinceRow.Restart();
    }

    public override void AfterStep(TrainContext context)
    {
        var last = context.Last;
        _images += last.Images;
        if (last.Images > 0)
        {
            _lossSum += last.Loss;
            _lossN++;
            foreach (var (k, v) in last.Terms) _termSums[k] = _termSums.GetValueOrDefault(k) + v;
        }
        int done = context.Step;
        if (done % every == 0 || context.Evaluation != null || done == context.LastStep) AddRow(context);
    }

    public override void AfterTrain(TrainContext context)
    {
        // an evaluation made after the loop (time budget) gets its own row
        if (context.Evaluation != null) AddRow(context);
    }

    private void AddRow(TrainContext context)
    {
        double seconds = Math.Max(1e-9, _sinceRow.Elapsed.TotalSeconds - (context.Evaluation != null ? context.EvaluationSeconds : 0));
        var row = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["step"] = context.Step,
            ["loss"] = _lossN > 0 ? _lossSum / _lossN : double.NaN,
            ["lr"] = context.Lr,
            ["img_per_s"] = _images / seconds,
        };
        foreach (var (k, v) in _termSums) row[k] = v / Math.Max(1, _lossN);
        if (elapsedColumn) row["elapsed_s"] = Math.Round(context.ElapsedSeconds, 1);
        if (context.Evaluation != null)
            foreach (var (k, v) in context.Evaluation) row[k] = v;
        _lossSum = 0; _lossN = 0; _images = 0; _termSums.Clear();
        _sinceRow.Restart();
        context.State.Rows.Add(row);
        _scalars!.Write(context.Step, row.Where(kv => kv.Key is not ("step" or "img_per_s" or "elapsed_s"))
            .Select(kv => KeyValuePair.Create(kv.Key.StartsWith("val_", StringComparison.Ordinal) ? "val/" + kv.Key[4..] : "train/" + kv.Key, kv.Value)));
    }

    /// <summary>The columns of log.csv: the base ones, the task's, then any other key in order of first appearance.</summary>
    public static List<string> Columns(ITrainingTask task, IEnumerable<IReadOnlyDictionary<string, double>> rows)
    {
        var columns = new List<string>(BaseColumns);
        foreach (var c in task.LogColumns) if (!columns.Contains(c)) columns.Add(c);
        foreach (var r in rows)
            foreach (var k in r.Keys)
                if (!columns.Contains(k)) columns.Add(k);
        return columns;
    }
}

/// <summary>A checkpoint (and the rewritten log.csv) every <paramref name="every"/> steps and when the loop ends.</summary>
public sealed class CheckpointHook(int every) : TrainHook
{
    private int _savedAt = -1;

    public override void AfterStep(TrainContext context)
    {
        if (context.Step % every == 0 || context.Step == context.LastStep) Save(context);
    }

    public override void AfterTrain(TrainContext context)
    {
        if (_savedAt != context.Step || context.Evaluation != null) Save(context);
    }

    private void Save(TrainContext context)
    {
        var s = context.State;
        s.Failed = new Dictionary<string, string>(context.Task.Failed, StringComparer.Ordinal);
        s.TrainSeconds = context.ElapsedSeconds;
        Checkpoint.Save(context.Run.CheckpointDir, s.Step, context.Task.Model, context.Task.Optimizer, JsonSerializer.SerializeToElement(s, ConfigBinder.Json));
        context.Run.WriteLog(LogHook.Columns(context.Task, s.Rows), s.Rows);
        _savedAt = s.Step;
    }
}

/// <summary>A progress bar (or plain lines off a terminal) in steps, with the mean loss and learning rate.</summary>
public sealed class ProgressHook(string label, TextWriter? output, bool quiet, double maxMinutes = 0) : TrainHook, IDisposable
{
    private ProgressReporter? _progress;
    private double _loss = double.NaN;

    public override void BeforeTrain(TrainContext context)
    {
        var limit = maxMinutes > 0 ? TimeSpan.FromSeconds(Math.Max(0, maxMinutes * 60 - context.State.TrainSeconds)) : (TimeSpan?)null;
        _progress = new ProgressReporter(label, context.LastStep - context.Step, quiet ? null : output, quiet, limit);
    }

    public override void AfterStep(TrainContext context)
    {
        if (context.Last.Images > 0) _loss = double.IsNaN(_loss) ? context.Last.Loss : 0.9 * _loss + 0.1 * context.Last.Loss;
        _progress!.SetStatus(string.Create(CultureInfo.InvariantCulture, $"step {context.Step}/{context.MaxSteps} loss {_loss:F4} lr {context.Lr:G3}"));
        _progress.Advance();
    }

    public override void AfterTrain(TrainContext context) => Dispose();

    public void Dispose()
    {
        _progress?.Dispose();
        _progress = null;
    }
}

/// <summary>The standard hook list, in its required order.</summary>
public static class TrainHooks
{
    public static IReadOnlyList<TrainHook> Standard(LrSchedule schedule, int evalEvery, int logEvery, int checkpointEvery,
        ProgressHook progress, double maxMinutes = 0, bool elapsedColumn = false) =>
    [
        new TimeBudgetHook(maxMinutes),
        new LrScheduleHook(schedule),
        new EvaluationHook(evalEvery),
        new LogHook(logEvery, elapsedColumn),
        new CheckpointHook(checkpointEvery),
        progress,
    ];
}
