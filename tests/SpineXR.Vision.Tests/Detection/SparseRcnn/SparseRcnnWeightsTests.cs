using SpineXR.Vision.Detection;
using static TorchSharp.torch;
using SparseModel = SpineXR.Vision.Detection.SparseRcnn;

namespace SpineXR.Vision.Tests.Detection.SparseRcnn;

public class SparseRcnnWeightsTests
{
    private static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Detection", "SparseRcnn", "detectron2_subset.pth");

    public SparseRcnnWeightsTests() => TorchRuntime.EnsureLoaded();

    [Theory]
    [InlineData("backbone.bottom_up.stem.conv1.weight", "backbone.body.conv1.weight")]
    [InlineData("backbone.bottom_up.stem.conv1.norm.running_var", "backbone.body.bn1.running_var")]
    [InlineData("backbone.bottom_up.res2.0.conv1.weight", "backbone.body.layer1.0.conv1.weight")]
    [InlineData("backbone.bottom_up.res4.5.conv3.norm.bias", "backbone.body.layer3.5.bn3.bias")]
    [InlineData("backbone.bottom_up.res5.0.shortcut.weight", "backbone.body.layer4.0.downsample.0.weight")]
    [InlineData("backbone.bottom_up.res3.0.shortcut.norm.running_mean", "backbone.body.layer2.0.downsample.1.running_mean")]
    [InlineData("backbone.fpn_lateral2.weight", "backbone.fpn.inner_blocks.0.0.weight")]
    [InlineData("backbone.fpn_output5.bias", "backbone.fpn.layer_blocks.3.0.bias")]
    [InlineData("head.head_series.5.inst_interact.dynamic_layer.weight", "head.head_series.5.inst_interact.dynamic_layer.weight")]
    [InlineData("init_proposal_boxes.weight", "init_proposal_boxes.weight")]
    [InlineData("pixel_mean", null)]
    [InlineData("backbone.bottom_up.res2.0.conv1.bias", null)]
    public void MapsDetectron2Names(string key, string? expected) => Assert.Equal(expected, SparseRcnnWeights.MapDetectron2Key(key));

    [Fact]
    public void LoadsADetectron2CheckpointAndReportsEveryKey()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        using var model = new SparseModel(SparseRcnnConfig.Tiny());
        var before = model.state_dict()["head.head_series.2.class_logits.weight"].clone();
        var report = SparseRcnnWeights.LoadFile(model, Fixture);

        Assert.Equal(SparseRcnnWeightFormat.Detectron2, report.Format);
        Assert.Equal(16, report.Mapped.Count);
        Assert.Equal(new[] { "pixel_mean" }, report.Skipped);
        Assert.Equal(2, report.ShapeMismatches.Count); // 80 COCO classes against 3
        Assert.Contains(report.ShapeMismatches, m => m.StartsWith("head.head_series.2.class_logits.weight [80x32]", StringComparison.Ordinal));
        Assert.Contains("head.head_series.1.norm1.weight", report.Missing);
        Assert.DoesNotContain("backbone.body.conv1.weight", report.Missing);
        Assert.DoesNotContain(report.Missing, k => k.EndsWith("num_batches_tracked", StringComparison.Ordinal));

        var sd = model.state_dict();
        Assert.Equal(0.005f, sd["backbone.body.conv1.weight"].flatten()[5].item<float>(), 6);
        Assert.Equal(0.007f, sd["backbone.body.layer2.0.downsample.1.running_var"][7].item<float>(), 6);
        Assert.Equal(0.031f, sd["backbone.fpn.inner_blocks.0.0.bias"][31].item<float>(), 6);
        Assert.Equal(0.079f, sd["init_proposal_boxes.weight"][19][3].item<float>(), 6);
        Assert.True(sd["head.head_series.2.class_logits.weight"].allclose(before)); // left alone
        Assert.Contains("16 mapped", report.ToString());
    }

    [Fact]
    public void UnreadableFileNamesTheFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"not-a-checkpoint-{Guid.NewGuid():N}.pth");
        File.WriteAllText(path, "hello");
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => SparseRcnnWeights.Read(path));
            Assert.StartsWith(path, e.Message);
        }
        finally { File.Delete(path); }
    }
}
