using SpineXR.Vision.Detection;
using SpineXR.Vision.Detection.Training;
using SpineXR.Vision.Models;
using TorchSharp;
using static TorchSharp.torch;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Tests.Detection.EfficientDet;

[Collection(TorchRngCollection.Name)]
public class EfficientDetTests
{
    public EfficientDetTests() => TorchRuntime.EnsureLoaded();

    /// <summary>A few-thousand-parameter EfficientDet: B0 at width 0.1 and depth 0.25, 16-channel BiFPN, one cell, one head conv.</summary>
    internal static EfficientDetConfig Tiny(int classes = 3) => EfficientDetConfig.D(0, classes) with
    {
        Backbone = new EfficientNetConfig(0.1, 0.25, 0.2, StochasticDepthProb: 0),
        FpnChannels = 16,
        FpnCellRepeats = 1,
        BoxClassRepeats = 1,
        ImageSize = 128,
        MinSize = [128],
    };

    [Fact]
    public void FusionWeightsAreNonNegativeAndNormalised()
    {
        torch.manual_seed(2);
        using var combine = new FpnCombine([0, 1, 2], [(8, 3), (8, 3), (8, 3)], 8, 3);
        using (no_grad()) combine.EdgeWeights.copy_(tensor(new[] { 2f, -1f, 0.5f }));
        using var w = combine.NormalisedWeights();
        // relu(e) / (sum relu(e) + 1e-4): the negative weight contributes nothing
        var expected = new[] { 2 / 2.5001, 0, 0.5 / 2.5001 };
        var got = w.data<float>().ToArray();
        for (int i = 0; i < 3; i++) Assert.Equal(expected[i], got[i], 5);
        Assert.All(got, v => Assert.True(v >= 0));
        Assert.InRange(got.Sum(), 0.999, 1.0);

        // the node output is that weighted sum of its (same-level, same-width) inputs
        using var scope = NewDisposeScope();
        Tensor[] x = [torch.randn(1, 8, 4, 4), torch.randn(1, 8, 4, 4), torch.randn(1, 8, 4, 4)];
        var y = combine.call(x);
        var manual = x[0] * got[0] + x[2] * got[2];
        Assert.True(torch.allclose(y, manual, 1e-5, 1e-6));

        // every edge negative: all weights 0, the output 0, nothing divided by zero
        using (no_grad()) combine.EdgeWeights.copy_(tensor(new[] { -1f, -2f, -0.5f }));
        Assert.All(combine.NormalisedWeights().data<float>().ToArray(), v => Assert.Equal(0f, v));
        Assert.True(combine.call(x).abs().max().item<float>() == 0);
    }

    [Fact]
    public void EveryBiFpnNodeNormalisesItsWeights()
    {
        torch.manual_seed(3);
        using var model = new SpineXR.Vision.Detection.EfficientDet(Tiny());
        var nodes = model.Fpn.Cells.SelectMany(c => c.FNodes).ToList();
        Assert.Equal(8, nodes.Count);
        Assert.Equal([2, 2, 2, 2, 3, 3, 3, 2], nodes.Select(n => (int)n.Combine.EdgeWeights.shape[0]));
        foreach (var n in nodes)
        {
            using var w = n.Combine.NormalisedWeights();
            Assert.All(w.data<float>().ToArray(), v => Assert.True(v >= 0));
            Assert.InRange(w.sum().item<float>(), 0.999, 1.0);
        }
    }

    [Fact]
    public void AnchorsPerLevelEqualHandWorkedValues()
    {
        // a 128 x 128 batch: P3 16x16 (stride 8) ... P7 1x1 (stride 128), nine anchors per cell
        using var a = EfficientDetAnchors.Generate(128, 128, [(16, 16), (8, 8), (4, 4), (2, 2), (1, 1)], 4.0);
        Assert.Equal([(256L + 64 + 16 + 4 + 1) * 9, 4], a.shape);
        float[] Row(long i) => a[i].data<float>().ToArray();
        // P3, cell (0, 0), centre (4, 4): octave 0 aspect (1, 1) is 4 * 8 = 32 wide
        Assert.Equal(new[] { -12f, -12f, 20f, 20f }, Row(0));
        // aspect (1.4, 0.7): 44.8 x 22.4
        Assert.Equal(new[] { -18.4f, -7.2f, 26.4f, 15.2f }, Row(1), new FloatTolerance(1e-4f));
        // aspect (0.7, 1.4): 22.4 x 44.8
        Assert.Equal(new[] { -7.2f, -18.4f, 15.2f, 26.4f }, Row(2), new FloatTolerance(1e-4f));
        // octave 1/3, aspect (1, 1): 32 * 2^(1/3) = 40.3175
        Assert.Equal(new[] { -16.1587f, -16.1587f, 24.1587f, 24.1587f }, Row(3), new FloatTolerance(1e-3f));
        // octave 2/3, aspect (1, 1): 32 * 2^(2/3) = 50.7968
        Assert.Equal(new[] { -21.3984f, -21.3984f, 29.3984f, 29.3984f }, Row(6), new FloatTolerance(1e-3f));
        // P3, cell (row 0, column 1): centre (12, 4); x varies fastest
        Assert.Equal(new[] { -4f, -12f, 28f, 20f }, Row(9));
        // P3, cell (row 1, column 0): centre (4, 12)
        Assert.Equal(new[] { -12f, -4f, 20f, 28f }, Row(16 * 9));
        // P4's first anchor: stride 16, centre (8, 8), 64 wide
        Assert.Equal(new[] { -24f, -24f, 40f, 40f }, Row(256 * 9));
        // P7's only cell: stride 128, centre (64, 64), 512 wide
        Assert.Equal(new[] { -192f, -192f, 320f, 320f }, Row((256 + 64 + 16 + 4) * 9));
    }

    private sealed class FloatTolerance(float tol) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tol;
        public int GetHashCode(float obj) => 0;
    }

    [Fact]
    public void ModuleNamesAreEffdets()
    {
        using var model = new SpineXR.Vision.Detection.EfficientDet(EfficientDetConfig.D(0, 7));
        var keys = model.state_dict().Keys.ToHashSet();
        // effdet's efficientdet_d0 layout (fpn_channels 64, 3 cells, 3 head repeats, no redundant biases)
        foreach (var k in new[]
                 {
                     "fpn.resample.3.conv.conv.weight", "fpn.resample.3.conv.bn.running_var",
                     "fpn.cell.0.fnode.0.combine.edge_weights", "fpn.cell.0.fnode.1.combine.resample.2.conv.conv.weight",
                     "fpn.cell.0.fnode.4.combine.resample.1.conv.bn.weight", "fpn.cell.2.fnode.7.after_combine.conv.conv_dw.weight",
                     "fpn.cell.2.fnode.7.after_combine.conv.conv_pw.weight", "fpn.cell.2.fnode.7.after_combine.conv.bn.bias",
                     "class_net.conv_rep.2.conv_dw.weight", "class_net.bn_rep.2.4.bn.running_mean", "class_net.predict.conv_pw.bias",
                     "box_net.predict.conv_dw.weight", "backbone.features.7.0.block.3.1.weight",
                 })
            Assert.Contains(k, keys);
        Assert.DoesNotContain("fpn.cell.0.fnode.0.after_combine.conv.conv_pw.bias", keys);
        // every key is under effdet's four top-level modules, nothing registered twice under a private name
        Assert.All(keys, k => Assert.Matches(@"^(backbone\.features|fpn\.(resample|cell)|class_net|box_net)\.", k));
        Assert.DoesNotContain(keys, k => k.Contains("._", StringComparison.Ordinal));
        Assert.DoesNotContain("fpn.cell.1.fnode.1.combine.resample.2.conv.conv.weight", keys); // later cells need no lateral convs
        Assert.DoesNotContain(keys, k => k.StartsWith("backbone.features.8.", StringComparison.Ordinal) || k.StartsWith("backbone.classifier", StringComparison.Ordinal));
        Assert.Equal([7L * 9, 64, 1, 1], model.state_dict()["class_net.predict.conv_pw.weight"].shape);
        Assert.Equal([4L * 9, 64, 1, 1], model.state_dict()["box_net.predict.conv_pw.weight"].shape);
    }

    [Theory]
    [InlineData(0, 64, 3, 3, 512)]
    [InlineData(1, 88, 4, 3, 640)]
    [InlineData(2, 112, 5, 3, 768)]
    [InlineData(3, 160, 6, 4, 896)]
    public void PublishedScalingPerCompoundCoefficient(int phi, int width, int cells, int heads, int size)
    {
        var c = EfficientDetConfig.D(phi);
        Assert.Equal((width, cells, heads, size), (c.FpnChannels, c.FpnCellRepeats, c.BoxClassRepeats, c.ImageSize));
        Assert.Equal(EfficientNets.Variants[$"efficientnet_b{phi}"].WidthMult, c.Backbone.WidthMult);
        // the paper preset trains the published network at its size
        var p = DetectorTrainConfig.Paper($"efficientdet-d{phi}");
        Assert.Equal(($"efficientnet_b{phi}", width, size, size, size), (p.Model.Backbone, p.Model.FpnChannels, p.Model.MinSize, p.Input.MinSizes[^1], p.Model.MaxSize));
        Assert.Equal($"efficientdet_d{phi}", DetectorTrainer.ArchitectureName(p));
    }

    [Fact]
    public void LossesAreFiniteAndEveryParameterGetsAGradient()
    {
        torch.manual_seed(4);
        using var model = new SpineXR.Vision.Detection.EfficientDet(Tiny());
        model.train();
        using var scope = NewDisposeScope();
        var images = new[] { torch.rand(3, 120, 100), torch.rand(3, 128, 96) };
        var targets = new[]
        {
            new DetectionTarget(tensor(new[] { 10f, 20f, 40f, 60f }).view(1, 4), tensor(new long[] { 2 })),
            new DetectionTarget(zeros(0, 4), zeros(0, ScalarType.Int64)),
        };
        var losses = model.Losses(images, targets, new Random(1));
        Assert.Equal(["bbox_regression", "classification"], losses.Keys.Order());
        var total = losses.Values.Aggregate((a, b) => a + b);
        Assert.True(float.IsFinite(total.item<float>()));
        Assert.True(losses["bbox_regression"].item<float>() > 0);
        total.backward();
        Assert.All(model.named_parameters(), p => Assert.True(p.parameter.grad is not null, p.name + " has no gradient"));

        model.eval();
        var dets = model.Detect(images);
        Assert.Equal(2, dets.Count);
        Assert.All(dets, d => Assert.True(d.Boxes.shape[0] <= model.Config.DetectionsPerImage));
    }

    [Fact]
    public void FocalAndHuberLossesHaveEffdetsValues()
    {
        using var scope = NewDisposeScope();
        // logit 0 (p = 0.5) on a positive: 0.25 * 0.5^1.5 * ln 2; on a negative: 0.75 * 0.5^1.5 * ln 2
        var f = SpineXR.Vision.Detection.EfficientDet.FocalLoss(zeros(2), tensor(new[] { 1f, 0f }), 0.25, 1.5).data<float>().ToArray();
        Assert.Equal(0.25 * Math.Pow(0.5, 1.5) * Math.Log(2), f[0], 5);
        Assert.Equal(0.75 * Math.Pow(0.5, 1.5) * Math.Log(2), f[1], 5);
        // Huber at delta 0.1: |d| = 0.05 -> 0.5 * 0.0025; |d| = 1 -> 0.1 * (1 - 0.05)
        var h = SpineXR.Vision.Detection.EfficientDet.Huber(tensor(new[] { 0.05f, 1f }), zeros(2), 0.1).item<float>();
        Assert.Equal(0.00125 + 0.095, h, 5);
    }

    [Fact]
    public void UnknownArchitecturesAndWrongBackbonesAreRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => DetectorTrainConfig.Cpu("efficientdet-d9"));
        Assert.Contains("unknown detector architecture 'efficientdet-d9'", e.Message);
        Assert.Contains("efficientdet-d3", e.Message);
        var v = Assert.Throws<ArgumentException>(() => (new DetectorTrainConfig { Model = new() { Arch = "yolo" } }).Validate());
        Assert.Contains("sparse-rcnn", v.Message);
        // an EfficientDet on a ResNet is refused, not silently built
        var b = Assert.Throws<ArgumentException>(() => (DetectorTrainConfig.Cpu("efficientdet-d0").Model with { Backbone = "resnet18" }).Validate());
        Assert.Contains("EfficientNet backbone", b.Message);
        using var m = DetectorTrainConfig.Cpu("efficientdet-d0").BuildModel(7);
        Assert.IsType<SpineXR.Vision.Detection.EfficientDet>(m);
        Assert.Equal(0, DetectorRegistry.Get("efficientdet-d0").LabelOffset);
        Assert.Equal(1, DetectorRegistry.Get("faster-rcnn").LabelOffset);
    }
}
