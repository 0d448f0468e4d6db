// `spinexr model run` for torchvision's detectors: fasterrcnn_resnet50_fpn and retinanet_resnet50_fpn, class count
// read from the weights, eval mode, the model's own transform, detections.json as torchvision returns them.
using System.Text.Json;
using SpineXR.IO;
using SpineXR.Vision.Models;
using SpineXR.Vision.Weights;
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection;

/// <summary>Detectors for `model run`; writes <c>detections.json</c>: per image <c>boxes</c> (xyxy, input pixels), <c>scores</c>, <c>labels</c>.</summary>
public sealed class DetectorArchitectures : IRunnableArchitecture
{
    public IReadOnlyList<string> Names => ["fasterrcnn_resnet50_fpn", "retinanet_resnet50_fpn"];

    /// <summary>BatchNorm's num_batches_tracked: absent from frozen-BN checkpoints (torchvision COCO), present in plain-BN ones.</summary>
    public static bool IsNumBatchesTracked(string key) => key.EndsWith("num_batches_tracked", StringComparison.Ordinal);

    /// <summary>Builds the detector sized from the weights' class-dependent layers.</summary>
    public static nn.Module Build(string arch, IReadOnlyDictionary<string, Tensor> weights) => arch switch
    {
        "fasterrcnn_resnet50_fpn" => new FasterRCNN(FasterRcnnConfig.ResNet50Fpn(
            (int)ShapeOf(weights, "roi_heads.box_predictor.cls_score.weight", arch)[0], pretrainedBackbone: true)),
        "retinanet_resnet50_fpn" => new RetinaNet(RetinaNetConfig.ResNet50Fpn(
            (int)(ShapeOf(weights, "head.classification_head.cls_logits.weight", arch)[0] / 9), pretrainedBackbone: true)),
        _ => throw new ArgumentException($"not a detector architecture: {arch}", nameof(arch)),
    };

    private static long[] ShapeOf(IReadOnlyDictionary<string, Tensor> weights, string key, string arch) =>
        weights.TryGetValue(key, out var t) ? t.shape : throw new InvalidDataException($"the weights have no '{key}', so they are not a {arch}");

    public IReadOnlyList<string> Run(string arch, IReadOnlyDictionary<string, Tensor> weights, Tensor input, string outDir)
    {
        if (input.dim() != 4 || input.shape[1] != 3)
            throw new InvalidDataException($"input must be N x 3 x H x W, got [{string.Join(", ", input.shape)}]");
        using var model = Build(arch, weights);
        StateDict.Load(model, weights, skip: IsNumBatchesTracked, source: "the weights");
        model.eval();
        var detector = (IObjectDetector)model;
        using var scope = NewDisposeScope();
        var x = input.to(ScalarType.Float32);
        var images = Enumerable.Range(0, (int)x.shape[0]).Select(i => x[i]).ToArray();
        var dets = detector.Detect(images);
        string path = Path.Combine(outDir, "detections.json");
        AtomicFile.WriteAllText(path, ToJson(dets));
        return [path];
    }

    /// <summary>torchvision's list of dicts: boxes [[x1, y1, x2, y2]...], scores, labels.</summary>
    public static string ToJson(IReadOnlyList<DetectionOutput> dets)
    {
        var list = dets.Select(d =>
        {
            var b = TensorArrays.Read<float>(d.Boxes);
            return new
            {
                boxes = Enumerable.Range(0, b.Length / 4).Select(i => b.AsSpan(4 * i, 4).ToArray()).ToArray(),
                scores = TensorArrays.Read<float>(d.Scores),
                labels = TensorArrays.Read<long>(d.Labels),
            };
        }).ToList();
        return JsonSerializer.Serialize(list);
    }
}
