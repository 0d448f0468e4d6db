// ONNX export of SpineXR's RetinaNet (torchvision 0.14's retinanet_resnet50_fpn and the narrower `cpu` preset): one
// graph from the normalised, padded batch to the heads' outputs, written from the configuration node for node as
// RetinaNet.Detect computes it, with the state dict's tensors under torchvision's names. Anchors, decoding, NMS and
// the mapping back to original pixels stay in C# (RetinaNetPostProcess, shared with libtorch; why: docs/onnx.md).
using SpineXR.Vision.Detection;
using SpineXR.Vision.Onnx.Proto;

namespace SpineXR.Vision.Onnx;

/// <summary>Builds the ONNX graph (opset 17, dynamic batch and size) of a <see cref="RetinaNet"/> in eval mode.</summary>
public static class RetinaNetOnnxExporter
{
    /// <summary>Input: float32 (batch, 3, H, W), normalised by the transform's mean and std, zero-padded to multiples of 32.</summary>
    public const string InputName = "images";

    /// <summary>Output: float32 (batch, sum over levels of H*W*A, classes), anchors in generation order, before the sigmoid.</summary>
    public const string ClsLogitsName = "cls_logits";

    /// <summary>Output: float32 (batch, sum over levels of H*W*A, 4), box deltas (dx, dy, dw, dh) against the anchors.</summary>
    public const string BboxRegressionName = "bbox_regression";

    /// <summary>Output: int64 (10): H and W of each pyramid level P3..P7, which the anchors need.</summary>
    public const string LevelSizesName = "level_sizes";

    public static ModelProto Build(RetinaNet model, IEnumerable<KeyValuePair<string, string>>? metadata = null)
    {
        var config = model.Config;
        if (!config.Backbone.ReturnedLayers.SequenceEqual([2, 3, 4]) || config.Backbone.Extra != FpnExtraBlock.LastLevelP6P7)
            throw new NotSupportedException("RetinaNet export expects the P3-P7 backbone (layers 2..4 and P6/P7)");
        var g = new OnnxGraph("retinanet");
        var m = new OnnxModuleWriter(g, model.state_dict());
        g.AddInput(InputName, "batch", 3L, "height", "width");

        var c = m.ResNetBody("backbone.body", config.Backbone.Body, InputName);
        var p = m.Fpn("backbone.fpn", [c[1], c[2], c[3]]).ToList();
        // LastLevelP6P7 reads P5 when its input width equals the FPN's (torchvision's use_P5), C5 otherwise.
        bool useP5 = m.Shape("backbone.fpn.extra_blocks.p6.weight")[1] == config.Backbone.OutChannels;
        string p6 = m.Conv("backbone.fpn.extra_blocks.p6", useP5 ? p[2] : c[3], 3, 2, 1);
        string p7 = m.Conv("backbone.fpn.extra_blocks.p7", m.Relu("backbone.fpn.extra_blocks.relu", p6), 3, 2, 1);
        p.Add(p6);
        p.Add(p7);

        long a = model.PostProcess.Anchors.NumAnchorsPerLocation()[0];
        Branch(m, "head.classification_head", "cls_logits", p, a, config.NumClasses, ClsLogitsName);
        Branch(m, "head.regression_head", "bbox_reg", p, a, 4, BboxRegressionName);
        g.AddOutput(ClsLogitsName, "batch", "anchors", (long)config.NumClasses);
        g.AddOutput(BboxRegressionName, "batch", "anchors", 4L);

        // Shape(P_l)[2:4] per level, concatenated: the feature sizes the anchor generator needs.
        string starts = g.AddInt64Initializer("level_sizes.starts", 2), ends = g.AddInt64Initializer("level_sizes.ends", 4);
        var sizes = p.Select((level, l) => g.Node("Slice", $"level_sizes.{l}",
            [g.Node("Shape", $"level_sizes.{l}.shape", [level]), starts, ends])).ToList();
        g.Node("Concat", LevelSizesName, sizes, OnnxGraph.Int("axis", 0));
        g.AddInt64Output(LevelSizesName, 10L);

        m.EnsureAllUsed();
        string version = typeof(RetinaNetOnnxExporter).Assembly.GetName().Version?.ToString() ?? "0";
        return g.ToModel(DenseNetOnnxExporter.Opset, version, metadata ?? []);
    }

    /// <summary>One head branch on every level (shared weights), reshaped and concatenated as RetinaNetHeadBranch.forward.</summary>
    private static void Branch(OnnxModuleWriter m, string prefix, string outputConv, IReadOnlyList<string> levels, long anchors, long perAnchor, string output)
    {
        var g = m.Graph;
        string shape1 = g.AddInt64Initializer($"{prefix}.shape1", 0, anchors, perAnchor, -1);
        string shape2 = g.AddInt64Initializer($"{prefix}.shape2", 0, -1, perAnchor);
        var outs = new List<string>();
        for (int l = 0; l < levels.Count; l++)
        {
            string y = levels[l];
            for (int i = 0; i < 4; i++)
                y = m.Relu($"{prefix}.conv.{i}.1@{l}", m.Conv($"{prefix}.conv.{i}.0", y, 3, 1, 1, name: $"{prefix}.conv.{i}.0@{l}"));
            y = m.Conv($"{prefix}.{outputConv}", y, 3, 1, 1, name: $"{prefix}.{outputConv}@{l}");
            // (N, A*K, H, W) -> (N, A, K, HW) -> (N, HW, A, K) -> (N, HWA, K): the order of (N, H, W, A, K)
            y = g.Node("Reshape", $"{prefix}.view@{l}", [y, shape1]);
            y = g.Node("Transpose", $"{prefix}.permute@{l}", [y], OnnxGraph.Ints("perm", 0, 3, 1, 2));
            outs.Add(g.Node("Reshape", $"{prefix}.flat@{l}", [y, shape2]));
        }
        g.Node("Concat", output, outs, OnnxGraph.Int("axis", 1));
    }
}
