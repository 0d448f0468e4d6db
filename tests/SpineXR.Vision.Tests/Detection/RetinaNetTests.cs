using SpineXR.Vision.Detection;
using SpineXR.Vision.Weights;
using Xunit.Abstractions;

namespace SpineXR.Vision.Tests.Detection;

public class RetinaNetTests(ITestOutputHelper output)
{
    [Fact]
    public void SmallConfigurationMatchesTorchvisionDetections()
    {
        TorchRuntime.EnsureLoaded();
        using var model = new RetinaNet(GoldenModels.SmallRetinaNet);
        StateDict.Load(model, StateDict.Read(GoldenModels.Fixture("retinanet_small.pth")));
        model.eval();
        var (images, expected, _) = GoldenModels.ReadIo("retinanet_small_io.pth");
        var actual = model.Detect(images);
        for (int i = 0; i < images.Length; i++)
        {
            var failures = GoldenModels.Compare(expected[i], actual[i]);
            foreach (var f in failures.Take(10)) output.WriteLine($"image {i}: {f}");
            Assert.Empty(failures);
            Assert.Equal(expected[i].Scores.shape[0], actual[i].Scores.shape[0]);
        }
    }
}
