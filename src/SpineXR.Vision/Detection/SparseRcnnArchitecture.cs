// `spinexr model run --arch sparse_rcnn_r50_fpn`: the official R50-FPN Sparse R-CNN, sized from the weights
// (classes, proposals, stages), from an official/detectron2 checkpoint or our weights.safetensors, run once in
// eval mode on a float32 N x 3 x H x W tensor in [0, 1]; detections.json in input pixels.
using SpineXR.IO;
using SpineXR.Vision.Models;
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection;

/// <summary>Sparse R-CNN for `model run`.</summary>
public sealed class SparseRcnnArchitecture : IRunnableArchitecture
{
    public IReadOnlyList<string> Names => ["sparse_rcnn_r50_fpn"];

    /// <summary>The paper configuration sized from the weights' class, proposal and stage counts (our names or detectron2's).</summary>
    public static SparseRcnnConfig ConfigFor(IReadOnlyDictionary<string, Tensor> weights)
    {
        long[] Shape(string key) => weights.TryGetValue(key, out var t) ? t.shape
            : throw new InvalidDataException($"the weights have no '{key}', so they are not a Sparse R-CNN");
        int classes = (int)Shape("head.head_series.0.class_logits.weight")[0];
        int proposals = (int)Shape("init_proposal_boxes.weight")[0];
        int stages = weights.Keys.Where(k => k.StartsWith("head.head_series.", StringComparison.Ordinal))
            .Select(k => int.Parse(k.Split('.')[2])).Max() + 1;
        return SparseRcnnConfig.Paper(classes) with { NumProposals = proposals, DetectionsPerImage = proposals, NumStages = stages };
    }

    public IReadOnlyList<string> Run(string arch, IReadOnlyDictionary<string, Tensor> weights, Tensor input, string outDir)
    {
        if (input.dim() != 4 || input.shape[1] != 3)
            throw new InvalidDataException($"input must be N x 3 x H x W, got [{string.Join(", ", input.shape)}]");
        using var model = new SparseRcnn(ConfigFor(weights));
        var report = SparseRcnnWeights.Load(model, weights);
        if (report.Missing.Count > 0 || report.ShapeMismatches.Count > 0)
            throw new InvalidDataException($"the weights do not fit {arch}: {report}");
        model.eval();
        using var scope = NewDisposeScope();
        var x = input.to(ScalarType.Float32);
        var dets = model.Detect(Enumerable.Range(0, (int)x.shape[0]).Select(i => x[i]).ToArray());
        string path = Path.Combine(outDir, "detections.json");
        AtomicFile.WriteAllText(path, DetectorArchitectures.ToJson(dets));
        return [path];
    }
}
