// `spinexr model export RUN --format onnx` for a detector run (model.json with the training config + weights.safetensors).
using System.Globalization;
using System.Text.Json;
using SpineXR.Vision.Detection;
using SpineXR.Vision.Weights;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Onnx;

/// <summary>Exports a trained detector run to ONNX (RetinaNet, Faster R-CNN, Sparse R-CNN and EfficientDet; docs/onnx.md).</summary>
public static class DetectorOnnxExport
{
    /// <summary>The run's model configuration (model.json's config.model), as <c>Detector.Load</c> reads it.</summary>
    public static DetectorModelConfig Config(string runDir, ModelCard card) => card.DetectorModel(runDir);

    /// <summary>The detectors that export (every one the registry has), for the command's help.</summary>
    public const string Supported = "retinanet, faster-rcnn, sparse-rcnn and efficientdet-d0..d3";

    /// <summary>Loads the run strictly and writes its graph to <paramref name="outPath"/>, the weights' SHA-256 in the metadata.</summary>
    /// <exception cref="NotSupportedException">The run's model has no ONNX exporter (an architecture added without one).</exception>
    public static OnnxExportResult ExportRun(string runDir, string outPath)
    {
        TorchRuntime.EnsureLoaded();
        var card = ModelCard.Load(runDir, ModelCard.DetectionTask);
        var config = Config(runDir, card);
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
        var onnx = module switch
        {
            RetinaNet r => RetinaNetOnnxExporter.Build(r, metadata),
            FasterRCNN f => FasterRcnnOnnxExporter.Build(f, metadata),
            EfficientDet e => EfficientDetOnnxExporter.Build(e, metadata),
            SparseRcnn s => SparseRcnnOnnxExporter.Build(s, metadata),
            _ => throw new NotSupportedException($"{runDir}: no ONNX exporter for {module.GetType().Name}"),
        };
        DenseNetOnnxExporter.Write(onnx, outPath);
        return new OnnxExportResult(Path.GetFullPath(outPath), metadata["spinexr.architecture"], onnx.Graph.Node.Count, onnx.Graph.Initializer.Count,
            new FileInfo(outPath).Length);
    }
}
