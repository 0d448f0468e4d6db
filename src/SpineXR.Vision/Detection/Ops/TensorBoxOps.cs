// Box utilities over (N, 4) xyxy tensors, as torchvision.ops.boxes (no +1 pixel convention).
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection.Ops;

/// <summary>Tensor box operations: area, pairwise IoU, clipping, small-box removal.</summary>
public static class TensorBoxOps
{
    /// <summary>(N, 4) -> (N) areas.</summary>
    public static Tensor Area(Tensor boxes) =>
        (boxes.select(1, 2) - boxes.select(1, 0)) * (boxes.select(1, 3) - boxes.select(1, 1));

    /// <summary>Pairwise IoU of (N, 4) and (M, 4) -> (N, M).</summary>
    public static Tensor Iou(Tensor boxes1, Tensor boxes2)
    {
        using var scope = NewDisposeScope();
        var area1 = Area(boxes1);
        var area2 = Area(boxes2);
        // (N, 1, 2) against (M, 2) -> (N, M, 2)
        var lt = maximum(boxes1.narrow(1, 0, 2).unsqueeze(1), boxes2.narrow(1, 0, 2));
        var rb = minimum(boxes1.narrow(1, 2, 2).unsqueeze(1), boxes2.narrow(1, 2, 2));
        var wh = (rb - lt).clamp_min(0);
        var inter = wh.select(2, 0) * wh.select(2, 1);
        var union = area1.unsqueeze(1) + area2 - inter;
        return (inter / union).MoveToOuterDisposeScope();
    }

    /// <summary>Clamps x to [0, width] and y to [0, height]; (..., 4) -> (..., 4).</summary>
    public static Tensor ClipToImage(Tensor boxes, long height, long width)
    {
        using var scope = NewDisposeScope();
        var x = boxes[TensorIndex.Ellipsis, TensorIndex.Slice(0, null, 2)].clamp(0, width);
        var y = boxes[TensorIndex.Ellipsis, TensorIndex.Slice(1, null, 2)].clamp(0, height);
        // interleave back to x1, y1, x2, y2
        return stack([x, y], boxes.dim()).reshape(boxes.shape).MoveToOuterDisposeScope();
    }

    /// <summary>Indices of boxes whose width and height are both >= minSize.</summary>
    public static Tensor RemoveSmall(Tensor boxes, double minSize)
    {
        using var scope = NewDisposeScope();
        var ws = boxes.select(1, 2) - boxes.select(1, 0);
        var hs = boxes.select(1, 3) - boxes.select(1, 1);
        var keep = (ws >= minSize).logical_and(hs >= minSize);
        return keep.nonzero().squeeze(1).MoveToOuterDisposeScope();
    }
}
