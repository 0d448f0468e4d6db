using SpineXR.Vision.Onnx;
using static TorchSharp.torch;

namespace SpineXR.Vision.Tests.Onnx;

/// <summary>The writer's guard: an export that leaves a model tensor out of the graph fails (num_batches_tracked aside).</summary>
public sealed class OnnxModuleWriterTests
{
    public OnnxModuleWriterTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void AnUnusedWeightFailsTheExportAndBatchCountersDoNot()
    {
        using var scope = NewDisposeScope();
        var state = new Dictionary<string, Tensor>
        {
            ["conv.weight"] = ones(4, 3, 1, 1),
            ["fpn.cell.0.fnode.0.combine.edge_weights"] = ones(2),
            ["bn.num_batches_tracked"] = zeros(1, ScalarType.Int64),
        };
        var m = new OnnxModuleWriter(new OnnxGraph("t"), state);
        m.Graph.AddInput("x", "batch", 3L, "height", "width");
        m.Conv("conv", "x", 1);
        var e = Assert.Throws<InvalidOperationException>(m.EnsureAllUsed);
        Assert.Contains("leaves out 1 tensors of the model, e.g. 'fpn.cell.0.fnode.0.combine.edge_weights'", e.Message);

        m.W("fpn.cell.0.fnode.0.combine.edge_weights");
        m.EnsureAllUsed();
        Assert.Equal(["conv.weight", "fpn.cell.0.fnode.0.combine.edge_weights"], m.Graph.Initializers.Order());
    }
}
