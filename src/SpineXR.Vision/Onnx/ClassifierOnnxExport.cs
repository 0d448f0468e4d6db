// `spinexr model export RUN --format onnx`: a classifier run directory (model.json + weights.safetensors) to one .onnx file.
using System.Globalization;
using SpineXR.Vision.Models;
using SpineXR.Vision.Weights;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Onnx;

/// <summary>What an export wrote.</summary>
/// <param name="Path">The .onnx file.</param>
/// <param name="Architecture">The run's architecture.</param>
/// <param name="Nodes">Number of graph nodes.</param>
/// <param name="Initializers">Number of weight tensors stored.</param>
/// <param name="Bytes">Size of the file.</param>
public sealed record OnnxExportResult(string Path, string Architecture, int Nodes, int Initializers, long Bytes);

/// <summary>Exports a trained classifier run (DenseNet or ResNet) to ONNX (docs/onnx.md).</summary>
public static class ClassifierOnnxExport
{
    /// <summary>
    /// Loads <c>RUN/model.json</c> and <c>RUN/weights.safetensors</c> strictly and writes the ONNX graph to <paramref name="outPath"/>,
    /// with the card's input size as H = W and its classes, mean and std as metadata.
    /// </summary>
    /// <exception cref="NotSupportedException">The run's architecture has no ONNX exporter yet.</exception>
    public static OnnxExportResult ExportRun(string runDir, string outPath)
    {
        TorchRuntime.EnsureLoaded();
        var card = ModelCard.Load(runDir);
        if (!ClassifierArchitectures.Registry.TryGet(card.Architecture, out var arch))
            throw new NotSupportedException($"{runDir}: {ClassifierArchitectures.Registry.Unknown(card.Architecture)}");
        string weightsPath = Path.Combine(runDir, "weights.safetensors");
        var weights = StateDict.Read(weightsPath);
        try
        {
            using var model = arch.Build(weights);
            StateDict.Load(model, weights, source: weightsPath);
            model.eval();
            var inv = CultureInfo.InvariantCulture;
            var metadata = new Dictionary<string, string>
            {
                ["spinexr.task"] = card.Task,
                ["spinexr.architecture"] = card.Architecture,
                ["spinexr.classes"] = string.Join(',', card.Classes),
                ["spinexr.input_size"] = card.InputSize.ToString(inv),
                ["spinexr.mean"] = string.Join(',', card.Mean.Select(v => v.ToString("R", inv))),
                ["spinexr.std"] = string.Join(',', card.Std.Select(v => v.ToString("R", inv))),
                [OnnxRunModel.WeightsDigestKey] = OnnxRunModel.Sha256(weightsPath),
            };
            var onnx = model switch
            {
                ResNet resnet => ResNetOnnxExporter.Build(resnet, card.InputSize, metadata),
                DenseNet densenet => DenseNetOnnxExporter.Build(densenet, card.InputSize, metadata),
                _ => throw new NotSupportedException($"{runDir}: ONNX export supports the DenseNet and ResNet classifiers, not '{card.Architecture}'"),
            };
            DenseNetOnnxExporter.Write(onnx, outPath);
            return new OnnxExportResult(Path.GetFullPath(outPath), card.Architecture, onnx.Graph.Node.Count, onnx.Graph.Initializer.Count,
                new FileInfo(outPath).Length);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }
}
