using SpineXR.Vision.IO;
using SpineXR.Vision.Models;
using SpineXR.Vision.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace SpineXR.Vision.Tests.Models;

[Collection(TorchRngCollection.Name)]
public class DenseNetTests
{
    public DenseNetTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData("densenet121")]
    [InlineData("densenet169")]
    [InlineData("densenet201")]
    public void StateDictKeysAndShapesEqualTorchvisions(string arch)
    {
        // Fixture: torchvision 0.14's state_dict() keys and shapes (tools/densenet_golden.py keys).
        var expected = File.ReadAllLines(Fixtures.Path("Models", arch + "_keys.txt"))
            .Select(l => l.Split(' ')).ToDictionary(p => p[0], p => p[1]);
        using var model = DenseNets.Create(arch);
        var ours = model.state_dict().ToDictionary(kv => kv.Key, kv => string.Join("x", kv.Value.shape));
        Assert.Empty(expected.Keys.Except(ours.Keys));  // missing
        Assert.Empty(ours.Keys.Except(expected.Keys));  // unexpected
        foreach (var (k, shape) in expected) Assert.True(shape == ours[k], $"{k}: torchvision {shape}, ours {ours[k]}");
    }

    [Fact]
    public void TorchvisionPthLoadsStrictlyAndGivesTheSameLogits()
    {
        // A tiny torchvision DenseNet with random weights and accumulated BatchNorm statistics, torch.save'd.
        var weights = StateDict.Read(Fixtures.Path("Models", "densenet_tiny.pth"));
        using var model = ClassifierArchitectures.Build("densenet_tiny", weights);
        var report = StateDict.Load(model, weights);
        Assert.True(report.IsExact, report.ToString());
        Assert.Equal(3, ((DenseNet)model).NumClasses);

        var x = Npy.Read(Fixtures.Path("Models", "input.npy"));
        var expected = Npy.Read(Fixtures.Path("Models", "output.npy"));
        model.eval();
        using var _ = no_grad();
        using var input = torch.tensor(x.Data, x.Shape);
        using var logits = model.call(input);
        Assert.Equal(expected.Shape, logits.shape);
        float[] got = logits.data<float>().ToArray();
        for (int i = 0; i < got.Length; i++) Assert.True(Math.Abs(got[i] - expected.Data[i]) < 1e-5, $"logit {i}: {got[i]} vs torchvision {expected.Data[i]}");
    }

    [Fact]
    public void LoadingIntoTheWrongArchitectureListsTheOffendingKeys()
    {
        var weights = StateDict.Read(Fixtures.Path("Models", "densenet_tiny.pth"));
        using var model = new DenseNet(DenseNets.DenseNetTiny with { GrowthRate = 6 }, 3);
        var e = Assert.Throws<WeightMismatchException>(() => StateDict.Load(model, weights, source: "tiny.pth"));
        Assert.Contains("tiny.pth", e.Message);
        Assert.Contains("wrong shape", e.Message);
        Assert.NotEmpty(e.Report.ShapeMismatches);

        weights.Remove("features.norm5.running_mean");
        weights["extra.weight"] = torch.zeros(1);
        var report = StateDict.Check(model, weights);
        Assert.Equal(["features.norm5.running_mean"], report.Missing);
        Assert.Equal(["extra.weight"], report.Unexpected);
    }

    [Fact]
    public void HeadIsSkippableForFineTuningAndResetChangesOutputs()
    {
        var weights = StateDict.Read(Fixtures.Path("Models", "densenet_tiny.pth"));
        using var model = DenseNets.Create("densenet_tiny", numClasses: 1);
        var report = StateDict.Load(model, weights, skip: k => k.StartsWith("classifier.", StringComparison.Ordinal));
        Assert.True(report.IsExact);
        Assert.Equal(2, report.Skipped.Count);
        Assert.Equal(weights["features.conv0.weight"].data<float>().ToArray(), model.state_dict()["features.conv0.weight"].data<float>().ToArray());

        model.ResetClassifier(5);
        model.eval();
        using var x = torch.randn(2, 3, 32, 32);
        using var y = model.call(x);
        Assert.Equal([2L, 5L], y.shape);
        Assert.Contains("classifier.weight", model.state_dict().Keys);
        Assert.Equal([5L, model.NumFeatures], model.state_dict()["classifier.weight"].shape);
    }

    [Theory]
    [InlineData("densenet_tiny", 1, 32)]
    [InlineData("densenet_tiny", 4, 48)]
    [InlineData("densenet121", 1, 64)]
    public void ForwardShapesAndFiniteLossFromEveryFactory(string arch, int classes, int size)
    {
        torch.manual_seed(3);
        using var model = DenseNets.Create(arch, classes);
        model.train();
        using var scope = NewDisposeScope();
        var x = torch.randn(2, 3, size, size);
        var features = model.ForwardFeatures(x);
        Assert.Equal([2L, model.NumFeatures, size / 32, size / 32], features.shape);
        var logits = model.ForwardHead(features);
        Assert.Equal([2L, classes], logits.shape);
        var loss = nn.functional.binary_cross_entropy_with_logits(logits, torch.ones_like(logits));
        loss.backward();
        Assert.True(double.IsFinite(loss.item<float>()));
        Assert.All(model.parameters(), p => Assert.NotNull(p.grad));
    }
}

public class ModelRunTests
{
    public ModelRunTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void RegistryRunsTheTinyDenseNetAndWritesTorchvisionsLogits()
    {
        Assert.True(Architectures.TryGet("densenet121", out _));
        Assert.True(Architectures.TryGet("resnet50", out _));
        Assert.True(Architectures.TryGet("densenet_tiny", out var runner));
        var weights = StateDict.Read(Fixtures.Path("Models", "densenet_tiny.pth"));
        var x = Npy.Read(Fixtures.Path("Models", "input.npy"));
        string dir = Fixtures.TempDir("run");
        using var input = torch.tensor(x.Data, x.Shape);
        var files = runner.Run("densenet_tiny", weights, input, dir);
        Assert.Equal([Path.Combine(dir, "output.npy")], files);
        var got = Npy.Read(files[0]);
        var expected = Npy.Read(Fixtures.Path("Models", "output.npy"));
        Assert.Equal(expected.Shape, got.Shape);
        for (int i = 0; i < got.Data.Length; i++) Assert.True(Math.Abs(got.Data[i] - expected.Data[i]) < 1e-5);

        using var gray = torch.zeros(1, 1, 32, 32);
        Assert.Contains("N x 3 x H x W", Assert.Throws<InvalidDataException>(() => runner.Run("densenet_tiny", weights, gray, dir)).Message);
    }
}
