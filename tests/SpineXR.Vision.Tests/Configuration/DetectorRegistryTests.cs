using System.Text.Json;
using SpineXR.Vision.Detection;
using SpineXR.Vision.Detection.Training;
using SpineXR.Vision.Training;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Tests.Configuration;

public class DetectorRegistryTests
{
    [Fact]
    public void PresetsOfTheEarlierDetectorsAreUnchangedByTheRegistry()
    {
        // the values DetectorTrainConfig.Cpu/Paper switched on by name before the registry (docs/training.md)
        var f = DetectorTrainConfig.Cpu("faster-rcnn");
        var r = DetectorTrainConfig.Cpu("retinanet");
        var s = DetectorTrainConfig.Cpu("sparse-rcnn");
        Assert.Equal((0.02, 10.0, 28.0, 1, 0.0), (f.Solver.Lr, f.Solver.ClipGradNorm, f.Solver.MaxMinutes, f.Model.SparseOneToMany, f.Model.SparseNms));
        Assert.Equal((0.01, 10.0, 28.0), (r.Solver.Lr, r.Solver.ClipGradNorm, r.Solver.MaxMinutes));
        Assert.Equal((2e-4, 1.0, 58.0, 6, 0.7), (s.Solver.Lr, s.Solver.ClipGradNorm, s.Solver.MaxMinutes, s.Model.SparseOneToMany, s.Model.SparseNms));
        Assert.All(new[] { f, r, s }, c => Assert.Equal(("resnet18", 32, 128, 4), (c.Model.Backbone, c.Model.BaseWidth, c.Model.FpnChannels, c.Solver.BatchSize)));
        var ps = DetectorTrainConfig.Paper("sparse-rcnn");
        Assert.Equal((2.5e-5, 1.0, 0.7), (ps.Solver.Lr, ps.Solver.ClipGradNorm, ps.Model.SparseNms));
        Assert.Equal(JsonSerializer.Serialize(new DetectorTrainConfig { Model = new() { Arch = "faster-rcnn" } }, ConfigBinder.Json),
            JsonSerializer.Serialize(DetectorTrainConfig.Paper("faster-rcnn"), ConfigBinder.Json));
    }

    [Fact]
    public void EarlierConfigurationsSerialiseWithoutTheEfficientDetKeys()
    {
        // unset EfficientDet keys are left out, so checkpoints and model.json of earlier runs compare equal on resume
        var json = JsonSerializer.Serialize(DetectorTrainConfig.Cpu("retinanet"), ConfigBinder.Json);
        Assert.DoesNotContain("backbone_width", json);
        Assert.DoesNotContain("bifpn_repeats", json);
        Assert.DoesNotContain("anchor_scale", json);
        var e = JsonSerializer.Serialize(DetectorTrainConfig.Cpu("efficientdet-d0"), ConfigBinder.Json);
        Assert.Contains("\"backbone_width\":0.5", e.Replace(" ", ""));
        // and they bind from key=value like every other key
        var c = DetectorTrainConfig.Cpu("efficientdet-d0").With([new("bifpn_repeats", "3"), new("anchor_scale", "4")]);
        Assert.Equal((3, 4.0), (c.Model.BifpnRepeats, c.Model.AnchorScale));
    }

    [Fact]
    public void NamesCardNamesAndLabelOffsetsComeFromOnePlace()
    {
        Assert.Equal(["faster-rcnn", "retinanet", "sparse-rcnn", "efficientdet-d0", "efficientdet-d1", "efficientdet-d2", "efficientdet-d3"], DetectorRegistry.Names);
        Assert.Equal("fasterrcnn_resnet18_fpn", DetectorTrainer.ArchitectureName(DetectorTrainConfig.Cpu("faster-rcnn")));
        Assert.Equal("sparse_rcnn_resnet18_fpn", DetectorTrainer.ArchitectureName(DetectorTrainConfig.Cpu("sparse-rcnn")));
        Assert.Equal("efficientdet_d2", DetectorTrainer.ArchitectureName(DetectorTrainConfig.Cpu("efficientdet-d2")));
        var card = DetectorTrainer.Card(DetectorTrainConfig.Cpu("faster-rcnn"), ["a"], "h", null);
        Assert.Equal(1, card.LabelOffset);
        Assert.Equal(0, DetectorTrainer.Card(DetectorTrainConfig.Cpu("efficientdet-d0"), ["a"], "h", null).LabelOffset);
        var e = Assert.Throws<ArgumentException>(() => DetectorRegistry.Get("detr"));
        Assert.Equal("unknown detector architecture 'detr' (known: faster-rcnn, retinanet, sparse-rcnn, efficientdet-d0, efficientdet-d1, efficientdet-d2, efficientdet-d3)", e.Message);
    }
}
