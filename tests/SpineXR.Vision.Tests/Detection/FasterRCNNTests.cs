using SpineXR.Vision.Detection;
using SpineXR.Vision.Weights;
using Xunit.Abstractions;

namespace SpineXR.Vision.Tests.Detection;

public class FasterRCNNTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SmallConfigurationMatchesTorchvisionDetections(bool frozenNorms)
    {
        TorchRuntime.EnsureLoaded();
        var config = GoldenModels.SmallFasterRcnn;
        if (frozenNorms) config = config with { Backbone = config.Backbone with { Body = config.Backbone.Body with { Norm = SpineXR.Vision.Models.NormKind.FrozenBatchNorm } } };
        using var model = new FasterRCNN(config);
        StateDict.Load(model, StateDict.Read(GoldenModels.Fixture("fasterrcnn_small.pth")), skip: DetectorArchitectures.IsNumBatchesTracked);
        model.eval();
        var (images, expected, _) = GoldenModels.ReadIo("fasterrcnn_small_io.pth");
        var actual = model.Detect(images);
        Assert.Equal(images.Length, actual.Count);
        for (int i = 0; i < images.Length; i++)
        {
            var failures = GoldenModels.Compare(expected[i], actual[i]);
            foreach (var f in failures.Take(10)) output.WriteLine($"image {i}: {f}");
            Assert.Empty(failures);
            Assert.Equal(expected[i].Scores.shape[0], actual[i].Scores.shape[0]);
        }
    }
}
