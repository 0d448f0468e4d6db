// ONNX export of SpineXR's ResNet classifiers (torchvision's resnet18/34/50 forward: body -> global average pool ->
// flatten -> fc), written from the configuration with OnnxModuleWriter as the detectors' bodies are; same input and
// output contract as the DenseNet export, so the classifier backend runs either.
using SpineXR.Vision.Models;
using SpineXR.Vision.Onnx.Proto;

namespace SpineXR.Vision.Onnx;

/// <summary>Builds the ONNX graph (opset 17, dynamic batch) of a <see cref="ResNet"/> classifier in eval mode.</summary>
public static class ResNetOnnxExporter
{
    /// <summary>
    /// The ONNX model of <paramref name="model"/> (built with a classifier head). <paramref name="inputSize"/> fixes H = W
    /// in the input's declared shape (null: symbolic).
    /// </summary>
    public static ModelProto Build(ResNet model, int? inputSize = null, IEnumerable<KeyValuePair<string, string>>? metadata = null)
    {
        if (model.Config.NumClasses < 1) throw new NotSupportedException("the ResNet has no classifier head (NumClasses = 0)");
        var g = new OnnxGraph("resnet");
        var m = new OnnxModuleWriter(g, model.state_dict());
        object h = inputSize.HasValue ? (long)inputSize.Value : "height";
        object w = inputSize.HasValue ? (long)inputSize.Value : "width";
        g.AddInput(DenseNetOnnxExporter.InputName, "batch", 3L, h, w);
        // The body writer names nodes by module path; the classifier's keys have no "backbone.body" prefix.
        var c = m.ResNetBody("", model.Config, DenseNetOnnxExporter.InputName);
        // (N, C, H, W).mean([2, 3]) -> (N, C): global average pool, then flatten
        string y = g.Node("GlobalAveragePool", "avgpool", [c[3]]);
        y = g.Node("Flatten", "flatten", [y], OnnxGraph.Int("axis", 1));
        g.Node("Gemm", DenseNetOnnxExporter.OutputName, [y, m.W("fc.weight"), m.W("fc.bias")],
            OnnxGraph.Float("alpha", 1f), OnnxGraph.Float("beta", 1f), OnnxGraph.Int("transB", 1));
        g.AddOutput(DenseNetOnnxExporter.OutputName, "batch", (long)model.Config.NumClasses);
        m.EnsureAllUsed();
        string version = typeof(ResNetOnnxExporter).Assembly.GetName().Version?.ToString() ?? "0";
        return g.ToModel(DenseNetOnnxExporter.Opset, version, metadata ?? []);
    }
}
