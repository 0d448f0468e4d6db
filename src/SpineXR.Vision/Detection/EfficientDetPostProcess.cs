// EfficientDet's test-time post-processing (effdet's generate_detections with the PyTorch-padding models' settings, in
// torchvision's per-level form as SpineXR's RetinaNet): the anchors of the padded batch (EfficientDetAnchors), the box
// outputs taken from effdet's (ty, tx, th, tw) to the coder's (dx, dy, dw, dh), then DenseHeadPostProcess. Shared by
// the libtorch model and the ONNX Runtime backend (docs/onnx.md), so both engines post-process with exactly this code.
using SpineXR.Vision.Detection.Ops;
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection;

/// <summary>Class and box net outputs of a padded batch -> detections per image; a plain object built from the configuration.</summary>
public sealed class EfficientDetPostProcess
{
    /// <summary>effdet's box outputs are (ty, tx, th, tw); this column order gives the coder's (dx, dy, dw, dh), and back.</summary>
    public static readonly long[] SwapXy = [1, 0, 3, 2];

    private readonly double _anchorScale;
    private readonly DenseHeadPostProcess _select;

    public EfficientDetPostProcess(EfficientDetConfig config)
    {
        _anchorScale = config.AnchorScale;
        _select = new DenseHeadPostProcess(config.ScoreThresh, config.TopkCandidates, config.NmsThresh, config.DetectionsPerImage, SwapXy);
    }

    /// <summary>The anchors (sum over levels of H*W*9, 4) of a padded batch (batchH, batchW) with pyramid levels of <paramref name="levelSizes"/>.</summary>
    public Tensor Anchors(long batchH, long batchW, IReadOnlyList<(long H, long W)> levelSizes) =>
        EfficientDetAnchors.Generate(batchH, batchW, levelSizes, _anchorScale);

    /// <summary>Rows per level: H*W*9.</summary>
    public static long[] PerLevel(IReadOnlyList<(long H, long W)> levelSizes) =>
        levelSizes.Select(s => s.H * s.W * EfficientDetAnchors.PerLocation).ToArray();

    /// <summary>
    /// Detections of every image of <paramref name="list"/> in its original pixels (<paramref name="originalSizes"/>).
    /// <paramref name="clsLogits"/> is (N, sum HWA, K), <paramref name="boxRegression"/> (N, sum HWA, 4) in effdet's
    /// (ty, tx, th, tw), anchors in generation order over the levels of sizes <paramref name="levelSizes"/> (P3..P7).
    /// Outputs survive the caller's scope.
    /// </summary>
    public List<DetectionOutput> Detect(Tensor clsLogits, Tensor boxRegression, ImageList list, IReadOnlyList<(long H, long W)> levelSizes,
        IReadOnlyList<(long H, long W)> originalSizes)
    {
        using var scope = NewDisposeScope();
        var anchors = Anchors(list.Tensors.shape[2], list.Tensors.shape[3], levelSizes);
        return _select.Detect(clsLogits, boxRegression, anchors, PerLevel(levelSizes), list, originalSizes).Select(d => d.MoveToOuterDisposeScope()).ToList();
    }
}
