using System.Diagnostics;
using SpineXR.Synthesis;
using SpineXR.Vision.Detection.Inference;
using SpineXR.Vision.Detection.Training;
using SpineXR.Vision.Training;
using Xunit.Abstractions;
using SpineXR.Vision.Data;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Tests.Detection.EfficientDet;

public class EfficientDetTrainingTests(ITestOutputHelper output)
{
    [Fact]
    public void OverfitsAHandfulOfImages()
    {
        // three synthetic radiographs with lesions at 128 px (shortest side), the scenes DetectorTrainingTests uses
        var all = new SyntheticDetectionSource(new SynthOptions { Studies = 12, Seed = 5 }, "train");
        var picked = Enumerable.Range(0, all.Samples.Count).Where(i => all.Samples[i].Boxes.Length > 0).Take(3).ToArray();
        var cache = picked.Select(i => all.Load(i, 128)).ToArray();
        var data = new InMemoryDetectionSource(picked.Select(i => all.Samples[i]).ToList(), k => cache[k]);
        string dir = Path.Combine(Path.GetTempPath(), "spinexr-effdet-overfit-" + Guid.NewGuid().ToString("N"));
        try
        {
            // D0's graph shrunk: B0 at width 0.2 and depth 0.25, one 32-channel BiFPN cell, two head convs, 128 px long
            // side, anchors of 8 px at P3 (as the other detectors' overfit test)
            var cpu = DetectorTrainConfig.Cpu("efficientdet-d0");
            var c = cpu with
            {
                Model = cpu.Model with { BackboneWidth = 0.2, BackboneDepth = 0.25, FpnChannels = 32, BifpnRepeats = 1, HeadRepeats = 2, AnchorScale = 1, MinSize = 128, MaxSize = 128 },
                Solver = cpu.Solver with { BatchSize = 2, Lr = 0.02, WarmupIters = 20, MaxIters = 150, Steps = [120], EvalEvery = 50, MaxMinutes = 0, CheckpointEvery = 1000, Threads = 2 },
                Input = cpu.Input with { MinSizes = [128], HFlip = 0, ColorAugment = 0, TranslateAugment = 0, RepeatThreshold = 0 },
            };
            var clock = Stopwatch.StartNew();
            var result = new DetectorTrainer(c, data, data, dir, new StringWriter()) { ShowProgress = false }.Run();
            output.WriteLine($"best validation mAP@0.5 {result.BestMap50:F3} at step {result.BestStep}, {result.ImagesPerSecond:F2} img/s, {clock.Elapsed.TotalSeconds:F0} s");
            Assert.True(result.Finished);
            // the run directory loads through the same path as predict, serve and eval (Detector.Load)
            double map = DetectorEvaluation.Evaluate(dir, data);
            output.WriteLine($"re-loaded run: mAP@0.5 {map:F3}");
            Assert.True(map >= 0.9, $"mAP@0.5 {map:F3} < 0.9 after overfitting");
            Assert.Equal("efficientdet_d0", ModelCard.Load(dir, ModelCard.DetectionTask).Architecture);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
