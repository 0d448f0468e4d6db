using SpineXR.Vision.Models;
using SpineXR.Vision.Onnx;
using SpineXR.Vision.Training;
using SpineXR.Vision.Configuration;

namespace SpineXR.Cli.Commands;

/// <summary>`spinexr model export`: a trained classifier or detector run directory to ONNX (docs/onnx.md).</summary>
public sealed class ModelExportCommand : ICliCommand
{
    public string Name => "model export";
    public string Summary => "export a classifier, RetinaNet, Faster R-CNN or EfficientDet run directory to ONNX (opset 17, dynamic batch)";
    public string Help => $"""
        usage: spinexr model export RUN --format onnx --out FILE.onnx

        Loads RUN/model.json and RUN/weights.safetensors (strict) and writes the model as an ONNX model
        (opset {DenseNetOnnxExporter.Opset}, IR 8). Input '{DenseNetOnnxExporter.InputName}': float32 (batch, 3, S, S), S the card's input size,
        batch symbolic. Output '{DenseNetOnnxExporter.OutputName}': float32 (batch, classes). Weights are initializers
        under torchvision's names; the card's classes, input size, mean and std are model metadata.
        Input pixels are normalised as for `predict` (the model card's mean and std).
        A RetinaNet run exports backbone, FPN and heads: input '{RetinaNetOnnxExporter.InputName}' (batch, 3, H, W) normalised and padded,
        outputs '{RetinaNetOnnxExporter.ClsLogitsName}', '{RetinaNetOnnxExporter.BboxRegressionName}' and '{RetinaNetOnnxExporter.LevelSizesName}'; anchors, decoding and NMS
        run in C# (docs/onnx.md). A Faster R-CNN run's file holds its two networks: input '{FasterRcnnOnnxExporter.InputName}' to
        backbone, FPN and RPN head (outputs '{FasterRcnnOnnxExporter.ObjectnessName}', '{FasterRcnnOnnxExporter.RpnDeltasName}', '{FasterRcnnOnnxExporter.LevelSizesName}', 'features.0'..'features.3'), and
        input '{FasterRcnnOnnxExporter.BoxFeaturesName}' (pooled RoIs) to the box head (outputs '{FasterRcnnOnnxExporter.ClassLogitsName}', '{FasterRcnnOnnxExporter.BoxRegressionName}');
        anchors, proposals, RoIAlign and NMS run in C#. An EfficientDet run exports EfficientNet, BiFPN and the class and box nets
        as RetinaNet's: input '{EfficientDetOnnxExporter.InputName}' padded to multiples of 128, outputs '{EfficientDetOnnxExporter.ClsLogitsName}', '{EfficientDetOnnxExporter.BoxRegressionName}' ((ty, tx, th, tw))
        and '{EfficientDetOnnxExporter.LevelSizesName}'. The SHA-256 of the weights is recorded, so `predict --backend onnx` can use
        RUN/model.onnx only with the weights it was exported from.

        architectures: {string.Join(", ", ClassifierArchitectures.All)}; detectors: {DetectorOnnxExport.Supported} (Sparse R-CNN: not yet)
        exit codes: 0 done, 2 bad usage, unreadable run or unsupported architecture
        """;

    public int Run(CliArgs args)
    {
        if (args.Positionals.Count != 1) throw new UsageException("expects one RUN directory");
        string run = args.Positionals[0];
        string format = args.Require("format");
        string outPath = args.Require("out");
        if (format != "onnx") throw new UsageException($"unknown --format '{format}' (known: onnx)");
        if (!Directory.Exists(run)) throw new UsageException($"{run}: no such run directory");
        OnnxExportResult r;
        try
        {
            r = ModelCard.Load(run).Task == ModelCard.DetectionTask
                ? DetectorOnnxExport.ExportRun(run, outPath)
                : ClassifierOnnxExport.ExportRun(run, outPath);
        }
        catch (NotSupportedException e)
        {
            throw new UsageException(e.Message);
        }
        Console.WriteLine($"{r.Path}: {r.Architecture}, {r.Nodes} nodes, {r.Initializers} initializers, {r.Bytes} bytes");
        return ExitCodes.Ok;
    }
}
