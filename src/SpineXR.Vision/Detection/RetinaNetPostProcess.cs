// RetinaNet's test-time post-processing (torchvision 0.14 retinanet.py, postprocess_detections): the anchors of the
// padded batch, then DenseHeadPostProcess (per level the top candidates above the score threshold, box decoding,
// clipping, per-class NMS over all levels, boxes mapped back to each original image). Shared by the libtorch model
// and the ONNX Runtime backend, whose graph ends at the heads' outputs (docs/onnx.md), so both engines post-process
// with exactly this code.
using SpineXR.Vision.Detection.Ops;
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection;

/// <summary>Head outputs of a padded batch -> detections per image; a plain object built from the configuration.</summary>
public sealed class RetinaNetPostProcess
{
    private readonly DenseHeadPostProcess _select;

    /// <summary>The anchors, as the model generates them (3 octave scales x 3 ratios per location).</summary>
    public AnchorGenerator Anchors { get; }

    public RetinaNetPostProcess(RetinaNetConfig config)
    {
        var sizes = config.AnchorSizes.Select(x => new double[] { x, (int)(x * Math.Pow(2, 1.0 / 3)), (int)(x * Math.Pow(2, 2.0 / 3)) }).ToArray();
        Anchors = new AnchorGenerator(sizes, Enumerable.Repeat(new[] { 0.5, 1.0, 2.0 }, 5).ToArray());
        _select = new DenseHeadPostProcess(config.ScoreThresh, config.TopkCandidates, config.NmsThresh, config.DetectionsPerImage);
    }

    /// <summary>
    /// Detections of every image of <paramref name="list"/> in its original pixels (<paramref name="originalSizes"/>).
    /// <paramref name="clsLogits"/> is (N, sum HWA, K), <paramref name="bboxRegression"/> (N, sum HWA, 4), anchors in
    /// generation order over the pyramid levels of sizes <paramref name="levelSizes"/>. Outputs survive the caller's scope.
    /// </summary>
    public List<DetectionOutput> Detect(Tensor clsLogits, Tensor bboxRegression, ImageList list, IReadOnlyList<(long H, long W)> levelSizes,
        IReadOnlyList<(long H, long W)> originalSizes)
    {
        using var scope = NewDisposeScope();
        var anchors = Anchors.Generate(list.Tensors.shape[2], list.Tensors.shape[3], levelSizes);
        long a = Anchors.NumAnchorsPerLocation()[0];
        var perLevel = levelSizes.Select(s => s.H * s.W * a).ToArray();
        return _select.Detect(clsLogits, bboxRegression, anchors, perLevel, list, originalSizes).Select(d => d.MoveToOuterDisposeScope()).ToList();
    }
}
