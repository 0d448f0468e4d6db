// The test-time selection that single-stage, anchor-per-row detectors share (torchvision 0.14 retinanet.py's
// postprocess_detections, which effdet's generate_detections follows in substance): per pyramid level the top
// candidates above the score threshold, box decoding against their anchors, clipping to the resized image, class-wise
// NMS over all levels, the best detections kept, boxes mapped back to the original image. RetinaNetPostProcess and
// EfficientDetPostProcess differ only in their anchors and the order of the box outputs, so both call this one.
using SpineXR.Vision.Detection.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection;

/// <summary>Class logits and box deltas per anchor -> detections per image; a plain object over the selection settings.</summary>
public sealed class DenseHeadPostProcess
{
    private readonly BoxCoder _coder = new(1, 1, 1, 1);
    private readonly long[]? _regressionOrder;

    public double ScoreThresh { get; }
    public int TopkCandidates { get; }
    public double NmsThresh { get; }
    public int DetectionsPerImage { get; }

    /// <param name="regressionOrder">
    /// Column order that turns the head's box outputs into the coder's (dx, dy, dw, dh); null when they already are
    /// (RetinaNet). effdet's (ty, tx, th, tw) take [1, 0, 3, 2].
    /// </param>
    public DenseHeadPostProcess(double scoreThresh, int topkCandidates, double nmsThresh, int detectionsPerImage, long[]? regressionOrder = null)
    {
        if (regressionOrder is not null && regressionOrder.Length != 4) throw new ArgumentException("four columns", nameof(regressionOrder));
        ScoreThresh = scoreThresh;
        TopkCandidates = topkCandidates;
        NmsThresh = nmsThresh;
        DetectionsPerImage = detectionsPerImage;
        _regressionOrder = regressionOrder;
    }

    /// <summary>
    /// Detections of every image of <paramref name="list"/> in its original pixels (<paramref name="originalSizes"/>).
    /// <paramref name="clsLogits"/> is (N, sum A_l, K), <paramref name="boxRegression"/> (N, sum A_l, 4) and
    /// <paramref name="anchors"/> (sum A_l, 4) xyxy in the padded batch's pixels, rows in level order with
    /// <paramref name="perLevel"/>[l] = A_l rows on level l. Outputs survive the caller's scope.
    /// </summary>
    public List<DetectionOutput> Detect(Tensor clsLogits, Tensor boxRegression, Tensor anchors, IReadOnlyList<long> perLevel, ImageList list,
        IReadOnlyList<(long H, long W)> originalSizes)
    {
        long total = perLevel.Sum();
        if (total != clsLogits.shape[1] || total != boxRegression.shape[1] || total != anchors.shape[0])
            throw new ArgumentException($"{total} anchors per level sum for heads of {clsLogits.shape[1]} / {boxRegression.shape[1]} rows and {anchors.shape[0]} anchors", nameof(perLevel));
        using var scope = NewDisposeScope();
        var order = _regressionOrder is null ? null : tensor(_regressionOrder);
        using Scalar threshold = ScoreThresh.ToScalar();
        var result = new List<DetectionOutput>();
        for (int i = 0; i < originalSizes.Count; i++)
        {
            var allBoxes = new List<Tensor>();
            var allScores = new List<Tensor>();
            var allLabels = new List<Tensor>();
            long offset = 0;
            foreach (long cnt in perLevel)
            {
                var logits = clsLogits[i].narrow(0, offset, cnt);
                var reg = boxRegression[i].narrow(0, offset, cnt);
                var anc = anchors.narrow(0, offset, cnt);
                offset += cnt;
                using Scalar k = logits.shape[1].ToScalar();
                var scores = sigmoid(logits).flatten();
                var keepIdxs = scores.gt(threshold).nonzero().squeeze(1);
                scores = scores.index_select(0, keepIdxs);
                var (topScores, idxs) = scores.topk((int)Math.Min(TopkCandidates, keepIdxs.numel()));
                var topkIdxs = keepIdxs.index_select(0, idxs);
                var anchorIdxs = topkIdxs.div(k, rounding_mode: RoundingMode.floor);
                var deltas = reg.index_select(0, anchorIdxs);
                if (order is not null) deltas = deltas.index_select(1, order);
                var b = _coder.DecodeSingle(deltas, anc.index_select(0, anchorIdxs));
                allBoxes.Add(TensorBoxOps.ClipToImage(b, list.ImageSizes[i].H, list.ImageSizes[i].W));
                allScores.Add(topScores);
                allLabels.Add(topkIdxs.remainder(k));
            }
            var boxes = cat(allBoxes, 0);
            var sc = cat(allScores, 0);
            var lb = cat(allLabels, 0);
            var keep = TensorNms.Batched(boxes, sc, lb, NmsThresh);
            keep = keep.narrow(0, 0, Math.Min(DetectionsPerImage, keep.shape[0]));
            var outBoxes = GeneralizedRCNNTransform.ResizeBoxes(boxes.index_select(0, keep), list.ImageSizes[i], originalSizes[i]);
            result.Add(new DetectionOutput(outBoxes.MoveToOuterDisposeScope(), sc.index_select(0, keep).MoveToOuterDisposeScope(),
                lb.index_select(0, keep).MoveToOuterDisposeScope()));
        }
        return result;
    }
}
