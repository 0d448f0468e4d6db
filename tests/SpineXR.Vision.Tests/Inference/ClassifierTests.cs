using SpineXR.Imaging;
using SpineXR.Vision.Inference;
using SpineXR.Vision.Models;
using SpineXR.Vision.Tests.Training;
using SpineXR.Vision.Training;
using TorchSharp;
using static TorchSharp.torch;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Tests.Inference;

[Collection(TorchRngCollection.Name)]
public class ClassifierTests
{
    public ClassifierTests() => TorchRuntime.EnsureLoaded();

    private static Classifier Make(int size = 64)
    {
        torch.manual_seed(11);
        var model = DenseNets.Create("densenet_tiny", 1);
        var card = new ModelCard("classifier", "densenet_tiny", ["Abnormal"], size, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225],
            new() { ["abnormal"] = 0.5 }, new Provenance("h", default, "c", DateTime.UnixEpoch, 0));
        return new Classifier(model, card);
    }

    [Fact]
    public void BatchedPredictionsEqualOneByOneAndTtaIsTheMeanOfBothMirrors()
    {
        using var clf = Make();
        var images = Enumerable.Range(0, 5).Select(i => ($"im{i}", (Func<GrayImage>)(() => SyntheticImages.Make(i, i % 2 == 0)))).ToList();
        var batched = clf.Predict(images, batchSize: 2);
        var single = images.Select(im => clf.Predict([im], batchSize: 1)[0]).ToList();
        for (int i = 0; i < 5; i++) Assert.Equal(single[i].Logit, batched[i].Logit, 4);

        var tta = clf.Predict(images, batchSize: 3, hflipTta: true);
        var mirrored = images.Select(im => (im.Item1, (Func<GrayImage>)(() => Mirror(im.Item2())))).ToList();
        var flipped = clf.Predict(mirrored, batchSize: 3);
        for (int i = 0; i < 5; i++) Assert.Equal((batched[i].Logit + flipped[i].Logit) / 2, tta[i].Logit, 4);
        Assert.NotEqual(batched[0].Logit, tta[0].Logit);
    }

    [Fact]
    public void UnreadableFilesGetAnErrorAndTheRestArePredicted()
    {
        using var clf = Make();
        string dir = Fixtures.TempDir("pred");
        string bad = Path.Combine(dir, "broken.dicom");
        File.WriteAllBytes(bad, new byte[300]);
        var preds = clf.PredictFiles([bad, Path.Combine(dir, "missing.dicom")]);
        Assert.Equal(["broken", "missing"], preds.Select(p => p.ImageId));
        Assert.All(preds, p => Assert.False(p.Ok));
        Assert.All(preds, p => Assert.True(double.IsNaN(p.Logit)));

        var mixed = clf.Predict([("good", () => SyntheticImages.Make(1, true)), ("bad", () => throw new IOException("disk gone"))]);
        Assert.True(mixed[0].Ok && double.IsFinite(mixed[0].Logit));
        Assert.Equal("disk gone", mixed[1].Error);
        string csv = Path.Combine(dir, "preds.csv");
        Classifier.WritePredictionsCsv(csv, mixed);
        var lines = File.ReadAllLines(csv);
        Assert.Equal("image_id,abnormal_prob,logit", lines[0]);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("good,", lines[1]);
    }

    private static GrayImage Mirror(GrayImage g)
    {
        var px = (byte[])g.Pixels.Clone();
        for (int y = 0; y < g.Height; y++) Array.Reverse(px, y * g.Width, g.Width);
        return g with { Pixels = px };
    }
}
