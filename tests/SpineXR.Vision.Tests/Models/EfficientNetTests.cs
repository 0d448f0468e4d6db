using SpineXR.Vision.IO;
using SpineXR.Vision.Models;
using SpineXR.Vision.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace SpineXR.Vision.Tests.Models;

[Collection(TorchRngCollection.Name)]
public class EfficientNetTests
{
    public EfficientNetTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData("efficientnet_b0")]
    [InlineData("efficientnet_b1")]
    [InlineData("efficientnet_b2")]
    [InlineData("efficientnet_b3")]
    public void StateDictKeysAndShapesEqualTorchvisions(string arch)
    {
        // Fixture: torchvision 0.14's state_dict() keys and shapes (tools/efficientnet_golden.py tiny)
        var expected = File.ReadAllLines(Fixtures.Path("Models", "efficientnet_keys.txt"))
            .Select(l => l.Split(' ')).Where(p => p[0] == arch).ToDictionary(p => p[1], p => p[2]);
        Assert.NotEmpty(expected);
        using var model = EfficientNets.Create(arch);
        var ours = model.state_dict().ToDictionary(kv => kv.Key, kv => string.Join("x", kv.Value.shape));
        Assert.Empty(expected.Keys.Except(ours.Keys));  // missing
        Assert.Empty(ours.Keys.Except(expected.Keys));  // unexpected
        foreach (var (k, shape) in expected) Assert.True(shape == ours[k], $"{k}: torchvision {shape}, ours {ours[k]}");
    }

    [Fact]
    public void TorchvisionPthLoadsStrictlyAndGivesTheSameLogits()
    {
        // torchvision's EfficientNet class at width 0.1, depth 0.25, 5 classes, random weights and BatchNorm statistics
        var weights = StateDict.Read(Fixtures.Path("Models", "efficientnet_tiny.pth"));
        using var model = new EfficientNet(new EfficientNetConfig(0.1, 0.25, 0.2), 5);
        var report = StateDict.Load(model, weights);
        Assert.True(report.IsExact, report.ToString());

        var x = Npy.Read(Fixtures.Path("Models", "efficientnet_input.npy"));
        var expected = Npy.Read(Fixtures.Path("Models", "efficientnet_output.npy"));
        model.eval();
        using var _ = no_grad();
        using var input = torch.tensor(x.Data, x.Shape);
        using var logits = model.call(input);
        Assert.Equal(expected.Shape, logits.shape);
        float[] got = logits.data<float>().ToArray();
        for (int i = 0; i < got.Length; i++) Assert.True(Math.Abs(got[i] - expected.Data[i]) < 1e-4, $"logit {i}: {got[i]} vs torchvision {expected.Data[i]}");
    }

    [Fact]
    public void ModelRunKnowsEfficientNetsAndTheHeadPrefixSkipsTheClassifier()
    {
        Assert.True(Architectures.TryGet("efficientnet_b0", out _));
        Assert.True(Architectures.TryGet("efficientnet_b3", out _));
        Assert.Equal("classifier.1.", ClassifierArchitectures.HeadPrefix("efficientnet_b2"));
        var e = Assert.Throws<ArgumentException>(() => EfficientNets.Create("efficientnet_b9"));
        Assert.Contains("efficientnet_b0", e.Message);
    }

    [Fact]
    public void StagesHaveTheDocumentedStridesAndTrainingDropsResidualsOnlyInTrainMode()
    {
        torch.manual_seed(1);
        using var body = new EfficientNet(new EfficientNetConfig(0.25, 0.5, 0.2, StochasticDepthProb: 0.5), numClasses: 0);
        Assert.DoesNotContain(body.state_dict().Keys, k => k.StartsWith("classifier", StringComparison.Ordinal) || k.StartsWith("features.8.", StringComparison.Ordinal));
        using var scope = NewDisposeScope();
        var x = torch.randn(2, 3, 64, 64);
        body.eval();
        var stages = body.ForwardStages(x);
        Assert.Equal([32L, 16, 8, 4, 4, 2, 2], stages.Select(s => s.shape[2]));
        Assert.Equal(body.Config.StageChannels.Select(c => (long)c), stages.Select(s => s.shape[1]));
        // eval is deterministic; train mode with stochastic depth is not
        var again = body.ForwardStages(x);
        Assert.True(stages[^1].equal(again[^1]).all().item<bool>());
        body.train();
        var t1 = body.ForwardStages(x)[^1];
        var t2 = body.ForwardStages(x)[^1];
        Assert.False(t1.equal(t2).all().item<bool>());
    }
}
