// `spinexr model export RUN --format onnx` for a detector run (model.json with the training config + weights.safetensors).
using System.Globalization;
using System.Text.Json;
using SpineXR.Vision.Detection;
using SpineXR.Vision.Weights;
using SpineXR.Vision.Configuration;
using SpineXR.Vision.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace SpineXR.Vision.Onnx;

/// <summary>Exports a trained detector run to ONNX (RetinaNet, Faster R-CNN, Sparse R-CNN and EfficientDet; docs/onnx.md).</summary>
public static class DetectorOnnxExport
{
    /// <summary>The run's model configuration (model.json's config.model), as <c>Detector.Load</c> reads it.</summary>
    public static DetectorModelConfig Config(string runDir, ModelCard card) => card.DetectorModel(runDir);

    /// <summary>The detectors that export (every one the registry has), for the command's help.</summary>
    public const string Supported = "retinanet, faster-rcnn, sparse-rcnn and efficientdet-d0..d3";

    /// <summary>
    /// Loads the run strictly and writes its graph to <paramref name="outPath"/>, the weights' SHA-256 in the metadata.
    /// With <paramref name="calibrationImages"/>, the graph's convolutions are quantised to int8 (<see cref="OnnxQuantizer"/>,
    /// activation ranges from these images prepared as <c>predict</c> prepares them for the detector; metadata
    /// <c>spinexr.quantization</c>). An experiment measured in docs/onnx.md#quantisation.
    /// </summary>
    /// <exception cref="NotSupportedException">The run's model has no ONNX exporter (an architecture added without one).</exception>
    public static OnnxExportResult ExportRun(string runDir, string outPath, IReadOnlyList<string>? calibrationImages = null)
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
        var (onnx, transform) = module switch
        {
            RetinaNet r => (RetinaNetOnnxExporter.Build(r, metadata), r.Transform),
            FasterRCNN f => (FasterRcnnOnnxExporter.Build(f, metadata), f.Transform),
            EfficientDet e => (EfficientDetOnnxExporter.Build(e, metadata), e.Transform),
            SparseRcnn s => (SparseRcnnOnnxExporter.Build(s, metadata), s.Transform),
            _ => throw new NotSupportedException($"{runDir}: no ONNX exporter for {module.GetType().Name}"),
        };
        if (calibrationImages is not null)
            onnx = OnnxQuantizer.QuantizeInt8(onnx, calibrationImages.Select(f => CalibrationFeed(module, transform, config, f)), calibrationImages.Count);
        DenseNetOnnxExporter.Write(onnx, outPath);
        return new OnnxExportResult(Path.GetFullPath(outPath), metadata["spinexr.architecture"], onnx.Graph.Node.Count, onnx.Graph.Initializer.Count,
            new FileInfo(outPath).Length);
    }

    /// <summary>
    /// One calibration input of the graph: <paramref name="file"/> read as <c>predict</c> reads it (at full size: predict
    /// may decode a JPEG 2000 a wavelet level down, before the same resize), scaled to the run's short side and put
    /// through the model's own <paramref name="transform"/> (normalised, padded); Faster R-CNN's box head gets no RoIs (it
    /// has no convolution to calibrate), Sparse R-CNN the image's size.
    /// </summary>
    private static Dictionary<string, (float[] Data, long[] Shape)> CalibrationFeed(nn.Module module, Detection.Ops.GeneralizedRCNNTransform transform,
        DetectorModelConfig config, string file)
    {
        using var scope = torch.NewDisposeScope();
        var gray = ImageResize.ToShortSide(GrayImageF.From(SpineXR.Inference.SpineImageLoader.Load(file)), config.MinSize);
        var list = transform.Forward([DetectorTensor.FromGray(gray)]);
        var x = list.Tensors.contiguous();
        var feed = new Dictionary<string, (float[], long[])> { [RetinaNetOnnxExporter.InputName] = (x.data<float>().ToArray(), x.shape) };
        if (module is FasterRCNN)
        {
            var pool = FasterRCNN.CreateBoxRoIPool();
            feed[FasterRcnnOnnxExporter.BoxFeaturesName] = ([], [0, config.FpnChannels, pool.OutputSize, pool.OutputSize]);
        }
        if (module is SparseRcnn)
            feed[SparseRcnnOnnxExporter.ImageSizesName] = (SparseRcnn.ImageWhwh(list).data<float>().ToArray(), [1, 4]);
        return feed;
    }
}
