// `spinexr model export RUN --format onnx` for a detector run (model.json with the training config + weights.safetensors).
using System.Globalization;
using System.Text.Json;
using SpineXR.Vision.Detection;
using SpineXR.Vision.Weights;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Onnx;

/// <summary>Exports a trained detector run to ONNX (RetinaNet so far; docs/onnx.md).</summary>
public static class DetectorOnnxExport
{
    /// <summary>The run's model configuration (model.json's config.model), as <c>Detector.Load</c> reads it.</summary>
    public static DetectorModelConfig Config(string runDir, ModelCard card) => card.DetectorModel(runDir);

    /// <summary>Loads the run strictly and writes its graph to <paramref name="outPath"/>, the weights' SHA-256 in the metadata.</summary>
    /// <exception cref="NotSupportedException">The run's architecture has no ONNX exporter yet.</exception>
    public static OnnxExportResult ExportRun(string runDir, string outPath)
    {
        TorchRuntime.EnsureLoaded();
        var card = ModelCard.Load(runDir, ModelCard.DetectionTask);
        var config = Config(runDir, card);
        if (config.Arch != "retinanet")
            throw new NotSupportedException($"{runDir}: ONNX export supports the retinanet detectors, not '{config.Arch}'");
        string weights = Path.Combine(runDir, "weights.safetensors");
        if (!File.Exists(weights)) throw new FileNotFoundException($"{runDir}: no weights.safetensors", weights);
        using var module = config.BuildModel(card.Classes.Length);
        StateDict.LoadFile(module, weights, skip: DetectorArchitectures.IsNumBatchesTracked);
        module.eval();
        var inv = CultureInfo.InvariantCulture;
        var metadata = new Dictionary<string, string>
        {
            ["spinexr.task"] = card.Task,
            ["spinexr.architecture"] = card.Architecture,
            ["spinexr.classes"] = string.Join(',', card.Classes),
            ["spinexr.min_size"] = config.MinSize.ToString(inv),
            ["spinexr.max_size"] = config.MaxSize.ToString(inv),
            [OnnxRunModel.WeightsDigestKey] = OnnxRunModel.Sha256(weights),
        };
        var onnx = RetinaNetOnnxExporter.Build((RetinaNet)module, metadata);
        DenseNetOnnxExporter.Write(onnx, outPath);
        return new OnnxExportResult(Path.GetFullPath(outPath), metadata["spinexr.architecture"], onnx.Graph.Node.Count, onnx.Graph.Initializer.Count,
            new FileInfo(outPath).Length);
    }
}
