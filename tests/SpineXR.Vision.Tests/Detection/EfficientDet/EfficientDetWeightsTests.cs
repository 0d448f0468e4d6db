using SpineXR.Vision.Detection;
using SpineXR.Vision.Models;
using SpineXR.Vision.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace SpineXR.Vision.Tests.Detection.EfficientDet;

public class EfficientDetWeightsTests
{
    public EfficientDetWeightsTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void EffdetCheckpointMapsKeyForKeyOntoOurModel()
    {
        // tools/efficientdet_fixture.py: effdet's layout (timm backbone names) at the tiny size of EfficientDetTests.Tiny
        var effdet = StateDict.Read(Fixtures.Path("Detection", "effdet_tiny.pth"));
        Assert.True(EfficientDetWeights.IsEffdet(effdet.Keys));
        var skipped = new List<string>();
        var ours = EfficientDetWeights.ToOurNames(effdet, skipped, out string format);
        Assert.Equal("effdet", format);
        Assert.Empty(skipped);
        using var model = new SpineXR.Vision.Detection.EfficientDet(EfficientDetTests.Tiny());
        var report = StateDict.Load(model, ours, source: "effdet_tiny.pth");
        Assert.True(report.IsExact, report.ToString());
        Assert.Equal(model.state_dict().Count, report.Loaded);

        // each block type lands in torchvision's slots: a depthwise-separable block (stage 0) and an inverted residual
        var sd = model.state_dict();
        void Same(string theirs, string mine) =>
            Assert.True(effdet[theirs].equal(sd[mine]).all().item<bool>(), $"{theirs} did not land in {mine}");
        Same("backbone.conv_stem.weight", "backbone.features.0.0.weight");
        Same("backbone.bn1.running_var", "backbone.features.0.1.running_var");
        Same("backbone.blocks.0.0.conv_dw.weight", "backbone.features.1.0.block.0.0.weight");
        Same("backbone.blocks.0.0.se.conv_expand.bias", "backbone.features.1.0.block.1.fc2.bias");
        Same("backbone.blocks.0.0.conv_pw.weight", "backbone.features.1.0.block.2.0.weight");
        Same("backbone.blocks.1.0.conv_pw.weight", "backbone.features.2.0.block.0.0.weight");
        Same("backbone.blocks.1.0.bn2.bias", "backbone.features.2.0.block.1.1.bias");
        Same("backbone.blocks.6.0.se.conv_reduce.weight", "backbone.features.7.0.block.2.fc1.weight");
        Same("backbone.blocks.6.0.conv_pwl.weight", "backbone.features.7.0.block.3.0.weight");
        Same("fpn.cell.0.fnode.4.combine.edge_weights", "fpn.cell.0.fnode.4.combine.edge_weights");
        Same("class_net.bn_rep.0.3.bn.running_mean", "class_net.bn_rep.0.3.bn.running_mean");
        Same("box_net.predict.conv_pw.bias", "box_net.predict.conv_pw.bias");
    }

    [Fact]
    public void ModelRunSizesTheNetworkFromAnEffdetCheckpoint()
    {
        var effdet = StateDict.Read(Fixtures.Path("Detection", "effdet_tiny.pth"));
        var ours = EfficientDetWeights.ToOurNames(effdet, [], out _);
        var c = EfficientDetArchitecture.ConfigFor("efficientdet_d0", ours);
        Assert.Equal((3, 16, 1, 1), (c.NumClasses, c.FpnChannels, c.FpnCellRepeats, c.BoxClassRepeats));
        Assert.True(Architectures.TryGet("efficientdet_d3", out _));
    }

    [Fact]
    public void InitLoadsAnImageNetBackboneAndReportsTheRest()
    {
        // a torchvision EfficientNet classifier (features.*, classifier.*): only the backbone can take it
        torch.manual_seed(6);
        using var classifier = new EfficientNet(new EfficientNetConfig(0.1, 0.25, 0.2), 10);
        using var model = new SpineXR.Vision.Detection.EfficientDet(EfficientDetTests.Tiny());
        string line = EfficientDetWeights.Load(model, classifier.state_dict());
        Assert.StartsWith("torchvision EfficientNet weights:", line);
        Assert.Contains("source keys unused", line); // features.8 and the classifier
        Assert.Contains("model tensors not in the file", line); // the BiFPN and the heads
        Assert.True(classifier.state_dict()["features.3.0.block.1.0.weight"].equal(model.state_dict()["backbone.features.3.0.block.1.0.weight"]).all().item<bool>());
    }
}
