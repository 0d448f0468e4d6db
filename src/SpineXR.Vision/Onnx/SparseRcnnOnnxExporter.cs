// ONNX export of SpineXR's Sparse R-CNN (the official R50-FPN model and the `cpu` preset): ONE graph from the
// normalised, padded batch and each image's size to the last stage's class logits and boxes, written from the
// configuration node for node as SparseRcnn.Forward computes it, with the state dict's tensors under the official
// names (init_proposal_boxes.weight, head.head_series.N...). Unlike the other detectors, the RoI pooling is inside
// the graph (ONNX RoiAlign, half_pixel = ROIAlignV2's aligned=True, one level per box as detectron2 assigns it):
// every one of the six stages pools the previous stage's boxes, so pooling in C# would cut the model into seven
// ONNX Runtime calls with six round trips between them. The top-k over proposals x classes, the mapping back to
// original pixels and the optional NMS stay in C# (SparseRcnn.Postprocess, shared with libtorch). docs/onnx.md.
using SpineXR.Vision.Detection;
using SpineXR.Vision.Onnx.Proto;

namespace SpineXR.Vision.Onnx;

/// <summary>Builds the ONNX graph (opset 17, dynamic batch and size) of a <see cref="SparseRcnn"/> in eval mode.</summary>
public static class SparseRcnnOnnxExporter
{
    /// <summary>Input: float32 (batch, 3, H, W), normalised by the transform's mean and std, zero-padded to multiples of 32.</summary>
    public const string InputName = "images";

    /// <summary>Input: float32 (batch, 4), each image's (W, H, W, H) after resizing and before padding: the learned proposals are fractions of it.</summary>
    public const string ImageSizesName = "image_whwh";

    /// <summary>Output: float32 (batch, proposals, classes), the last stage's class logits, before the sigmoid.</summary>
    public const string LogitsName = "pred_logits";

    /// <summary>Output: float32 (batch, proposals, 4), the last stage's boxes, xyxy in the resized image's pixels.</summary>
    public const string BoxesName = "pred_boxes";

    public static ModelProto Build(SparseRcnn model, IEnumerable<KeyValuePair<string, string>>? metadata = null)
    {
        var o = model.Config;
        if (!o.Backbone.ReturnedLayers.SequenceEqual([1, 2, 3, 4]))
            throw new NotSupportedException("Sparse R-CNN export expects the P2-P5 backbone (layers 1..4)");
        var g = new OnnxGraph("sparse_rcnn");
        var m = new OnnxModuleWriter(g, model.state_dict());
        var k = new Constants(g, o);
        g.AddInput(InputName, "batch", 3L, "height", "width");
        g.AddInput(ImageSizesName, "batch", 4L);

        var c = m.ResNetBody("backbone.body", o.Backbone.Body, InputName);
        var p = m.Fpn("backbone.fpn", c); // P2..P5; the max-pool level is not read by the head

        // Proposals: (Q, 4) normalised cxcywh -> xyxy -> (1, Q, 4) * (N, 1, 4) image pixels, as BoxFormat.CxcywhToXyxy.
        string init = m.W("init_proposal_boxes.weight");
        string cxcy = k.Columns("proposals.cxcy", init, 0, 2);
        string half = g.Node("Mul", "proposals.half_wh", [k.Columns("proposals.wh", init, 2, 4), k.Half]);
        string xyxy = g.Node("Concat", "proposals.xyxy",
            [g.Node("Sub", "proposals.xy1", [cxcy, half]), g.Node("Add", "proposals.xy2", [cxcy, half])], OnnxGraph.Int("axis", 1));
        string boxes = g.Node("Mul", "proposals",
            [g.Node("Unsqueeze", "proposals.unsqueeze", [xyxy, k.Zero]), g.Node("Unsqueeze", "image_whwh.unsqueeze", [ImageSizesName, k.One])]);

        // Proposal features: (Q, d) -> (1, N*Q, d), the same learned features for every image.
        string n = g.Node("Slice", "batch_size", [g.Node("Shape", "images.shape", [InputName]), k.Zero, k.One]);
        string repeats = g.Node("Concat", "proposal_features.repeats", [k.One, n, k.One], OnnxGraph.Int("axis", 0));
        string features = g.Node("Tile", "proposal_features",
            [g.Node("Unsqueeze", "proposal_features.unsqueeze", [m.W("init_proposal_features.weight"), k.Zero]), repeats]);

        // Each RoI's image: row i of the flattened (N*Q, 4) boxes belongs to image i / Q; and the pooled result every
        // stage scatters its levels into, (N*Q, d, R, R) zeros (the same for all: ONNX values are immutable).
        string count = g.Node("Mul", "rois.count_1d", [n, k.Proposals]);
        string rows = g.Node("Squeeze", "rois.count", [count, k.Zero]);
        var rois = new Rois(
            g.Node("Div", "rois.batch_index", [g.Node("Range", "rois.range", [k.Zero0d, rows, k.One0d]), k.Proposals0d]),
            g.Node("ConstantOfShape", "rois.zeros",
                [g.Node("Concat", "rois.pooled_shape", [count, g.AddInt64Initializer("rois.roi_shape", o.HiddenDim, o.PoolerResolution, o.PoolerResolution)], OnnxGraph.Int("axis", 0))],
                new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = new TensorProto { DataType = (int)TensorProto.Types.DataType.Float, Dims = { 1 }, FloatData = { 0f } } }));

        for (int s = 0; s < o.NumStages; s++)
        {
            string stage = $"head.head_series.{s}";
            bool last = s == o.NumStages - 1;
            (boxes, features) = Stage(m, k, o, stage, p, boxes, features, rois, last ? LogitsName : null, last ? BoxesName : null);
        }
        g.AddOutput(LogitsName, "batch", (long)o.NumProposals, (long)o.NumClasses);
        g.AddOutput(BoxesName, "batch", (long)o.NumProposals, 4L);

        m.EnsureAllUsed();
        string version = typeof(SparseRcnnOnnxExporter).Assembly.GetName().Version?.ToString() ?? "0";
        return g.ToModel(DenseNetOnnxExporter.Opset, version, metadata ?? []);
    }

    /// <summary>What every stage's RoI pooling shares: each RoI's image index (N*Q) and the (N*Q, d, R, R) zeros it scatters into.</summary>
    private sealed record Rois(string BatchIndex, string Zeros);

    /// <summary>
    /// One RCNNHead stage (RCNNHead.forward): boxes (N, Q, 4) and proposal features (1, N*Q, d) in; logits (N, Q, C,
    /// named <paramref name="logitsOut"/> when given), refined boxes (N, Q, 4) and the new features out.
    /// </summary>
    private static (string Boxes, string Features) Stage(OnnxModuleWriter m, Constants k, SparseRcnnConfig o, string stage,
        IReadOnlyList<string> levels, string boxes, string proposal, Rois rois, string? logitsOut, string? boxesOut)
    {
        var g = m.Graph;
        long d = o.HiddenDim;
        string flat = g.Node("Reshape", $"{stage}.boxes_flat", [boxes, k.Rows4]);
        // (N*Q, d, R, R) -> (N*Q, d, R*R) -> (R*R, N*Q, d)
        string pooled = Pool(m, k, o, $"{stage}.pooler", levels, flat, rois);
        string roi = g.Node("Transpose", $"{stage}.roi", [g.Node("Reshape", $"{stage}.roi_flat", [pooled, k.RoiFlat])], OnnxGraph.Ints("perm", 2, 0, 1));

        // self-attention among each image's Q proposals: (1, N*Q, d) -> (N, Q, d) -> (Q, N, d)
        string pro = g.Node("Transpose", $"{stage}.pro_qnd", [g.Node("Reshape", $"{stage}.pro_nqd", [proposal, k.ImagesQd])], OnnxGraph.Ints("perm", 1, 0, 2));
        pro = m.LayerNorm($"{stage}.norm1", g.Node("Add", $"{stage}.attn_residual", [pro, SelfAttention(m, k, o, $"{stage}.self_attn", pro)]));
        // (Q, N, d) -> (N, Q, d) -> (1, N*Q, d)
        pro = g.Node("Reshape", $"{stage}.pro_flat", [g.Node("Transpose", $"{stage}.pro_nqd2", [pro], OnnxGraph.Ints("perm", 1, 0, 2)), k.OneRowsD]);
        string obj = m.LayerNorm($"{stage}.norm2", g.Node("Add", $"{stage}.inst_residual", [pro, DynamicConv(m, k, $"{stage}.inst_interact", pro, roi)]));
        string ffn = m.LinearNd($"{stage}.linear2", m.Relu($"{stage}.ffn_relu", m.LinearNd($"{stage}.linear1", obj)));
        obj = m.LayerNorm($"{stage}.norm3", g.Node("Add", $"{stage}.ffn_residual", [obj, ffn]));

        // (1, N*Q, d) -> (N*Q, d), then the class and box towers
        string fc = g.Node("Reshape", $"{stage}.fc", [obj, g.AddInt64Initializer($"{stage}.fc_shape", -1, d)]);
        string cls = Tower(m, $"{stage}.cls_module", fc, o.NumClsLayers);
        string reg = Tower(m, $"{stage}.reg_module", fc, o.NumRegLayers);
        g.Node("Reshape", logitsOut ?? $"{stage}.logits", [m.LinearNd($"{stage}.class_logits", cls), k.ImagesQc]);
        string deltas = m.LinearNd($"{stage}.bboxes_delta", reg);
        string refined = g.Node("Reshape", boxesOut ?? $"{stage}.pred_boxes", [ApplyDeltas(g, k, $"{stage}.apply_deltas", deltas, flat), k.ImagesQ4]);
        return (refined, obj);
    }

    /// <summary>(Linear without bias, LayerNorm, ReLU) x n, keys prefix.0, .1, (.2 the ReLU), prefix.3 ...; input (K, d).</summary>
    private static string Tower(OnnxModuleWriter m, string prefix, string x, int n)
    {
        for (int i = 0; i < n; i++)
            x = m.Relu($"{prefix}.{3 * i + 2}", m.LayerNorm($"{prefix}.{3 * i + 1}", m.LinearNd($"{prefix}.{3 * i}", x)));
        return x;
    }

    /// <summary>ProposalSelfAttention.forward on x (L, B, E): torch.nn.MultiheadAttention's computation with its parameter names.</summary>
    private static string SelfAttention(OnnxModuleWriter m, Constants k, SparseRcnnConfig o, string prefix, string x)
    {
        var g = m.Graph;
        long d = o.HiddenDim, hd = d / o.NumAttentionHeads;
        string qkv = m.MatMulLinear($"{prefix}.in_proj", x, $"{prefix}.in_proj_weight", $"{prefix}.in_proj_bias");
        // (L, B, E) -> (L, B*H, hd) -> (B*H, L, hd)
        string headShape = g.AddInt64Initializer($"{prefix}.head_shape", 0, -1, hd);
        string Split(string name, int part) => g.Node("Transpose", $"{prefix}.{name}",
            [g.Node("Reshape", $"{prefix}.{name}_heads", [k.Columns($"{prefix}.{name}_part", qkv, part * d, (part + 1) * d, axis: 2), headShape])],
            OnnxGraph.Ints("perm", 1, 0, 2));
        string q = g.Node("Mul", $"{prefix}.q_scaled", [Split("q", 0), g.AddFloatScalar($"{prefix}.scale", (float)(1.0 / Math.Sqrt(hd)))]);
        string kt = g.Node("Transpose", $"{prefix}.k_t", [Split("k", 1)], OnnxGraph.Ints("perm", 0, 2, 1));
        string attn = g.Node("Softmax", $"{prefix}.attn", [g.Node("MatMul", $"{prefix}.scores", [q, kt])], OnnxGraph.Int("axis", -1));
        // (B*H, L, hd) -> (L, B*H, hd) -> (L, B, E)
        string heads = g.Node("Transpose", $"{prefix}.heads", [g.Node("MatMul", $"{prefix}.attend", [attn, Split("v", 2)])], OnnxGraph.Ints("perm", 1, 0, 2));
        string merged = g.Node("Reshape", $"{prefix}.merged", [heads, g.AddInt64Initializer($"{prefix}.merged_shape", 0, -1, d)]);
        return m.LinearNd($"{prefix}.out_proj", merged);
    }

    /// <summary>DynamicConv.forward: proposal (1, K, d), roi (R*R, K, d) -> (K, d).</summary>
    private static string DynamicConv(OnnxModuleWriter m, Constants k, string prefix, string proposal, string roi)
    {
        var g = m.Graph;
        long d = m.Shape($"{prefix}.norm2.weight")[0], dd = m.Shape($"{prefix}.norm1.weight")[0], n = d * dd;
        string features = g.Node("Transpose", $"{prefix}.features", [roi], OnnxGraph.Ints("perm", 1, 0, 2)); // (K, R*R, d)
        string parameters = g.Node("Transpose", $"{prefix}.parameters", [m.LinearNd($"{prefix}.dynamic_layer", proposal)], OnnxGraph.Ints("perm", 1, 0, 2)); // (K, 1, 2*d*dd)
        string param1 = g.Node("Reshape", $"{prefix}.param1", [k.Columns($"{prefix}.param1_flat", parameters, 0, n, axis: 2), g.AddInt64Initializer($"{prefix}.param1_shape", -1, d, dd)]);
        string param2 = g.Node("Reshape", $"{prefix}.param2", [k.Columns($"{prefix}.param2_flat", parameters, n, 2 * n, axis: 2), g.AddInt64Initializer($"{prefix}.param2_shape", -1, dd, d)]);
        features = m.Relu($"{prefix}.relu1", m.LayerNorm($"{prefix}.norm1", g.Node("MatMul", $"{prefix}.bmm1", [features, param1])));
        features = m.Relu($"{prefix}.relu2", m.LayerNorm($"{prefix}.norm2", g.Node("MatMul", $"{prefix}.bmm2", [features, param2])));
        features = g.Node("Flatten", $"{prefix}.flatten", [features], OnnxGraph.Int("axis", 1)); // (K, R*R*d)
        return m.Relu($"{prefix}.relu3", m.LayerNorm($"{prefix}.norm3", m.LinearNd($"{prefix}.out_layer", features)));
    }

    /// <summary>
    /// SparseRcnn's pooler (detectron2's ROIPooler with ROIAlignV2): each box (K, 4) xyxy on level
    /// floor(4 + log2(sqrt(area) / 224 + 1e-8)) clamped to P2..P5, RoiAlign there (half_pixel, average,
    /// the configured sampling ratio), the results scattered back into box order: (K, d, R, R).
    /// </summary>
    private static string Pool(OnnxModuleWriter m, Constants k, SparseRcnnConfig o, string prefix, IReadOnlyList<string> levels, string boxes, Rois rois)
    {
        var g = m.Graph;
        string w = g.Node("Sub", $"{prefix}.w", [k.Columns($"{prefix}.x2", boxes, 2, 3), k.Columns($"{prefix}.x1", boxes, 0, 1)]);
        string h = g.Node("Sub", $"{prefix}.h", [k.Columns($"{prefix}.y2", boxes, 3, 4), k.Columns($"{prefix}.y1", boxes, 1, 2)]);
        string area = g.Node("Relu", $"{prefix}.area", [g.Node("Mul", $"{prefix}.wh", [w, h])]);
        string scaled = g.Node("Add", $"{prefix}.scaled", [g.Node("Div", $"{prefix}.ratio", [g.Node("Sqrt", $"{prefix}.side", [area]), k.Canonical]), k.Epsilon]);
        string log2 = g.Node("Div", $"{prefix}.log2", [g.Node("Log", $"{prefix}.ln", [scaled]), k.Ln2]);
        string level = g.Node("Floor", $"{prefix}.level_f", [g.Node("Add", $"{prefix}.level_raw", [k.Four, log2])]);
        level = g.Node("Clip", $"{prefix}.level_clip", [level, k.LowestLevel, k.HighestLevel]);
        level = g.Node("Reshape", $"{prefix}.level", [g.Node("Cast", $"{prefix}.level_i", [level], OnnxGraph.Int("to", (long)TensorProto.Types.DataType.Int64)), k.Flat]);

        long r = o.PoolerResolution;
        string output = rois.Zeros;
        for (int l = 0; l < levels.Count; l++)
        {
            string at = $"{prefix}.level{l + 2}";
            string idx = g.Node("Reshape", $"{at}.index", [g.Node("NonZero", $"{at}.nonzero",
                [g.Node("Equal", $"{at}.mask", [level, k.Level(l + 2)])]), k.Flat]);
            string pooled = g.Node("RoiAlign", $"{at}.roi_align",
                [levels[l], g.Node("Gather", $"{at}.boxes", [boxes, idx], OnnxGraph.Int("axis", 0)), g.Node("Gather", $"{at}.batch_index", [rois.BatchIndex, idx], OnnxGraph.Int("axis", 0))],
                OnnxGraph.String("coordinate_transformation_mode", "half_pixel"), OnnxGraph.String("mode", "avg"),
                OnnxGraph.Int("output_height", r), OnnxGraph.Int("output_width", r),
                OnnxGraph.Int("sampling_ratio", o.SamplingRatio), OnnxGraph.Float("spatial_scale", 1f / (1 << (l + 2))));
            output = g.Node("ScatterND", $"{at}.scatter", [output, g.Node("Unsqueeze", $"{at}.index_2d", [idx, k.One]), pooled]);
        }
        return output;
    }

    /// <summary>RCNNHead.ApplyDeltas with the official weights (2, 2, 1, 1) and clamp: deltas (K, 4) on boxes (K, 4) xyxy.</summary>
    private static string ApplyDeltas(OnnxGraph g, Constants k, string prefix, string deltas, string boxes)
    {
        string Col(string t, string name, int i) => k.Columns($"{prefix}.{name}", t, i, i + 1);
        string x1 = Col(boxes, "x1", 0), y1 = Col(boxes, "y1", 1);
        string widths = g.Node("Sub", $"{prefix}.widths", [Col(boxes, "x2", 2), x1]);
        string heights = g.Node("Sub", $"{prefix}.heights", [Col(boxes, "y2", 3), y1]);
        string cx = g.Node("Add", $"{prefix}.cx", [x1, g.Node("Mul", $"{prefix}.half_w", [k.Half, widths])]);
        string cy = g.Node("Add", $"{prefix}.cy", [y1, g.Node("Mul", $"{prefix}.half_h", [k.Half, heights])]);
        string Delta(string name, int i, string weight) => g.Node("Div", $"{prefix}.{name}", [Col(deltas, name + "_raw", i), weight]);
        string dx = Delta("dx", 0, k.Two), dy = Delta("dy", 1, k.Two);
        string dw = g.Node("Min", $"{prefix}.dw_clamped", [Delta("dw", 2, k.OneF), k.ScaleClamp]);
        string dh = g.Node("Min", $"{prefix}.dh_clamped", [Delta("dh", 3, k.OneF), k.ScaleClamp]);
        string pcx = g.Node("Add", $"{prefix}.pcx", [g.Node("Mul", $"{prefix}.dx_w", [dx, widths]), cx]);
        string pcy = g.Node("Add", $"{prefix}.pcy", [g.Node("Mul", $"{prefix}.dy_h", [dy, heights]), cy]);
        string halfW = g.Node("Mul", $"{prefix}.half_pw", [k.Half, g.Node("Mul", $"{prefix}.pw", [g.Node("Exp", $"{prefix}.exp_dw", [dw]), widths])]);
        string halfH = g.Node("Mul", $"{prefix}.half_ph", [k.Half, g.Node("Mul", $"{prefix}.ph", [g.Node("Exp", $"{prefix}.exp_dh", [dh]), heights])]);
        return g.Node("Concat", $"{prefix}.boxes",
            [g.Node("Sub", $"{prefix}.px1", [pcx, halfW]), g.Node("Sub", $"{prefix}.py1", [pcy, halfH]),
             g.Node("Add", $"{prefix}.px2", [pcx, halfW]), g.Node("Add", $"{prefix}.py2", [pcy, halfH])], OnnxGraph.Int("axis", 1));
    }

    /// <summary>The graph's shared constants (shapes, axes, scalars), each one initializer.</summary>
    private sealed class Constants
    {
        private readonly OnnxGraph _g;
        /// <summary>int64 [0] and [1]: axes, slice bounds, a repeat count.</summary>
        public string Zero { get; }
        public string One { get; }
        public string Flat { get; }
        public string Rows4 { get; }
        public string RoiFlat { get; }
        public string ImagesQd { get; }
        public string OneRowsD { get; }
        public string ImagesQc { get; }
        public string ImagesQ4 { get; }
        public string Proposals { get; }
        public string Zero0d { get; }
        public string One0d { get; }
        public string Proposals0d { get; }
        public string Half { get; }
        public string Two { get; }
        public string OneF { get; }
        public string Four { get; }
        public string Canonical { get; }
        public string Epsilon { get; }
        public string Ln2 { get; }
        public string LowestLevel { get; }
        public string HighestLevel { get; }
        public string ScaleClamp { get; }

        public Constants(OnnxGraph g, SparseRcnnConfig o)
        {
            _g = g;
            long q = o.NumProposals, d = o.HiddenDim;
            Zero = g.AddInt64Initializer("const.zero_1d", 0);
            One = g.AddInt64Initializer("const.one_1d", 1);
            Flat = g.AddInt64Initializer("const.flat", -1);
            Rows4 = g.AddInt64Initializer("const.rows4", -1, 4);
            RoiFlat = g.AddInt64Initializer("const.roi_flat", 0, d, -1);
            ImagesQd = g.AddInt64Initializer("const.images_q_d", -1, q, d);
            OneRowsD = g.AddInt64Initializer("const.one_rows_d", 1, -1, d);
            ImagesQc = g.AddInt64Initializer("const.images_q_c", -1, q, o.NumClasses);
            ImagesQ4 = g.AddInt64Initializer("const.images_q_4", -1, q, 4);
            Proposals = g.AddInt64Initializer("const.proposals", q);
            Zero0d = g.AddInt64Scalar("const.zero", 0);
            One0d = g.AddInt64Scalar("const.one", 1);
            Proposals0d = g.AddInt64Scalar("const.proposals_scalar", q);
            Half = g.AddFloatScalar("const.half", 0.5f);
            Two = g.AddFloatScalar("const.two", 2f);
            OneF = g.AddFloatScalar("const.one_f", 1f);
            Four = g.AddFloatScalar("const.four", 4f);
            Canonical = g.AddFloatScalar("const.canonical_box", 224f);
            Epsilon = g.AddFloatScalar("const.level_eps", 1e-8f);
            Ln2 = g.AddFloatScalar("const.ln2", (float)Math.Log(2));
            LowestLevel = g.AddFloatScalar("const.lowest_level", 2f);
            HighestLevel = g.AddFloatScalar("const.highest_level", 5f); // P2..P5
            ScaleClamp = g.AddFloatScalar("const.scale_clamp", (float)RCNNHead.DefaultScaleClamp);
        }

        /// <summary>x[..., from:to] along <paramref name="axis"/> (default the last of a 2-D tensor).</summary>
        public string Columns(string name, string x, long from, long to, int axis = 1) =>
            _g.Node("Slice", name, [x, _g.AddInt64Initializer(name + ".start", from), _g.AddInt64Initializer(name + ".end", to), Axis(axis)]);

        private readonly Dictionary<int, string> _axes = [];

        private readonly Dictionary<int, string> _levels = [];

        /// <summary>The int64 scalar <paramref name="level"/>, a pyramid level's number (2..5) as the pooler compares it.</summary>
        public string Level(int level) => _levels.TryGetValue(level, out var name) ? name : _levels[level] = _g.AddInt64Scalar($"const.level{level}", level);

        private string Axis(int axis) => _axes.TryGetValue(axis, out var name) ? name : _axes[axis] = _g.AddInt64Initializer($"const.axis{axis}", axis);
    }
}
