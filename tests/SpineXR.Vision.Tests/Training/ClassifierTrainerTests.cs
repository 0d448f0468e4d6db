using SpineXR.Metrics;
using SpineXR.Vision.Inference;
using SpineXR.Vision.Training;
using SpineXR.Vision.Weights;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Tests.Training;

[Collection(TorchRngCollection.Name)]
public class ClassifierTrainerTests
{
    private static ClassifierTrainConfig Small => ClassifierTrainConfig.Cpu with
    {
        Model = new() { Arch = "densenet_tiny", InputSize = 64 },
        Solver = ClassifierTrainConfig.Cpu.Solver with { BatchSize = 8, Steps = 60, Lr = 3e-3, WarmupSteps = 5, EvalEvery = 20, CheckpointEvery = 20, LogEvery = 5 },
        Input = new() { ValFraction = 0, RotationDegrees = 0, BrightnessContrast = 0, Workers = 1 },
    };

    private static ClassifierTrainConfig WithSolver(Func<ClassifierSolverConfig, ClassifierSolverConfig> change) => Small with { Solver = change(Small.Solver) };

    [Fact]
    public void LearnsToSeparateAbnormalImagesWellAboveChance()
    {
        var run = new RunDirectory(Fixtures.TempDir("learn"));
        var train = SyntheticImages.Samples(48, seed: 1);
        var val = SyntheticImages.Samples(16, seed: 2);
        var test = SyntheticImages.Samples(32, seed: 3);
        var result = new ClassifierTrainer(Small, run, quiet: true).Train(train, val, new TrainingContext("sha256:test"));
        Assert.Equal(60, result.StepsDone);

        using var clf = Classifier.Load(run.Root);
        var preds = clf.Predict(test.Select(t => (t.ImageId, t.Load)).ToList(), batchSize: 8, hflipTta: true);
        double auroc = Roc.Auroc(preds.Select(p => p.Probability).ToArray(), test.Select(t => t.Abnormal).ToArray());
        Assert.True(auroc >= 0.85, $"test AUROC {auroc:F3} (chance is 0.5)");

        var card = ModelCard.Load(run.Root);
        Assert.Equal("densenet_tiny", card.Architecture);
        Assert.Equal(["Abnormal"], card.Classes);
        Assert.InRange(card.Thresholds["abnormal"], 0, 1);
        Assert.Equal("sha256:test", card.Provenance.DataHash);
        Assert.Equal(64, card.Provenance.Config.GetProperty("model").GetProperty("input_size").GetInt32());
        Assert.True(File.Exists(run.MetricsJson));
        var log = File.ReadAllLines(run.LogCsv);
        Assert.Equal("step,loss,lr,img_per_s,val_auroc,val_loss", log[0]);
        Assert.Equal(12, log.Length - 1); // a row every 5 steps
        // The same curve for TensorBoard: a train/loss point per log row, val/auroc per evaluation.
        var events = Directory.GetFiles(Path.Combine(run.Root, ScalarLog.FolderName)).SelectMany(ScalarLogTests.ReadEvents).ToList();
        var tags = events.Where(e => e.Summary != null).SelectMany(e => e.Summary.Value.Select(v => (e.Step, v.Tag))).ToList();
        Assert.Equal(Enumerable.Range(1, 12).Select(i => (long)(5 * i)), tags.Where(t => t.Tag == "train/loss").Select(t => t.Step));
        Assert.Equal([20L, 40L, 60L], tags.Where(t => t.Tag == "val/auroc").Select(t => t.Step));
    }

    [Fact]
    public void KilledRunResumesFromItsCheckpointAndMatchesAnUninterruptedRun()
    {
        var cfg = WithSolver(s => s with { Steps = 6, CheckpointEvery = 2, LogEvery = 1, EvalEvery = 3 });
        var train = SyntheticImages.Samples(12, seed: 4);
        var val = SyntheticImages.Samples(6, seed: 5);

        var whole = new RunDirectory(Fixtures.TempDir("whole"));
        new ClassifierTrainer(cfg, whole, quiet: true).Train(train, val, new TrainingContext("h"));

        var parts = new RunDirectory(Fixtures.TempDir("parts"));
        var first = new ClassifierTrainer(cfg, parts, quiet: true) { StopAfterStep = 3 }.Train(train, val, new TrainingContext("h"));
        Assert.Equal(3, first.StepsDone);
        Assert.Equal(3, Checkpoint.LatestStep(parts.CheckpointDir));
        Assert.False(File.Exists(parts.ModelJson)); // not finished, no model yet
        var second = new ClassifierTrainer(cfg, parts, quiet: true).Train(train, val, new TrainingContext("h"));
        Assert.Equal(3, second.ResumedFrom);
        Assert.Equal(6, second.StepsDone);

        Assert.Equal(File.ReadAllLines(whole.LogCsv).Select(l => l.Split(',')[0]), File.ReadAllLines(parts.LogCsv).Select(l => l.Split(',')[0]));
        var a = SafeTensors.Read(Path.Combine(whole.CheckpointDir, "step-0000006", "model.safetensors"));
        var b = SafeTensors.Read(Path.Combine(parts.CheckpointDir, "step-0000006", "model.safetensors"));
        foreach (var (k, t) in a)
        {
            double diff = (t.to_type(TorchSharp.torch.ScalarType.Float64) - b[k].to_type(TorchSharp.torch.ScalarType.Float64)).abs().max().item<double>();
            Assert.True(diff < 1e-5, $"{k} differs by {diff}");
        }
    }

    [Fact]
    public void UnreadableImagesAreSkippedReportedAndTrainingFinishes()
    {
        var run = new RunDirectory(Fixtures.TempDir("bad"));
        var train = SyntheticImages.Samples(16, seed: 6, unreadable: i => i is 3 or 8);
        var log = new StringWriter();
        var result = new ClassifierTrainer(WithSolver(s => s with { Steps = 6, EvalEvery = 3 }), run, log).Train(train, SyntheticImages.Samples(6, 7), new TrainingContext("h"));
        Assert.Equal(6, result.StepsDone);
        Assert.Equal(["img6_3", "img6_8"], result.FailedImages.Keys.Order());
        Assert.Contains("truncated pixel data", result.FailedImages["img6_3"]);
        Assert.Single(log.ToString().Split('\n'), l => l.Contains("img6_3")); // reported once, not every epoch
        Assert.Contains("img6_8", File.ReadAllText(Path.Combine(run.Root, "failed_images.csv")));
        Assert.True(File.Exists(run.Weights));
    }

    [Fact]
    public void BatchesAreAPureFunctionOfSeedAndStepAndEpochsCoverEveryImage()
    {
        var train = SyntheticImages.Samples(20, seed: 8);
        var t = new ClassifierTrainer(WithSolver(s => s with { BatchSize = 5 }), new RunDirectory(Fixtures.TempDir("plan")), quiet: true);
        Assert.Equal(t.PlanStep(train, 7), t.PlanStep(train, 7));
        var epoch = Enumerable.Range(0, 4).SelectMany(s => t.PlanStep(train, s)).Select(i => i.Index).Order();
        Assert.Equal(Enumerable.Range(0, 20), epoch);
        var balanced = new ClassifierTrainer(WithSolver(s => s with { BatchSize = 400 }) with { Input = Small.Input with { BalancedSampling = true } }, new RunDirectory(Fixtures.TempDir("plan")), quiet: true);
        double abnormalShare = balanced.PlanStep(train, 0).Count(i => train[i.Index].Abnormal) / 400.0;
        Assert.InRange(abnormalShare, 0.4, 0.6);
    }
}
