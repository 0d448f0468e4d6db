// ONNX export of SpineXR's DenseNet classifiers (torchvision's graph: features -> relu -> global average pool ->
// flatten -> classifier). The graph is written from the DenseNet's configuration, node for node as DenseNet.forward
// computes it, with the state dict's tensors as initializers under torchvision's names; every parameter and buffer
// of the model (except BatchNorm's num_batches_tracked counters) must be used, or the export fails.
using SpineXR.Vision.Models;
using SpineXR.Vision.Onnx.Proto;
using static TorchSharp.torch;

namespace SpineXR.Vision.Onnx;

/// <summary>Builds and writes the ONNX graph (opset 17, dynamic batch) of a <see cref="DenseNet"/> in eval mode.</summary>
public static class DenseNetOnnxExporter
{
    /// <summary>The opset the graph is written for (ONNX 1.12, which Debian's python3-onnx checks).</summary>
    public const int Opset = 17;

    /// <summary>Name of the graph input: float32 (batch, 3, H, W), normalised as the model card says.</summary>
    public const string InputName = "input";

    /// <summary>Name of the graph output: float32 (batch, classes) logits.</summary>
    public const string OutputName = "logits";

    /// <summary>torchvision's BatchNorm2d epsilon (TorchSharp's default too).</summary>
    private const float BatchNormEps = 1e-5f;

    /// <summary>
    /// The ONNX model of <paramref name="model"/>. <paramref name="inputSize"/> fixes H = W in the input's declared shape
    /// (null: symbolic "height"/"width"; DenseNet's global pooling accepts any size of at least 32).
    /// </summary>
    public static ModelProto Build(DenseNet model, int? inputSize = null, IEnumerable<KeyValuePair<string, string>>? metadata = null)
    {
        var config = model.Config;
        var state = model.state_dict();
        var used = new HashSet<string>(StringComparer.Ordinal);
        var g = new OnnxGraph("densenet");

        string W(string key)
        {
            if (!state.TryGetValue(key, out var t)) throw new InvalidOperationException($"the model has no '{key}'");
            used.Add(key);
            return g.AddInitializer(key, t);
        }

        string Conv(string prefix, string x, long k, long stride, long pad) =>
            g.Node("Conv", prefix, [x, W(prefix + ".weight")],
                OnnxGraph.Ints("kernel_shape", k, k), OnnxGraph.Ints("strides", stride, stride),
                OnnxGraph.Ints("pads", pad, pad, pad, pad), OnnxGraph.Ints("dilations", 1, 1), OnnxGraph.Int("group", 1));

        string Bn(string prefix, string x) =>
            g.Node("BatchNormalization", prefix,
                [x, W(prefix + ".weight"), W(prefix + ".bias"), W(prefix + ".running_mean"), W(prefix + ".running_var")],
                OnnxGraph.Float("epsilon", BatchNormEps));

        string Relu(string name, string x) => g.Node("Relu", name, [x]);

        object h = inputSize.HasValue ? (long)inputSize.Value : "height";
        object w = inputSize.HasValue ? (long)inputSize.Value : "width";
        g.AddInput(InputName, "batch", 3L, h, w);

        // Stem: conv0 7x7/2 -> norm0 -> relu0 -> pool0 max 3x3/2 pad 1.
        string y = Conv("features.conv0", InputName, 7, 2, 3);
        y = Relu("features.relu0", Bn("features.norm0", y));
        y = g.Node("MaxPool", "features.pool0", [y],
            OnnxGraph.Ints("kernel_shape", 3, 3), OnnxGraph.Ints("strides", 2, 2), OnnxGraph.Ints("pads", 1, 1, 1, 1));

        for (int b = 0; b < config.BlockConfig.Length; b++)
        {
            string block = $"features.denseblock{b + 1}";
            var features = new List<string> { y };
            for (int l = 0; l < config.BlockConfig[b]; l++)
            {
                string layer = $"{block}.denselayer{l + 1}";
                string cat = features.Count == 1 ? features[0] : g.Node("Concat", $"{layer}.cat", features, OnnxGraph.Int("axis", 1));
                string z = Conv($"{layer}.conv1", Relu($"{layer}.relu1", Bn($"{layer}.norm1", cat)), 1, 1, 0);
                z = Conv($"{layer}.conv2", Relu($"{layer}.relu2", Bn($"{layer}.norm2", z)), 3, 1, 1);
                features.Add(z); // dropout is identity in eval mode
            }
            y = g.Node("Concat", block, features, OnnxGraph.Int("axis", 1));
            if (b != config.BlockConfig.Length - 1)
            {
                string tr = $"features.transition{b + 1}";
                y = Conv($"{tr}.conv", Relu($"{tr}.relu", Bn($"{tr}.norm", y)), 1, 1, 0);
                y = g.Node("AveragePool", $"{tr}.pool", [y], OnnxGraph.Ints("kernel_shape", 2, 2), OnnxGraph.Ints("strides", 2, 2));
            }
        }

        // Head: norm5 -> relu -> adaptive average pool to 1x1 -> flatten -> linear.
        y = Relu("features.relu5", Bn("features.norm5", y));
        y = g.Node("GlobalAveragePool", "pool", [y]);
        y = g.Node("Flatten", "flatten", [y], OnnxGraph.Int("axis", 1));
        g.Node("Gemm", OutputName, [y, W("classifier.weight"), W("classifier.bias")],
            OnnxGraph.Float("alpha", 1f), OnnxGraph.Float("beta", 1f), OnnxGraph.Int("transB", 1));
        g.AddOutput(OutputName, "batch", (long)model.NumClasses);

        var unused = state.Keys.Where(k => !used.Contains(k) && !k.EndsWith(".num_batches_tracked", StringComparison.Ordinal)).ToList();
        if (unused.Count > 0)
            throw new InvalidOperationException($"the exported graph leaves out {unused.Count} tensors of the model, e.g. '{unused[0]}'");

        string version = typeof(DenseNetOnnxExporter).Assembly.GetName().Version?.ToString() ?? "0";
        return g.ToModel(Opset, version, metadata ?? []);
    }

    /// <summary>Writes <see cref="Build"/>'s model to <paramref name="path"/> (protobuf binary, written whole then moved into place).</summary>
    public static void Write(ModelProto onnx, string path)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string tmp = full + ".tmp";
        try
        {
            using (var f = File.Create(tmp))
            {
                Google.Protobuf.MessageExtensions.WriteTo(onnx, f);
            }
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }
}
