// ONNX export of SpineXR's EfficientDet (effdet's efficientdet_d0..d3 and the `cpu` preset's reduced D0): one graph
// from the normalised batch, zero-padded to multiples of 128, to the class and box nets' outputs, written from the
// configuration node for node as EfficientDet computes it in eval mode, with the state dict's tensors under their
// checkpoint names. The BiFPN's fast normalised fusion is computed in the graph from the learned edge weights
// (Relu, ReduceSum, + 1e-4, Div, one Gather per input), so the file holds the parameters the run trained, and ONNX
// Runtime folds those constant nodes once at load. Anchors, decoding in effdet's (ty, tx, th, tw) order, NMS and
// the mapping back to original pixels stay in C# (EfficientDetPostProcess, shared with libtorch; docs/onnx.md).
using System.Globalization;
using SpineXR.Vision.Detection;
using SpineXR.Vision.Onnx.Proto;
using static TorchSharp.torch;

namespace SpineXR.Vision.Onnx;

/// <summary>Builds the ONNX graph (opset 17, dynamic batch and size) of an <see cref="EfficientDet"/> in eval mode.</summary>
public static class EfficientDetOnnxExporter
{
    /// <summary>Input: float32 (batch, 3, H, W), normalised by ImageNet's mean and std, H and W multiples of 128.</summary>
    public const string InputName = "images";

    /// <summary>Output: float32 (batch, sum over levels of H*W*9, classes), anchors in generation order, before the sigmoid.</summary>
    public const string ClsLogitsName = "cls_logits";

    /// <summary>Output: float32 (batch, sum over levels of H*W*9, 4), box deltas in effdet's (ty, tx, th, tw) order.</summary>
    public const string BoxRegressionName = "box_regression";

    /// <summary>Output: int64 (10): H and W of each pyramid level P3..P7, which the anchors need.</summary>
    public const string LevelSizesName = "level_sizes";

    /// <summary>effdet's fast-fusion epsilon: w_i = relu(e_i) / (sum_j relu(e_j) + 1e-4).</summary>
    private const float FusionEps = 1e-4f;

    public static ModelProto Build(EfficientDet model, IEnumerable<KeyValuePair<string, string>>? metadata = null)
    {
        var config = model.Config;
        var g = new OnnxGraph("efficientdet");
        var m = new OnnxModuleWriter(g, model.state_dict());
        g.AddInput(InputName, "batch", 3L, "height", "width");

        var stages = EfficientNetOnnxWriter.Body(m, "backbone", config.Backbone, InputName);
        var c = EfficientDetBackbone.StageIndices.Select(i => stages[i]).ToArray();
        var p = BiFpn(m, c, config.FpnCellRepeats);

        long a = EfficientDetAnchors.PerLocation;
        Head(m, "class_net", p, config.BoxClassRepeats, a, config.NumClasses, ClsLogitsName);
        Head(m, "box_net", p, config.BoxClassRepeats, a, 4, BoxRegressionName);
        g.AddOutput(ClsLogitsName, "batch", "anchors", (long)config.NumClasses);
        g.AddOutput(BoxRegressionName, "batch", "anchors", 4L);

        // Shape(P_l)[2:4] per level, concatenated: the feature sizes the anchors need.
        string starts = g.AddInt64Initializer("level_sizes.starts", 2), ends = g.AddInt64Initializer("level_sizes.ends", 4);
        var sizes = p.Select((level, l) => g.Node("Slice", $"level_sizes.{l}",
            [g.Node("Shape", $"level_sizes.{l}.shape", [level]), starts, ends])).ToList();
        g.Node("Concat", LevelSizesName, sizes, OnnxGraph.Int("axis", 0));
        g.AddInt64Output(LevelSizesName, 10L);

        m.EnsureAllUsed();
        string version = typeof(EfficientDetOnnxExporter).Assembly.GetName().Version?.ToString() ?? "0";
        return g.ToModel(DenseNetOnnxExporter.Opset, version, metadata ?? []);
    }

    /// <summary>
    /// effdet's BiFPN under "fpn" on (C3, C4, C5): P6 = maxpool(bn(conv1x1(C5))), P7 = maxpool(P6) (resample.3 and .4),
    /// then <paramref name="repeats"/> cells; returns P3..P7 of the last cell.
    /// </summary>
    private static string[] BiFpn(OnnxModuleWriter m, string[] c, int repeats)
    {
        var g = m.Graph;
        string p6 = Resample(m, "fpn.resample.3", c[2], 1);
        string p7 = Resample(m, "fpn.resample.4", p6, 1);
        string[] x = [c[0], c[1], c[2], p6, p7];
        using var eps = tensor(FusionEps);
        string epsName = g.AddInitializer("fpn.fusion_eps", eps);
        var index = new Dictionary<int, string>();
        string Index(int i) => index.TryGetValue(i, out var existing) ? existing : index[i] = g.AddInt64Initializer($"fpn.fusion_index.{i}", i);
        for (int r = 0; r < repeats; r++)
        {
            var all = new List<(string Value, int Level)>();
            for (int l = 0; l < 5; l++) all.Add((x[l], l + 3));
            for (int n = 0; n < BiFpnLayer.Nodes.Length; n++)
            {
                var (level, inputs) = BiFpnLayer.Nodes[n];
                string node = $"fpn.cell.{r}.fnode.{n}";
                string combine = $"{node}.combine";
                // w = relu(e) / (sum relu(e) + eps): computed from the trained edge weights, folded by ONNX Runtime at load
                string w = g.Node("Relu", $"{combine}.edge_weights.relu", [m.W($"{combine}.edge_weights")]);
                string sum = g.Node("ReduceSum", $"{combine}.edge_weights.sum", [w], OnnxGraph.Int("keepdims", 1));
                w = g.Node("Div", $"{combine}.edge_weights.normalised", [w, g.Node("Add", $"{combine}.edge_weights.sum_eps", [sum, epsName])]);
                string? fused = null;
                for (int i = 0; i < inputs.Length; i++)
                {
                    var (value, inputLevel) = all[inputs[i]];
                    string resampled = Resample(m, $"{combine}.resample.{inputs[i].ToString(CultureInfo.InvariantCulture)}", value, level - inputLevel);
                    string wi = g.Node("Gather", $"{combine}.edge_weights.{i}", [w, Index(i)], OnnxGraph.Int("axis", 0));
                    string term = g.Node("Mul", $"{combine}.term.{i}", [resampled, wi]);
                    fused = fused is null ? term : g.Node("Add", $"{combine}.sum.{i}", [fused, term]);
                }
                // after_combine: swish, then the separable conv with BatchNorm
                string y = m.Swish($"{node}.after_combine.act", fused!);
                y = SeparableConv(m, $"{node}.after_combine.conv", y, name: null);
                all.Add((y, level));
            }
            x = all.Skip(all.Count - 5).Select(v => v.Value).ToArray();
        }
        return x;
    }

    /// <summary>effdet's ResampleFeatureMap: a 1x1 conv + BN when the model has one, then 3x3/2 max-pooling (shift +1) or 2x nearest upsampling (shift -1).</summary>
    private static string Resample(OnnxModuleWriter m, string prefix, string x, int levelShift)
    {
        var g = m.Graph;
        string y = x;
        if (m.Has($"{prefix}.conv.conv.weight")) y = m.Bn($"{prefix}.conv.bn", m.Conv($"{prefix}.conv.conv", y, 1), EffdetNorm.Eps);
        if (levelShift > 0)
        {
            // max_pool2d(y, 3, 2, 1): the padding never wins a max, as PyTorch's -inf padding
            y = g.Node("MaxPool", $"{prefix}.pool", [y],
                OnnxGraph.Ints("kernel_shape", 3, 3), OnnxGraph.Ints("strides", 2, 2), OnnxGraph.Ints("pads", 1, 1, 1, 1));
        }
        else if (levelShift < 0)
        {
            // interpolate(scale_factor=2, mode="nearest"): source index floor(dst / 2) = Resize's asymmetric coordinates, floor
            string scales = ScalesInitializer(g);
            y = g.Node("Resize", $"{prefix}.upsample", [y, "", scales],
                OnnxGraph.String("mode", "nearest"), OnnxGraph.String("coordinate_transformation_mode", "asymmetric"),
                OnnxGraph.String("nearest_mode", "floor"));
        }
        return y;
    }

    private static string ScalesInitializer(OnnxGraph g)
    {
        const string name = "fpn.upsample_scales";
        if (!g.Initializers.Contains(name))
        {
            using var scales = tensor(new float[] { 1, 1, 2, 2 });
            g.AddInitializer(name, scales);
        }
        return name;
    }

    /// <summary>effdet's SeparableConv2d: depthwise 3x3 <c>conv_dw</c>, pointwise <c>conv_pw</c>, then <c>bn</c> when the module has one.</summary>
    private static string SeparableConv(OnnxModuleWriter m, string prefix, string x, string? name)
    {
        long channels = m.Shape($"{prefix}.conv_dw.weight")[0];
        string suffix = name ?? "";
        string y = m.Conv($"{prefix}.conv_dw", x, 3, 1, 1, name: $"{prefix}.conv_dw{suffix}", group: channels);
        y = m.Conv($"{prefix}.conv_pw", y, 1, name: $"{prefix}.conv_pw{suffix}");
        return m.Has($"{prefix}.bn.weight") ? m.Bn($"{prefix}.bn", y, EffdetNorm.Eps) : y;
    }

    /// <summary>
    /// effdet's HeadNet under <paramref name="prefix"/> on every level: conv_rep.i shared by the levels, bn_rep.i.level.bn per
    /// level, swish; predict; reshaped to (N, HWA, K) and concatenated over the levels as HeadNet.forward.
    /// </summary>
    private static void Head(OnnxModuleWriter m, string prefix, IReadOnlyList<string> levels, int repeats, long anchors, long perAnchor, string output)
    {
        var g = m.Graph;
        string shape1 = g.AddInt64Initializer($"{prefix}.shape1", 0, anchors, perAnchor, -1);
        string shape2 = g.AddInt64Initializer($"{prefix}.shape2", 0, -1, perAnchor);
        var outs = new List<string>();
        for (int l = 0; l < levels.Count; l++)
        {
            string y = levels[l];
            for (int i = 0; i < repeats; i++)
            {
                // the separable convs are shared by the levels (node names carry @level), the BatchNorms are per level
                y = SeparableConv(m, $"{prefix}.conv_rep.{i}", y, name: $"@{l}");
                y = m.Bn($"{prefix}.bn_rep.{i}.{l}.bn", y, EffdetNorm.Eps);
                y = m.Swish($"{prefix}.act.{i}@{l}", y);
            }
            y = SeparableConv(m, $"{prefix}.predict", y, name: $"@{l}");
            // (N, A*K, H, W) -> (N, A, K, HW) -> (N, HW, A, K) -> (N, HWA, K): the order of (N, H, W, A, K)
            y = g.Node("Reshape", $"{prefix}.view@{l}", [y, shape1]);
            y = g.Node("Transpose", $"{prefix}.permute@{l}", [y], OnnxGraph.Ints("perm", 0, 3, 1, 2));
            outs.Add(g.Node("Reshape", $"{prefix}.flat@{l}", [y, shape2]));
        }
        g.Node("Concat", output, outs, OnnxGraph.Int("axis", 1));
    }
}
