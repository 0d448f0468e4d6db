using SpineXR.Vision.Detection;
using SpineXR.Vision.Models;
using SpineXR.Vision.Weights;
using TorchSharp;

namespace SpineXR.Vision.Tests.Detection;

/// <summary>Our modules expose exactly torchvision's state-dict keys and shapes, so its checkpoints load with no missing or unexpected key.</summary>
public class KeyCompatibilityTests
{
    private static Dictionary<string, string> Keys(string model) =>
        File.ReadLines(GoldenModels.Fixture("torchvision_keys.txt"))
            .Where(l => l.StartsWith(model + " ", StringComparison.Ordinal))
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[1], p => p[2]);

    private static void AssertSameKeys(string model, torch.nn.Module module)
    {
        var expected = Keys(model);
        Assert.NotEmpty(expected);
        var ours = module.state_dict().ToDictionary(kv => kv.Key, kv => string.Join("x", kv.Value.shape));
        Assert.Empty(expected.Keys.Except(ours.Keys));
        Assert.Empty(ours.Keys.Except(expected.Keys));
        foreach (var (k, shape) in expected) Assert.True(ours[k] == shape, $"{k}: torchvision {shape}, ours {ours[k]}");
    }

    [Fact]
    public void FasterRcnnResNet50FpnKeys()
    {
        TorchRuntime.EnsureLoaded();
        using var m = new FasterRCNN(FasterRcnnConfig.ResNet50Fpn(91));
        AssertSameKeys("fasterrcnn_resnet50_fpn", m);
    }

    [Fact]
    public void RetinaNetResNet50FpnKeys()
    {
        TorchRuntime.EnsureLoaded();
        using var m = new RetinaNet(RetinaNetConfig.ResNet50Fpn(91));
        AssertSameKeys("retinanet_resnet50_fpn", m);
    }

    [Theory]
    [InlineData("resnet18")]
    [InlineData("resnet34")]
    [InlineData("resnet101")]
    public void ResNetClassifierKeys(string name)
    {
        TorchRuntime.EnsureLoaded();
        using var m = new ResNet(ResNetConfig.FromName(name));
        AssertSameKeys(name, m);
    }

    [Fact]
    public void FrozenNormsLoadBatchNormCheckpointsWithoutNumBatchesTracked()
    {
        TorchRuntime.EnsureLoaded();
        using var frozen = new FasterRCNN(FasterRcnnConfig.ResNet50Fpn(91, pretrainedBackbone: true));
        var ours = frozen.state_dict().Keys.ToHashSet();
        var expected = Keys("fasterrcnn_resnet50_fpn").Keys.Where(k => !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToHashSet();
        Assert.True(ours.SetEquals(expected));
    }
}
