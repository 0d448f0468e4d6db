// Writes the nodes of torchvision-named TorchSharp modules into an OnnxGraph: every weight is taken from the model's
// state dict by its checkpoint key, and the writer remembers which keys it used, so an exporter can prove it left
// none out (a graph that drifted from the module tree fails the export instead of exporting a different network).
using SpineXR.Vision.Models;
using static TorchSharp.torch;

namespace SpineXR.Vision.Onnx;

/// <summary>Conv / BatchNorm / Linear / ResNet / FPN emitters over one graph and one state dict (eval-mode semantics).</summary>
public sealed class OnnxModuleWriter
{
    /// <summary>torchvision's BatchNorm2d and FrozenBatchNorm2d epsilon (TorchSharp's default too).</summary>
    private const float BatchNormEps = 1e-5f;

    /// <summary>torch.nn.LayerNorm's default epsilon (Sparse R-CNN's).</summary>
    private const float LayerNormEps = 1e-5f;

    private readonly Dictionary<string, Tensor> _state;
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public OnnxGraph Graph { get; }

    public OnnxModuleWriter(OnnxGraph graph, Dictionary<string, Tensor> state)
    {
        Graph = graph;
        _state = state;
    }

    /// <summary>The state-dict tensor <paramref name="key"/>, added once as an initializer of that name.</summary>
    public string W(string key)
    {
        if (!_state.TryGetValue(key, out var t)) throw new InvalidOperationException($"the model has no '{key}'");
        if (_used.Add(key)) Graph.AddInitializer(key, t);
        return key;
    }

    /// <summary>Shape of the state-dict tensor <paramref name="key"/>.</summary>
    public long[] Shape(string key) =>
        _state.TryGetValue(key, out var t) ? t.shape : throw new InvalidOperationException($"the model has no '{key}'");

    /// <summary>Whether the model has the state-dict tensor <paramref name="key"/> (optional modules: a resampling conv, a downsample).</summary>
    public bool Has(string key) => _state.ContainsKey(key);

    /// <summary>
    /// Square k x k convolution of module <paramref name="prefix"/> (bias when the module has one); output named <paramref name="name"/> or the prefix;
    /// <paramref name="group"/> channel groups (the channel count for a depthwise conv).
    /// </summary>
    public string Conv(string prefix, string x, long k, long stride = 1, long pad = 0, string? name = null, long group = 1)
    {
        var inputs = new List<string> { x, W(prefix + ".weight") };
        if (_state.ContainsKey(prefix + ".bias")) inputs.Add(W(prefix + ".bias"));
        return Graph.Node("Conv", name ?? prefix, inputs,
            OnnxGraph.Ints("kernel_shape", k, k), OnnxGraph.Ints("strides", stride, stride),
            OnnxGraph.Ints("pads", pad, pad, pad, pad), OnnxGraph.Ints("dilations", 1, 1), OnnxGraph.Int("group", group));
    }

    /// <summary>
    /// Inference BatchNorm of module <paramref name="prefix"/> (BatchNorm2d or FrozenBatchNorm2d: the same four tensors);
    /// <paramref name="eps"/> the module's epsilon (torchvision's 1e-5 unless given; effdet's BiFPN and heads use 1e-3).
    /// </summary>
    public string Bn(string prefix, string x, double eps = BatchNormEps) =>
        Graph.Node("BatchNormalization", prefix,
            [x, W(prefix + ".weight"), W(prefix + ".bias"), W(prefix + ".running_mean"), W(prefix + ".running_var")],
            OnnxGraph.Float("epsilon", (float)eps));

    public string Relu(string name, string x) => Graph.Node("Relu", name, [x]);

    /// <summary>SiLU / swish, x * sigmoid(x), as Sigmoid then Mul (opset 17 has no Swish operator); output named <paramref name="name"/>.</summary>
    public string Swish(string name, string x) => Graph.Node("Mul", name, [x, Graph.Node("Sigmoid", name + ".sigmoid", [x])]);

    /// <summary>torch.nn.Linear of module <paramref name="prefix"/> on (K, in): Gemm with transB; output named <paramref name="output"/> or the prefix.</summary>
    public string Linear(string prefix, string x, string? output = null) =>
        Graph.NamedNode(prefix, "Gemm", output ?? prefix, [x, W(prefix + ".weight"), W(prefix + ".bias")], OnnxGraph.Int("transB", 1));

    /// <summary>
    /// torch.nn.Linear on an input of any rank (the last axis is the features): MatMul with the transposed weight
    /// <paramref name="weight"/> (a state-dict key; ONNX Runtime folds the Transpose when it loads the model), then the
    /// bias <paramref name="bias"/> when given; output named <paramref name="output"/>.
    /// </summary>
    public string MatMulLinear(string output, string x, string weight, string? bias)
    {
        string wt = Graph.Node("Transpose", output + ".weight_t", [W(weight)], OnnxGraph.Ints("perm", 1, 0));
        if (bias is null) return Graph.Node("MatMul", output, [x, wt]);
        return Graph.Node("Add", output, [Graph.Node("MatMul", output + ".matmul", [x, wt]), W(bias)]);
    }

    /// <summary>torch.nn.Linear of module <paramref name="prefix"/> (bias when it has one) on an input of any rank; output named the prefix.</summary>
    public string LinearNd(string prefix, string x) =>
        MatMulLinear(prefix, x, prefix + ".weight", Has(prefix + ".bias") ? prefix + ".bias" : null);

    /// <summary>torch.nn.LayerNorm of module <paramref name="prefix"/> over the last axis (LayerNormalization, opset 17); output named the prefix.</summary>
    public string LayerNorm(string prefix, string x) =>
        Graph.Node("LayerNormalization", prefix, [x, W(prefix + ".weight"), W(prefix + ".bias")],
            OnnxGraph.Int("axis", -1), OnnxGraph.Float("epsilon", LayerNormEps));

    /// <summary>
    /// torchvision's ResNet body (v1.5: stride on the bottleneck's 3x3) under <paramref name="prefix"/> ("backbone.body", or "" for a classifier):
    /// the outputs of layer1..layer4 (C2..C5).
    /// </summary>
    public string[] ResNetBody(string prefix, ResNetConfig config, string x)
    {
        prefix = prefix.Length == 0 ? "" : prefix + "."; // "" for a classifier ResNet, whose keys start at conv1

        string y = Relu($"{prefix}relu", Bn($"{prefix}bn1", Conv($"{prefix}conv1", x, 7, 2, 3)));
        y = Graph.Node("MaxPool", $"{prefix}maxpool", [y],
            OnnxGraph.Ints("kernel_shape", 3, 3), OnnxGraph.Ints("strides", 2, 2), OnnxGraph.Ints("pads", 1, 1, 1, 1));
        var stages = new string[4];
        for (int s = 0; s < 4; s++)
        {
            for (int b = 0; b < config.Layers[s]; b++)
            {
                string block = $"{prefix}layer{s + 1}.{b}";
                long stride = s > 0 && b == 0 ? 2 : 1;
                string z;
                if (config.Block == ResidualBlockKind.Bottleneck)
                {
                    z = Relu($"{block}.relu1", Bn($"{block}.bn1", Conv($"{block}.conv1", y, 1)));
                    z = Relu($"{block}.relu2", Bn($"{block}.bn2", Conv($"{block}.conv2", z, 3, stride, 1)));
                    z = Bn($"{block}.bn3", Conv($"{block}.conv3", z, 1));
                }
                else
                {
                    z = Relu($"{block}.relu1", Bn($"{block}.bn1", Conv($"{block}.conv1", y, 3, stride, 1)));
                    z = Bn($"{block}.bn2", Conv($"{block}.conv2", z, 3, 1, 1));
                }
                string identity = _state.ContainsKey($"{block}.downsample.0.weight")
                    ? Bn($"{block}.downsample.1", Conv($"{block}.downsample.0", y, 1, stride))
                    : y;
                y = Relu($"{block}.relu", Graph.Node("Add", $"{block}.add", [z, identity]));
            }
            stages[s] = y;
        }
        return stages;
    }

    /// <summary>
    /// torchvision's FeaturePyramidNetwork under <paramref name="prefix"/> ("backbone.fpn") over <paramref name="inputs"/>
    /// (finest first): 1x1 laterals, nearest top-down upsampling to each lateral's size, 3x3 outputs. Extra levels are the caller's.
    /// </summary>
    public string[] Fpn(string prefix, IReadOnlyList<string> inputs)
    {
        int n = inputs.Count;
        var results = new string[n];
        string lastInner = Conv($"{prefix}.inner_blocks.{n - 1}.0", inputs[n - 1], 1);
        results[n - 1] = Conv($"{prefix}.layer_blocks.{n - 1}.0", lastInner, 3, 1, 1);
        for (int i = n - 2; i >= 0; i--)
        {
            string lateral = Conv($"{prefix}.inner_blocks.{i}.0", inputs[i], 1);
            // F.interpolate(size=lateral's H, W, mode="nearest") = Resize to the lateral's full shape, floor of asymmetric coordinates
            string size = Graph.Node("Shape", $"{prefix}.inner_blocks.{i}.shape", [lateral]);
            string topDown = Graph.Node("Resize", $"{prefix}.top_down.{i}", [lastInner, "", "", size],
                OnnxGraph.String("mode", "nearest"), OnnxGraph.String("coordinate_transformation_mode", "asymmetric"),
                OnnxGraph.String("nearest_mode", "floor"));
            lastInner = Graph.Node("Add", $"{prefix}.inner.{i}", [lateral, topDown]);
            results[i] = Conv($"{prefix}.layer_blocks.{i}.0", lastInner, 3, 1, 1);
        }
        return results;
    }

    /// <summary>Fails when the model has a tensor the graph never used (BatchNorm's num_batches_tracked counters aside).</summary>
    public void EnsureAllUsed()
    {
        var unused = _state.Keys.Where(k => !_used.Contains(k) && !k.EndsWith(".num_batches_tracked", StringComparison.Ordinal)).ToList();
        if (unused.Count > 0)
            throw new InvalidOperationException($"the exported graph leaves out {unused.Count} tensors of the model, e.g. '{unused[0]}'");
    }
}
