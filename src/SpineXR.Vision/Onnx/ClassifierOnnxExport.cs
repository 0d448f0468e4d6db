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
    public static OnnxExportResult ExportRun(string runDir, string outPath) => ExportRun(runDir, outPath, calibrationImages: null);

    /// <summary>
    /// As <see cref="ExportRun(string, string)"/>; with <paramref name="calibrationImages"/>, the graph is quantised to int8
    /// (<see cref="OnnxQuantizer"/>: BatchNorm folded, activation ranges from these images prepared as <c>predict</c>
    /// prepares them, metadata <c>spinexr.quantization</c>). An experiment measured in docs/onnx.md#quantisation.
    /// </summary>
    public static OnnxExportResult ExportRun(string runDir, string outPath, IReadOnlyList<string>? calibrationImages)
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
            if (calibrationImages is not null) onnx = QuantizeInt8(onnx, card, calibrationImages);
            DenseNetOnnxExporter.Write(onnx, outPath);
            return new OnnxExportResult(Path.GetFullPath(outPath), card.Architecture, onnx.Graph.Node.Count, onnx.Graph.Initializer.Count,
                new FileInfo(outPath).Length);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }

    /// <summary>Calibration batch size (memory: every quantised activation of a batch is held at once).</summary>
    private const int CalibrationBatch = 8;

    private static Proto.ModelProto QuantizeInt8(Proto.ModelProto onnx, ModelCard card, IReadOnlyList<string> images)
    {
        var transform = new Preprocessing.ClassifierTransform(card.InputSize, card.Mean, card.Std);
        IEnumerable<IReadOnlyDictionary<string, (float[] Data, long[] Shape)>> Batches()
        {
            foreach (var chunk in images.Chunk(CalibrationBatch))
            {
                var data = new float[chunk.Length * transform.Length];
                // as predict reads an input (DICOM through the reference 8-bit conversion, or PNG grey levels), then the card's transform
                for (int i = 0; i < chunk.Length; i++)
                    transform.Apply(SpineXR.Inference.SpineImageLoader.Load(chunk[i]).ToGray(), Preprocessing.Augmentation.None, data.AsSpan(i * transform.Length, transform.Length));
                yield return new Dictionary<string, (float[], long[])> { [DenseNetOnnxExporter.InputName] = (data, [chunk.Length, 3, card.InputSize, card.InputSize]) };
            }
        }
        return OnnxQuantizer.QuantizeInt8(onnx, Batches(), images.Count);
    }
}
