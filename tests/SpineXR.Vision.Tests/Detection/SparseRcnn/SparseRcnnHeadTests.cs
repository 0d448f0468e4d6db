using SpineXR.Vision.Detection;
using static TorchSharp.torch;

namespace SpineXR.Vision.Tests.Detection.SparseRcnn;

public class SparseRcnnHeadTests
{
    public SparseRcnnHeadTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void ApplyDeltasUsesWeightsAndClampsScale()
    {
        using var scope = NewDisposeScope();
        var boxes = tensor(new float[] { 0, 0, 10, 20 }).reshape(1, 4);
        // dx = 2/2 -> centre moves one width; dw = log 2 -> width doubles
        var deltas = tensor(new float[] { 2, 0, (float)Math.Log(2), 0 }).reshape(1, 4);
        var got = RCNNHead.ApplyDeltas(deltas, boxes, [2, 2, 1, 1], RCNNHead.DefaultScaleClamp).data<float>().ToArray();
        Assert.Equal(new float[] { 5, 0, 25, 20 }, got.Select(v => MathF.Round(v, 4)).ToArray());
        var huge = tensor(new float[] { 0, 0, 100, 0 }).reshape(1, 4);
        var clamped = RCNNHead.ApplyDeltas(huge, boxes, [2, 2, 1, 1], RCNNHead.DefaultScaleClamp).data<float>().ToArray();
        Assert.Equal(10 * 100000f / 16, clamped[2] - clamped[0], 0);
    }

    [Fact]
    public void DynamicHeadShapesParameterNamesAndPriorBias()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var o = new SparseRcnnConfig { NumClasses = 7, NumProposals = 5, HiddenDim = 32, DimFeedforward = 64, NumAttentionHeads = 4, DimDynamic = 8, NumStages = 2 };
        // Stand-in pooler: average of the first level broadcast to every RoI (the real one is RoIAlign).
        RoIPoolerFn pooler = (f, b) => f[0].mean([2, 3], keepdim: true).repeat_interleave(b.shape[1], 0).expand(-1, -1, 7, 7);
        var head = new DynamicHead(o, pooler);
        var names = head.named_parameters().Select(p => p.name).ToHashSet();
        foreach (var n in new[] { "head_series.0.self_attn.in_proj_weight", "head_series.0.self_attn.in_proj_bias", "head_series.0.self_attn.out_proj.weight",
                     "head_series.1.inst_interact.dynamic_layer.weight", "head_series.1.inst_interact.out_layer.weight", "head_series.1.inst_interact.norm3.bias",
                     "head_series.0.linear1.weight", "head_series.0.norm3.weight", "head_series.0.cls_module.0.weight", "head_series.0.cls_module.1.bias",
                     "head_series.0.reg_module.6.weight", "head_series.0.reg_module.7.bias", "head_series.1.class_logits.bias", "head_series.1.bboxes_delta.weight" })
            Assert.Contains(n, names);
        Assert.DoesNotContain("head_series.0.cls_module.0.bias", names); // Linear(d, d, bias=False)
        Assert.Equal(-Math.Log(99), head.named_parameters().First(p => p.name == "head_series.0.class_logits.bias").parameter.data<float>()[0], 5);

        var features = new[] { randn(2, 32, 8, 8) };
        var boxes = tensor(new float[] { 0, 0, 64, 64 }).expand(2, 5, 4).contiguous();
        var (logits, preds) = head.call(features, boxes, randn(5, 32));
        Assert.Equal(new long[] { 2, 2, 5, 7 }, logits.shape);
        Assert.Equal(new long[] { 2, 2, 5, 4 }, preds.shape);
        Assert.True(isfinite(logits).all().item<bool>() && isfinite(preds).all().item<bool>());
        // Freshly initialised class scores sit at the prior (0.01) give or take the features' effect.
        Assert.InRange(logits.sigmoid().mean().item<float>(), 0.001f, 0.1f);
    }
}
