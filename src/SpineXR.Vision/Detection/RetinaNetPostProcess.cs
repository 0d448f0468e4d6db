// RetinaNet's test-time post-processing (torchvision 0.14 retinanet.py, postprocess_detections): per level the top
// candidates above the score threshold, box decoding against the anchors, clipping, per-class NMS over all levels,
// then boxes mapped back to each original image. Shared by the libtorch model and the ONNX Runtime backend, whose
// graph ends at the heads' outputs (docs/onnx.md), so both engines post-process with exactly this code.
using SpineXR.Vision.Detection.Ops;
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection;

/// <summary>Head outputs of a padded batch -> detections per image; a plain object built from the configuration.</summary>
public sealed class RetinaNetPostProcess
{
    private readonly RetinaNetConfig _config;
    private readonly BoxCoder _coder = new(1, 1, 1, 1);

    /// <summary>The anchors, as the model generates them (3 octave scales x 3 ratios per location).</summary>
    public AnchorGenerator Anchors { get; }

    public RetinaNetPostProcess(RetinaNetConfig config)
    {
        _config = config;
        var sizes = config.AnchorSizes.Select(x => new double[] { x, (int)(x * Math.Pow(2, 1.0 / 3)), (int)(x * Math.Pow(2, 2.0 / 3)) }).ToArray();
        Anchors = new AnchorGenerator(sizes, Enumerable.Repeat(new[] { 0.5, 1.0, 2.0 }, 5).ToArray());
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
        if (perLevel.Sum() != clsLogits.shape[1] || perLevel.Sum() != bboxRegression.shape[1])
            throw new ArgumentException($"{perLevel.Sum()} anchors for heads of {clsLogits.shape[1]} / {bboxRegression.shape[1]} rows", nameof(levelSizes));
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
                var reg = bboxRegression[i].narrow(0, offset, cnt);
                var anc = anchors.narrow(0, offset, cnt);
                offset += cnt;
                long k = logits.shape[1];
                var scores = sigmoid(logits).flatten();
                var keepIdxs = (scores > _config.ScoreThresh).nonzero().squeeze(1);
                scores = scores.index_select(0, keepIdxs);
                long numTopk = Math.Min(_config.TopkCandidates, keepIdxs.numel());
                var (topScores, idxs) = scores.topk((int)numTopk);
                var topkIdxs = keepIdxs.index_select(0, idxs);
                var anchorIdxs = topkIdxs.div(k, rounding_mode: RoundingMode.floor);
                var labels = topkIdxs.remainder(k);
                var b = _coder.DecodeSingle(reg.index_select(0, anchorIdxs), anc.index_select(0, anchorIdxs));
                b = TensorBoxOps.ClipToImage(b, list.ImageSizes[i].H, list.ImageSizes[i].W);
                allBoxes.Add(b); allScores.Add(topScores); allLabels.Add(labels);
            }
            var boxes = cat(allBoxes, 0);
            var sc = cat(allScores, 0);
            var lb = cat(allLabels, 0);
            var keep = TensorNms.Batched(boxes, sc, lb, _config.NmsThresh);
            keep = keep.narrow(0, 0, Math.Min(_config.DetectionsPerImage, keep.shape[0]));
            var outBoxes = GeneralizedRCNNTransform.ResizeBoxes(boxes.index_select(0, keep), list.ImageSizes[i], originalSizes[i]);
            result.Add(new DetectionOutput(outBoxes.MoveToOuterDisposeScope(), sc.index_select(0, keep).MoveToOuterDisposeScope(), lb.index_select(0, keep).MoveToOuterDisposeScope()));
        }
        return result;
    }
}
