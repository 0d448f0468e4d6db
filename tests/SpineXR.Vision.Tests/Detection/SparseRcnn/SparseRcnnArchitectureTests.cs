using SpineXR.Vision.Detection;
using SpineXR.Vision.Models;
using static TorchSharp.torch;

namespace SpineXR.Vision.Tests.Detection.SparseRcnn;

public class SparseRcnnArchitectureTests
{
    public SparseRcnnArchitectureTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void IsRegisteredForModelRunAndSizesItselfFromTheWeights()
    {
        Assert.True(Architectures.TryGet("sparse_rcnn_r50_fpn", out var arch));
        Assert.IsType<SparseRcnnArchitecture>(arch);
        using var scope = NewDisposeScope();
        var weights = new Dictionary<string, Tensor>
        {
            ["head.head_series.0.class_logits.weight"] = zeros(80, 256),
            ["head.head_series.5.class_logits.weight"] = zeros(80, 256),
            ["init_proposal_boxes.weight"] = zeros(300, 4),
        };
        var config = SparseRcnnArchitecture.ConfigFor(weights);
        Assert.Equal(80, config.NumClasses);
        Assert.Equal(300, config.NumProposals);
        Assert.Equal(6, config.NumStages);
        Assert.Equal([800], config.MinSize);
        weights.Remove("init_proposal_boxes.weight");
        Assert.Contains("init_proposal_boxes.weight", Assert.Throws<InvalidDataException>(() => SparseRcnnArchitecture.ConfigFor(weights)).Message);
    }
}
