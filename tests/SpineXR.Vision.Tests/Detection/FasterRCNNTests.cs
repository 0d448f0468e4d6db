using SpineXR.Vision.Detection;
using SpineXR.Vision.Weights;
using Xunit.Abstractions;

namespace SpineXR.Vision.Tests.Detection;

public class FasterRCNNTests(ITestOutputHelper output)
{
    [Fact]
    public void SmallConfigurationMatchesTorchvisionDetections()
    {
        TorchRuntime.EnsureLoaded();
        using var model = new FasterRCNN(GoldenModels.SmallFasterRcnn);
        StateDict.Load(model, StateDict.Read(GoldenModels.Fixture("fasterrcnn_small.pth")));
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
