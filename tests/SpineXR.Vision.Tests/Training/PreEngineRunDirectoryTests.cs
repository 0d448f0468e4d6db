using SpineXR.Vision.Detection.Inference;
using SpineXR.Vision.Detection.Training;
using SpineXR.Vision.Inference;
using SpineXR.Vision.Training;
using SpineXR.Vision.Data;
using SpineXR.Vision.Configuration;
using ModelCard = SpineXR.Vision.Configuration.ModelCard;

namespace SpineXR.Vision.Tests.Training;

/// <summary>
/// Run directories written before the shared training engine (Fixtures/RunDirs, see its README) keep loading for
/// prediction, and their checkpoints are refused with one line that says what to do, not resumed wrongly.
/// </summary>
[Collection(TorchRngCollection.Name)]
public sealed class PreEngineRunDirectoryTests
{
    /// <summary>Read with today's <see cref="ModelCard"/> and written again, a card keeps its layout and values.</summary>
    [Theory]
    [InlineData("classifier-pre-engine")]
    [InlineData("detector-pre-engine")]
    public void ModelCardRoundTripsTheOldLayout(string name)
    {
        string dir = Fixtures.CopyOfRunDir(name);
        string original = File.ReadAllText(Path.Combine(dir, ModelCard.FileName));
        ModelCard.Load(dir).Save(dir);
        var a = System.Text.Json.Nodes.JsonNode.Parse(original)!;
        var b = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, ModelCard.FileName)))!;
        if (a["metrics"] is null) a.AsObject().Remove("metrics"); // a null is now left out
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(a, b), $"before:\n{a}\nafter:\n{b}");
    }

    [Fact]
    public void ClassifierRunLoadsAndPredictsButItsCheckpointIsNotResumed()
    {
        string dir = Fixtures.CopyOfRunDir("classifier-pre-engine");
        using (var clf = Classifier.Load(dir))
        {
            var preds = clf.Predict([("a", () => SyntheticImages.Make(1, abnormal: true)), ("b", () => SyntheticImages.Make(2, abnormal: false))], batchSize: 2, hflipTta: false);
            Assert.Equal(2, preds.Count);
            Assert.All(preds, p => Assert.InRange(p.Probability, 0, 1));
        }
        var card = ModelCard.Load(dir);
        var config = ConfigBinder.ApplyOverrides(ClassifierTrainConfig.Cpu, [new("arch", card.Architecture), new("input_size", "32"), new("steps", "4"), new("batch_size", "4"), new("val_fraction", "0"), new("workers", "1")]);
        var e = Assert.Throws<InvalidOperationException>(() =>
            new ClassifierTrainer(config, new RunDirectory(dir), quiet: true).Train(SyntheticImages.Samples(8, seed: 1), [], new TrainingContext("h")));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains("older SpineXR", e.Message);
        Assert.Contains("delete checkpoint/", e.Message);
    }

    [Fact]
    public void DetectorRunLoadsAndPredictsButItsCheckpointIsNotResumed()
    {
        string dir = Fixtures.CopyOfRunDir("detector-pre-engine");
        using (var detector = Detector.Load(dir))
        {
            var image = new GrayImageF(Enumerable.Range(0, 96 * 128).Select(i => (i % 97) / 97f).ToArray(), 96, 128);
            var dets = detector.Predict([image]);
            Assert.Single(dets);
            Assert.All(dets[0], d => Assert.True(float.IsFinite(d.Score) && d.ClassId is >= 0 and < 7));
        }
        var config = DetectorTrainConfig.Cpu("retinanet").With([new("base_width", "4"), new("fpn_channels", "8"), new("max_iters", "2"), new("batch_size", "1"),
            new("min_sizes", "96"), new("max_size", "128"), new("val_fraction", "0")]);
        var data = new InMemoryDetectionSource([new DetectionSample("x", "s", [new(10, 10, 40, 40)], [0])], _ => new GrayImageF(new float[96 * 128], 96, 128));
        var e = Assert.Throws<InvalidOperationException>(() => new DetectorTrainer(config, data, null, dir, TextWriter.Null) { ShowProgress = false }.Run());
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains("delete checkpoint/", e.Message);
        Assert.True(File.Exists(Path.Combine(dir, "weights.safetensors"))); // the model is left as it was
    }
}
