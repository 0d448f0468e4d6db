using System.Text.Json;
using SpineXR.Vision.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Tests.Training;

/// <summary>The shared train loop with a tiny task: hook order, keep-best, checkpoints, the resume guard, the time budget.</summary>
[Collection(TorchRngCollection.Name)]
public sealed class TrainLoopTests
{
    /// <summary>Fits y = 2x with one weight; evaluations return scripted metrics so keep-best can be checked.</summary>
    private sealed class LineTask : ITrainingTask, IDisposable
    {
        private readonly Linear _model;
        private readonly OptimizerHelper _optimizer;
        private readonly Queue<double> _metrics;

        public LineTask(params double[] metrics)
        {
            TorchRuntime.EnsureLoaded();
            torch.manual_seed(3);
            _model = nn.Linear(1, 1, hasBias: false);
            _optimizer = torch.optim.SGD(_model.parameters(), 0.1);
            _metrics = new Queue<double>(metrics);
        }

        public List<string> Calls { get; } = [];
        public List<int> SavedBestAt { get; } = [];
        public List<double> Lrs { get; } = [];
        public double SleepSeconds { get; init; }

        public nn.Module Model => _model;
        public OptimizerHelper Optimizer => _optimizer;
        public IReadOnlyList<string> LogColumns { get; } = ["val_metric"];
        public string Metric => "val_metric";
        public bool CanEvaluate => _metrics.Count > 0;
        public IReadOnlyDictionary<string, string> Failed { get; } = new Dictionary<string, string>();

        public void Start(int firstStep, int lastStep, IReadOnlyDictionary<string, string> failedBefore) => Calls.Add($"start {firstStep}-{lastStep}");

        public StepResult Step(TrainContext context)
        {
            if (SleepSeconds > 0) Thread.Sleep(TimeSpan.FromSeconds(SleepSeconds));
            Lrs.Add(_optimizer.ParamGroups.First().LearningRate);
            using var scope = NewDisposeScope();
            var x = tensor(new float[] { 1, 2, 3 }).view(3, 1);
            var loss = (_model.call(x) - 2 * x).pow(2).mean();
            _optimizer.zero_grad();
            TorchRuntime.Backward(loss);
            _optimizer.step();
            return new StepResult(loss.item<float>(), 3, [KeyValuePair.Create("loss_line", (double)loss.item<float>())]);
        }

        public IReadOnlyDictionary<string, double> Evaluate() => new Dictionary<string, double> { ["val_metric"] = _metrics.Dequeue() };

        public void SaveBest(TrainContext context, IReadOnlyDictionary<string, double> evaluation) => SavedBestAt.Add(context.Step);

        public void Stop() => Calls.Add("stop");

        public float Weight => _model.weight!.item<float>();

        public void Dispose()
        {
            _optimizer.Dispose();
            _model.Dispose();
        }
    }

    private static JsonElement Config(object o) => JsonSerializer.SerializeToElement(o, ConfigBinder.Json);

    private static IReadOnlyList<TrainHook> Hooks(int evalEvery = 2, double maxMinutes = 0) =>
        TrainHooks.Standard(new LrSchedule(0.1, [4], 0.5, 0), evalEvery, logEvery: 3, checkpointEvery: 2,
            new ProgressHook("test", null, quiet: true, maxMinutes), maxMinutes);

    [Fact]
    public void EvaluatesKeepsTheBestLogsAndCheckpoints()
    {
        var run = new RunDirectory(Fixtures.TempDir("loop"));
        using var task = new LineTask(0.5, 0.7, 0.6);
        var ctx = new TrainLoop(task, run, Hooks(), TextWriter.Null).Run(Config(new { lr = 0.1 }), maxSteps: 6);

        Assert.True(ctx.Finished);
        Assert.Equal(["start 0-6", "stop"], task.Calls);
        Assert.Equal([2, 4], task.SavedBestAt); // 0.5 at 2, 0.7 at 4; 0.6 at 6 is worse
        Assert.Equal((0.7, 4), (ctx.State.BestMetric, ctx.State.BestStep));
        Assert.Equal([0.1, 0.1, 0.1, 0.1, 0.05, 0.05], task.Lrs);
        Assert.InRange(task.Weight, 1.9f, 2.1f);

        var log = File.ReadAllLines(run.LogCsv);
        Assert.Equal("step,loss,lr,img_per_s,val_metric,loss_line", log[0]);
        // rows at the log interval (3, 6) and at every evaluation (2, 4, 6)
        Assert.Equal(["2", "3", "4", "6"], log.Skip(1).Select(l => l.Split(',')[0]));
        Assert.Equal(["0.5", "", "0.7", "0.6"], log.Skip(1).Select(l => l.Split(',')[4]));
        Assert.Equal(6, Checkpoint.LatestStep(run.CheckpointDir));
    }

    [Fact]
    public void ResumesOnlyUnderTheSameConfigurationApartFromResumableKeys()
    {
        var run = new RunDirectory(Fixtures.TempDir("guard"));
        using (var first = new LineTask())
            new TrainLoop(first, run, Hooks(), TextWriter.Null).Run(Config(new { lr = 0.1, max_minutes = 5 }), maxSteps: 6, stopAfter: 2);
        Assert.Equal(2, Checkpoint.LatestStep(run.CheckpointDir));

        using (var other = new LineTask())
        {
            var e = Assert.Throws<InvalidOperationException>(() =>
                new TrainLoop(other, run, Hooks(), TextWriter.Null).Run(Config(new { lr = 0.2, max_minutes = 5 }), maxSteps: 6));
            Assert.Contains("different configuration (lr)", e.Message);
        }

        using var same = new LineTask();
        var ctx = new TrainLoop(same, run, Hooks(), TextWriter.Null).Run(Config(new { lr = 0.1, max_minutes = 9 }), maxSteps: 6);
        Assert.Equal((2, 6), (ctx.ResumedFrom, ctx.State.Step));
        Assert.Equal(["start 2-6", "stop"], same.Calls);
        Assert.Equal(["2", "3", "6"], File.ReadAllLines(run.LogCsv).Skip(1).Select(l => l.Split(',')[0]));
    }

    [Fact]
    public void CheckpointsOfTheOldDetectorLayoutGiveAOneLineError()
    {
        var run = new RunDirectory(Fixtures.TempDir("old"));
        Directory.CreateDirectory(run.CheckpointDir);
        File.WriteAllText(Path.Combine(run.CheckpointDir, "state.json"), """{"Step": 100}""");
        using var task = new LineTask();
        var e = Assert.Throws<InvalidOperationException>(() => new TrainLoop(task, run, Hooks(), TextWriter.Null).Run(Config(new { }), 4));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains("delete checkpoint/", e.Message);
        Assert.Empty(task.Calls); // refused before any work
    }

    [Fact]
    public void TimeBudgetStopsTheLoopAndJudgesTheLastWeightsOnce()
    {
        var run = new RunDirectory(Fixtures.TempDir("budget"));
        // 0.3 s steps against a 0.02-minute (1.2 s) budget: about 4 steps, then one more evaluation of the last weights
        using var task = new LineTask(0.1, 0.2, 0.3, 0.4) { SleepSeconds = 0.3 };
        var ctx = new TrainLoop(task, run, Hooks(evalEvery: 100, maxMinutes: 0.02), TextWriter.Null).Run(Config(new { }), maxSteps: 50);
        Assert.False(ctx.Finished);
        Assert.Equal(TimeBudgetHook.Reason, ctx.StopReason);
        Assert.InRange(ctx.State.Step, 2, 8);
        Assert.Equal([ctx.State.Step], task.SavedBestAt);
        Assert.Equal(ctx.State.Step, Checkpoint.LatestStep(run.CheckpointDir));
        var last = File.ReadAllLines(run.LogCsv)[^1].Split(',');
        Assert.Equal((ctx.State.Step.ToString(), "0.1"), (last[0], last[4])); // the budget's evaluation has its row
    }
}
