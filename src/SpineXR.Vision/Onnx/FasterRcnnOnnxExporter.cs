// ONNX export of SpineXR's Faster R-CNN (torchvision 0.14's fasterrcnn_resnet50_fpn and the narrower `cpu` preset):
// one file holding the model's two networks as two unconnected parts of one graph, written from the configuration
// node for node as FasterRCNN.Detect computes them, with the state dict's tensors under torchvision's names:
// (1) images -> backbone, FPN (P2..P5, pool) and RPN head; (2) box_features (pooled RoIs) -> box head (TwoMLPHead,
// FastRCNNPredictor). Anchors, proposal selection, MultiScaleRoIAlign and the box post-processing between and after
// them stay in C#, the objects the libtorch model runs (RpnProposals, MultiScaleRoIAlign, RoIHeadsPostProcess).
// Why one file with two inputs, and not two files or everything in the graph: docs/onnx.md.
using SpineXR.Vision.Detection;
using SpineXR.Vision.Onnx.Proto;

namespace SpineXR.Vision.Onnx;

/// <summary>Builds the ONNX graph (opset 17, dynamic batch and size; two inputs, one per network) of a <see cref="FasterRCNN"/> in eval mode.</summary>
public static class FasterRcnnOnnxExporter
{
    /// <summary>Network input: float32 (batch, 3, H, W), normalised by the transform's mean and std, zero-padded to multiples of 32.</summary>
    public const string InputName = "images";

    /// <summary>Network output: float32 (batch, sum over levels of H*W*A), the RPN's objectness logits in anchor generation order.</summary>
    public const string ObjectnessName = "rpn_objectness";

    /// <summary>Network output: float32 (batch, sum over levels of H*W*A, 4), the RPN's deltas (dx, dy, dw, dh) against the anchors.</summary>
    public const string RpnDeltasName = "rpn_deltas";

    /// <summary>Network output: int64 (10): H and W of each pyramid level P2..P6 ("pool"), which the anchors need.</summary>
    public const string LevelSizesName = "level_sizes";

    /// <summary>Network outputs: float32 (batch, C, H_l, W_l), the FPN maps P2..P5 (torchvision's "0".."3") that RoIAlign reads.</summary>
    public static readonly IReadOnlyList<string> FeatureNames = ["features.0", "features.1", "features.2", "features.3"];

    /// <summary>
    /// Box-head input: float32 (rois, C, 7, 7), MultiScaleRoIAlign's output for the proposals of the whole batch. ONNX
    /// Runtime runs every node on every call, so the caller feeds the part it does not want an empty input (0 rows).
    /// </summary>
    public const string BoxFeaturesName = "box_features";

    /// <summary>Box-head output: float32 (rois, classes) class logits, background at 0, before the softmax.</summary>
    public const string ClassLogitsName = "class_logits";

    /// <summary>Box-head output: float32 (rois, classes * 4), per-class deltas against the proposals (weights 10, 10, 5, 5).</summary>
    public const string BoxRegressionName = "box_regression";

    /// <summary>
    /// The graph; <paramref name="metadata"/> goes into the model. The export fails when the graph leaves a tensor of
    /// the model's state dict unused.
    /// </summary>
    public static ModelProto Build(FasterRCNN model, IEnumerable<KeyValuePair<string, string>>? metadata = null)
    {
        var config = model.Config;
        if (!config.Backbone.ReturnedLayers.SequenceEqual([1, 2, 3, 4]) || config.Backbone.Extra != FpnExtraBlock.LastLevelMaxPool)
            throw new NotSupportedException("Faster R-CNN export expects the P2-P6 backbone (layers 1..4 and the max-pool level)");
        var g = new OnnxGraph("faster_rcnn");
        var m = new OnnxModuleWriter(g, model.state_dict());

        // (1) the batch to the RPN head and the maps RoIAlign reads
        g.AddInput(InputName, "batch", 3L, "height", "width");
        var c = m.ResNetBody("backbone.body", config.Backbone.Body, InputName);
        var p = m.Fpn("backbone.fpn", c).ToList();
        // LastLevelMaxPool: max_pool2d(P5, kernel 1, stride 2), torchvision's "pool" level (RPN only, not RoI pooling)
        p.Add(g.Node("MaxPool", "backbone.fpn.extra_blocks", [p[^1]], OnnxGraph.Ints("kernel_shape", 1, 1), OnnxGraph.Ints("strides", 2, 2)));
        long channels = config.Backbone.OutChannels;
        for (int l = 0; l < FeatureNames.Count; l++)
        {
            g.Node("Identity", FeatureNames[l], [p[l]]);
            g.AddOutput(FeatureNames[l], "batch", channels, $"height_{l}", $"width_{l}");
        }
        RpnHead(m, p, m.Shape("rpn.head.cls_logits.weight")[0]);
        g.AddOutput(ObjectnessName, "batch", "anchors");
        g.AddOutput(RpnDeltasName, "batch", "anchors", 4L);
        // Shape(P_l)[2:4] per level, concatenated: the feature sizes the anchor generator needs.
        string starts = g.AddInt64Initializer("level_sizes.starts", 2), ends = g.AddInt64Initializer("level_sizes.ends", 4);
        var sizes = p.Select((level, l) => g.Node("Slice", $"level_sizes.{l}",
            [g.Node("Shape", $"level_sizes.{l}.shape", [level]), starts, ends])).ToList();
        g.Node("Concat", LevelSizesName, sizes, OnnxGraph.Int("axis", 0));
        g.AddInt64Output(LevelSizesName, 2L * p.Count);

        // (2) pooled RoIs to class logits and deltas
        long k = config.NumClasses, side = FasterRCNN.CreateBoxRoIPool().OutputSize;
        g.AddInput(BoxFeaturesName, "rois", channels, side, side);
        // (K, C, 7, 7) -> (K, C*49), then fc6, fc7 with ReLU (TwoMLPHead), then the two predictor layers
        string x = g.Node("Flatten", "roi_heads.box_head.flatten", [BoxFeaturesName], OnnxGraph.Int("axis", 1));
        x = m.Relu("roi_heads.box_head.relu6", m.Linear("roi_heads.box_head.fc6", x));
        x = m.Relu("roi_heads.box_head.relu7", m.Linear("roi_heads.box_head.fc7", x));
        m.Linear("roi_heads.box_predictor.cls_score", x, ClassLogitsName);
        m.Linear("roi_heads.box_predictor.bbox_pred", x, BoxRegressionName);
        g.AddOutput(ClassLogitsName, "rois", k);
        g.AddOutput(BoxRegressionName, "rois", 4 * k);

        m.EnsureAllUsed();
        string version = typeof(FasterRcnnOnnxExporter).Assembly.GetName().Version?.ToString() ?? "0";
        return g.ToModel(DenseNetOnnxExporter.Opset, version, metadata ?? []);
    }

    /// <summary>
    /// RPNHead on every level with shared weights (conv 3x3 + ReLU, cls_logits, bbox_pred), flattened and concatenated in
    /// the anchors' generation order as RegionProposalNetwork.HeadOutputs.
    /// </summary>
    private static void RpnHead(OnnxModuleWriter m, IReadOnlyList<string> levels, long anchors)
    {
        var g = m.Graph;
        string flat = g.AddInt64Initializer("rpn.head.objectness_shape", 0, -1);
        string split = g.AddInt64Initializer("rpn.head.deltas_shape", 0, anchors, 4, -1);
        string rows = g.AddInt64Initializer("rpn.head.deltas_rows", 0, -1, 4);
        var objectness = new List<string>();
        var deltas = new List<string>();
        for (int l = 0; l < levels.Count; l++)
        {
            string t = m.Relu($"rpn.head.conv.0.1@{l}", m.Conv("rpn.head.conv.0.0", levels[l], 3, 1, 1, name: $"rpn.head.conv.0.0@{l}"));
            string o = m.Conv("rpn.head.cls_logits", t, 1, name: $"rpn.head.cls_logits@{l}");
            // (N, A, H, W) -> (N, H, W, A) -> (N, HWA)
            o = g.Node("Transpose", $"rpn.head.cls_logits.permute@{l}", [o], OnnxGraph.Ints("perm", 0, 2, 3, 1));
            objectness.Add(g.Node("Reshape", $"rpn.head.cls_logits.flat@{l}", [o, flat]));
            string d = m.Conv("rpn.head.bbox_pred", t, 1, name: $"rpn.head.bbox_pred@{l}");
            // (N, A*4, H, W) -> (N, A, 4, HW) -> (N, HW, A, 4) -> (N, HWA, 4): the order of (N, H, W, A, 4)
            d = g.Node("Reshape", $"rpn.head.bbox_pred.view@{l}", [d, split]);
            d = g.Node("Transpose", $"rpn.head.bbox_pred.permute@{l}", [d], OnnxGraph.Ints("perm", 0, 3, 1, 2));
            deltas.Add(g.Node("Reshape", $"rpn.head.bbox_pred.flat@{l}", [d, rows]));
        }
        g.Node("Concat", ObjectnessName, objectness, OnnxGraph.Int("axis", 1));
        g.Node("Concat", RpnDeltasName, deltas, OnnxGraph.Int("axis", 1));
    }
}
