using SpineXR.Vision.Training;
using SpineXR.Synthesis;
using SpineXR.Vision.Detection.Inference;
using SpineXR.Vision.Detection.Training;
using SpineXR.Vision.Weights;
using Xunit.Abstractions;
using SpineXR.Vision.Data;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Tests.Detection.Training;

public class DetectorTrainingTests(ITestOutputHelper output)
{
    /// <summary>A handful of synthetic radiographs with lesions, at a small size.</summary>
    private static IDetectionDataSource Handful(int count)
    {
        var all = new SyntheticDetectionSource(new SynthOptions { Studies = 12, Seed = 5 }, "train");
        var picked = Enumerable.Range(0, all.Samples.Count).Where(i => all.Samples[i].Boxes.Length > 0).Take(count).ToArray();
        var cache = picked.Select(i => all.Load(i, 128)).ToArray();
        return new InMemoryDetectionSource(picked.Select(i => all.Samples[i]).ToList(), k => cache[k]);
    }

    private static DetectorTrainConfig Tiny(string arch)
    {
        var c = DetectorTrainConfig.Cpu(arch);
        return c with
        {
            Model = c.Model with { BaseWidth = 16, FpnChannels = 64, RepresentationSize = 128, MinSize = 128, MaxSize = 256, AnchorSizes = [8, 16, 32, 64, 128] },
            Solver = c.Solver with { BatchSize = 2, WarmupIters = 20, MaxMinutes = 0, CheckpointEvery = 1000, LogEvery = 10, Threads = 1 },
            Input = c.Input with { MinSizes = [128], HFlip = 0, ColorAugment = 0, TranslateAugment = 0, RepeatThreshold = 0 },
        };
    }

    private static DetectorTrainConfig WithSolver(DetectorTrainConfig c, Func<DetectorSolverConfig, DetectorSolverConfig> change) => c with { Solver = change(c.Solver) };

    [Theory]
    [InlineData("faster-rcnn", 0.02, 240)]
    [InlineData("retinanet", 0.01, 600)] // one-stage focal loss fits slower (0.49 after 240 steps, 0.97 after 600), cheaper per step
    [InlineData("sparse-rcnn", 1e-3, 300)] // AdamW with full-model clipping (its registry entry), three head stages
    public void OverfitsAHandfulOfImages(string arch, double lr, int iters)
    {
        var data = Handful(3);
        string dir = Path.Combine(Path.GetTempPath(), "spinexr-det-overfit-" + Guid.NewGuid().ToString("N"));
        try
        {
            var tiny = Tiny(arch);
            var c = tiny with
            {
                Model = tiny.Model with { SparseStages = 3 },
                Solver = tiny.Solver with { MaxIters = iters, Steps = [iters * 5 / 6], EvalEvery = 40, Lr = lr, Threads = 1 },
            };
            var result = new DetectorTrainer(c, data, data, dir, new StringWriter()) { ShowProgress = false }.Run();
            output.WriteLine($"best validation mAP@0.5 {result.BestMap50:F3} at step {result.BestStep}, {result.ImagesPerSecond:F2} img/s");
            Assert.True(result.Finished);
            double map = DetectorEvaluation.Evaluate(dir, data);
            output.WriteLine($"re-loaded run: mAP@0.5 {map:F3}");
            Assert.True(map >= 0.9, $"mAP@0.5 {map:F3} < 0.9 after overfitting");
            Assert.True(File.Exists(Path.Combine(dir, "log.csv")));
            var events = Directory.GetFiles(Path.Combine(dir, ScalarLog.FolderName)).SelectMany(Tests.Training.ScalarLogTests.ReadEvents);
            var evaluated = events.Where(e => e.Summary != null).SelectMany(e => e.Summary.Value.Where(v => v.Tag == "val/map50").Select(_ => e.Step));
            // every 40 steps, and once more at the end when the last step is not one of those
            var expected = Enumerable.Range(1, iters / 40).Select(i => 40L * i).Concat(iters % 40 == 0 ? [] : [(long)iters]);
            Assert.Equal(expected, evaluated);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ResumedRunEqualsUninterruptedRun()
    {
        var data = Handful(2);
        string a = Path.Combine(Path.GetTempPath(), "spinexr-det-resume-a-" + Guid.NewGuid().ToString("N"));
        string b = Path.Combine(Path.GetTempPath(), "spinexr-det-resume-b-" + Guid.NewGuid().ToString("N"));
        try
        {
            var tiny = Tiny("faster-rcnn");
            var c = tiny with { Solver = tiny.Solver with { MaxIters = 4, Steps = [3], EvalEvery = 1000 }, Input = tiny.Input with { ValFraction = 0 } };
            new DetectorTrainer(c, data, null, a, new StringWriter()) { ShowProgress = false }.Run();
            // "killed" after 2 steps, then the same command again
            var killed = new DetectorTrainer(c, data, null, b, new StringWriter()) { ShowProgress = false, StopAfterStep = 2 }.Run();
            Assert.Equal((2, false), (killed.Steps, killed.Finished));
            // a different configuration is refused, naming what differs
            var e = Assert.Throws<InvalidOperationException>(() => new DetectorTrainer(WithSolver(c, s => s with { Lr = s.Lr * 2 }), data, null, b, new StringWriter()) { ShowProgress = false }.Run());
            Assert.Contains("different configuration (solver.lr)", e.Message);
            var resumed = new DetectorTrainer(c, data, null, b, new StringWriter()) { ShowProgress = false }.Run();
            Assert.Equal(4, resumed.Steps);
            var wa = StateDict.Read(Path.Combine(a, "weights.safetensors"));
            var wb = StateDict.Read(Path.Combine(b, "weights.safetensors"));
            Assert.Equal(wa.Keys.Order(), wb.Keys.Order());
            double maxDiff = wa.Keys.Where(k => wa[k].is_floating_point()).Max(k => (wa[k] - wb[k]).abs().max().item<float>());
            output.WriteLine($"max weight difference {maxDiff:G3}");
            Assert.True(maxDiff < 1e-4, $"resumed weights differ by {maxDiff}");
        }
        finally
        {
            foreach (var d in new[] { a, b }) if (Directory.Exists(d)) Directory.Delete(d, recursive: true);
        }
    }

    [Fact]
    public void TrainingSurvivesBatchesWhoseBoxesWereAllTranslatedAway()
    {
        // regression: an image left without boxes by TranslateX/Y crashed the step (empty target tensor)
        var data = Handful(1);
        string dir = Path.Combine(Path.GetTempPath(), "spinexr-det-empty-" + Guid.NewGuid().ToString("N"));
        try
        {
            var tiny = Tiny("faster-rcnn");
            var c = tiny with { Solver = tiny.Solver with { MaxIters = 2 }, Input = tiny.Input with { ValFraction = 0, TranslateAugment = 1, TranslateFraction = 5 } };
            var r = new DetectorTrainer(c, data, null, dir, new StringWriter()) { ShowProgress = false }.Run();
            Assert.Equal(2, r.Steps);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void DetectorReturnsEmptyListsForImagesWithoutDetections()
    {
        // regression: reading an empty detection tensor crashed validation (TorchSharp accessor on 0 elements)
        var c = Tiny("faster-rcnn");
        using var module = c.BuildModel(7);
        using var detector = new SpineXR.Vision.Detection.Inference.Detector(c.Model with { RpnPostNmsTopNTest = 1 }, SpineXR.Data.LesionTaxonomy.Classes, module);
        var blank = new GrayImageF(new float[128 * 160], 160, 128);
        var dets = detector.Predict([blank, blank]);
        Assert.Equal(2, dets.Count);
        Assert.Equal(new float[0], SpineXR.Vision.Detection.TensorArrays.Read<float>(TorchSharp.torch.zeros(0, 4)));
    }

    [Fact]
    public void RepeatFactorsFavourRareClasses()
    {
        // class 0 in 9 of 10 images, class 1 in 1: f1 = 0.1 -> r = max(1, sqrt(0.1/0.1)) = 1; with t = 0.4, r1 = 2
        var classes = Enumerable.Range(0, 9).Select(_ => new[] { 0 }).Append([1]).ToList();
        var s = new RepeatFactorSampler(classes, 2, 0.4);
        Assert.Equal(1.0, s.Factors[0], 6);
        Assert.Equal(2.0, s.Factors[9], 6);
        Assert.Equal(11, s.Epoch(new Random(1)).Count);
    }

    [Fact]
    public void WarmupThenStepSchedule()
    {
        var c = WithSolver(DetectorTrainConfig.Cpu("faster-rcnn"), s => s with { Lr = 0.1, WarmupIters = 10, WarmupFactor = 0.001, Steps = [20, 30] });
        var t = new DetectorTrainer(c, Handful(1), null, Path.GetTempPath());
        Assert.Equal(0.0001, t.LearningRate(0), 9);
        Assert.Equal(0.1, t.LearningRate(10), 9);
        Assert.Equal(0.01, t.LearningRate(20), 9);
        Assert.Equal(0.001, t.LearningRate(35), 9);
    }

    [Fact]
    public void ATimeBudgetBringsTheDecaysForwardInProportion()
    {
        // Steps at 50% and 75% of 40 iterations; a 10-minute budget moves them to 5 and 7.5 minutes if those come first.
        var c = WithSolver(DetectorTrainConfig.Cpu("faster-rcnn"), s => s with { Lr = 0.1, WarmupIters = 0, Steps = [20, 30], MaxIters = 40, MaxMinutes = 10 });
        var t = new DetectorTrainer(c, Handful(1), null, Path.GetTempPath());
        Assert.Equal(0.1, t.LearningRate(5, 4.9), 9);
        Assert.Equal(0.01, t.LearningRate(5, 5.0), 9);
        Assert.Equal(0.001, t.LearningRate(5, 7.5), 9);
        Assert.Equal(0.01, t.LearningRate(20, 1.0), 9); // the step count still decays on a fast machine
        var unbounded = new DetectorTrainer(WithSolver(c, s => s with { MaxMinutes = 0 }), Handful(1), null, Path.GetTempPath());
        Assert.Equal(0.1, unbounded.LearningRate(5, 1000), 9);
        // The Sparse R-CNN one-to-many phase ends at the first decay, by step or by time.
        Assert.Equal((0, 1, 2), (t.DecaysPassed(5, 4.9), t.DecaysPassed(5, 5.0), t.DecaysPassed(31, 0)));
        Assert.Throws<ArgumentException>(() => (c with { Model = c.Model with { SparseOneToMany = 0 } }).Validate());
        Assert.Throws<ArgumentException>(() => (c with { Model = c.Model with { SparseNms = 1.5 } }).Validate());
        using var sparse = (SpineXR.Vision.Detection.SparseRcnn)(DetectorTrainConfig.Cpu("sparse-rcnn").Model with { BaseWidth = 8, SparseNms = 0.7 }).BuildModel(7);
        Assert.Equal(0.7, sparse.Config.NmsThreshold);
    }

    [Fact]
    public void OverridesAreValidated()
    {
        var c = DetectorTrainConfig.Cpu("retinanet").With([new("max_iters", "12"), new("min_sizes", "320,352")]);
        Assert.Equal(12, c.Solver.MaxIters);
        Assert.Equal(new[] { 320, 352 }, c.Input.MinSizes);
        Assert.Equal(352, c.Model.MinSize); // the test size follows the last training size, as before the split
        Assert.Throws<ArgumentException>(() => c.With([new("no_such_key", "1")]));
        Assert.Throws<ArgumentException>(() => WithSolver(c, s => s with { BatchSize = 0 }).Validate());
    }
}
