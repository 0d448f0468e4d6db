using SpineXR.Vision.Detection.Inference;
using SpineXR.Vision.Detection.Training;
using SpineXR.Vision.Inference;
using SpineXR.Vision.Training;
using SpineXR.Vision.Data;
using SpineXR.Vision.Configuration;
using ModelCard = SpineXR.Vision.Configuration.ModelCard;

namespace SpineXR.Vision.Tests.Training;

/// <summary>
/// Run directories written by the shared engine before the configuration was split into model, solver and input
/// sections (Fixtures/RunDirs, see its README): their model.json and checkpoint hold one flat configuration. They load
/// for prediction, resume under the same configuration, and are refused under another one, naming the key.
/// </summary>
[Collection(TorchRngCollection.Name)]
public sealed class FlatConfigRunDirectoryTests
{
    /// <summary>The command that made the classifier fixture, as overrides of the cpu preset.</summary>
    private static ClassifierTrainConfig ClassifierConfig => ClassifierTrainConfig.Cpu.With([
        new("arch", "densenet_tiny"), new("input_size", "32"), new("steps", "2"), new("batch_size", "4"), new("val_fraction", "0"), new("workers", "1")]);

    /// <summary>The command that made the detector fixture (max_minutes may change on resume).</summary>
    private static DetectorTrainConfig DetectorConfig => DetectorTrainConfig.Cpu("retinanet").With([
        new("base_width", "4"), new("fpn_channels", "8"), new("max_iters", "3"), new("batch_size", "1"), new("min_sizes", "96"),
        new("max_size", "128"), new("val_fraction", "0"), new("max_minutes", "0")]);

    private static InMemoryDetectionSource Data() =>
        new([new DetectionSample("x", "s", [new(10, 10, 40, 40)], [0])], _ => new GrayImageF(Enumerable.Range(0, 96 * 128).Select(i => (i % 89) / 89f).ToArray(), 128, 96));

    [Theory]
    [InlineData("classifier-flat-config")]
    [InlineData("detector-flat-config")]
    public void ModelCardRoundTripsTheFlatLayout(string name)
    {
        string dir = Fixtures.CopyOfRunDir(name);
        string original = File.ReadAllText(Path.Combine(dir, ModelCard.FileName));
        ModelCard.Load(dir).Save(dir);
        var a = System.Text.Json.Nodes.JsonNode.Parse(original)!;
        var b = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, ModelCard.FileName)))!;
        if (a["metrics"] is null) a.AsObject().Remove("metrics"); // a null is left out
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(a, b), $"before:\n{a}\nafter:\n{b}");
    }

    [Fact]
    public void ClassifierRunLoadsAndResumesUnderItsConfigurationOnly()
    {
        string dir = Fixtures.CopyOfRunDir("classifier-flat-config");
        using (var clf = Classifier.Load(dir))
        {
            var preds = clf.Predict([("a", () => SyntheticImages.Make(1, abnormal: true)), ("b", () => SyntheticImages.Make(2, abnormal: false))], batchSize: 2, hflipTta: false);
            Assert.All(preds, p => Assert.InRange(p.Probability, 0, 1));
        }
        var samples = SyntheticImages.Samples(8, seed: 1);
        var other = ClassifierConfig with { Solver = ClassifierConfig.Solver with { Lr = 0.5 } };
        var e = Assert.Throws<InvalidOperationException>(() => new ClassifierTrainer(other, new RunDirectory(dir), quiet: true).Train(samples, [], new TrainingContext("h")));
        Assert.Contains("different configuration (solver.lr)", e.Message);
        Assert.DoesNotContain('\n', e.Message);

        var log = new StringWriter();
        var r = new ClassifierTrainer(ClassifierConfig, new RunDirectory(dir), log).Train(samples, [], new TrainingContext("h"));
        Assert.Equal((2, 2), (r.ResumedFrom, r.StepsDone));
        Assert.Contains("resuming from step 2", log.ToString());
        // finished again under today's code: model.json now keeps the sections apart
        var card = ModelCard.Load(dir, ModelCard.ClassifierTask);
        Assert.Equal(32, card.Provenance.Config.GetProperty("model").GetProperty("input_size").GetInt32());
        using var again = Classifier.Load(dir);
    }

    [Fact]
    public void DetectorRunLoadsAndResumesUnderItsConfigurationOnly()
    {
        string dir = Fixtures.CopyOfRunDir("detector-flat-config");
        var image = new GrayImageF(Enumerable.Range(0, 96 * 128).Select(i => (i % 97) / 97f).ToArray(), 128, 96);
        using (var detector = Detector.Load(dir))
        {
            Assert.Equal((96, 128, "retinanet", 4), (detector.Config.MinSize, detector.Config.MaxSize, detector.Config.Arch, detector.Config.BaseWidth));
            var dets = detector.Predict([image]);
            Assert.All(dets[0], d => Assert.True(float.IsFinite(d.Score) && d.ClassId is >= 0 and < 7));
        }
        int saved = Checkpoint.LatestStep(Path.Combine(dir, "checkpoint")) ?? -1;
        Assert.InRange(saved, 0, 3);

        var other = DetectorConfig with { Input = DetectorConfig.Input with { HFlip = 0 } };
        var e = Assert.Throws<InvalidOperationException>(() => new DetectorTrainer(other, Data(), null, dir, TextWriter.Null) { ShowProgress = false }.Run());
        Assert.Contains("different configuration (input.h_flip)", e.Message);

        var log = new StringWriter();
        var r = new DetectorTrainer(DetectorConfig, Data(), null, dir, log) { ShowProgress = false }.Run();
        Assert.Contains($"resuming from step {saved}", log.ToString());
        Assert.Equal((3, true), (r.Steps, r.Finished));
        var config = ModelCard.Load(dir, ModelCard.DetectionTask).Config!.Value;
        Assert.Equal(96, config.GetProperty("model").GetProperty("min_size").GetInt32());
        using var reloaded = Detector.Load(dir);
        Assert.Single(reloaded.Predict([image]));
    }
}
