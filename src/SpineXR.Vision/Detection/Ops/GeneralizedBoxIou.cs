// Generalized IoU on box tensors, as DETR's / Sparse R-CNN's util/box_ops.py (generalized_box_iou).
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection.Ops;

/// <summary>GIoU of xyxy box tensors: IoU - (enclosing - union) / enclosing; differentiable.</summary>
public static class GeneralizedBoxIou
{
    /// <summary>(N, 4) x (M, 4) -> (N, M).</summary>
    public static Tensor Pairwise(Tensor boxes1, Tensor boxes2)
    {
        using var scope = NewDisposeScope();
        // (N, 1, 4) against (1, M, 4) -> (N, M)
        return Elementwise(boxes1.unsqueeze(1), boxes2.unsqueeze(0)).MoveToOuterDisposeScope();
    }

    /// <summary>(..., 4) with (..., 4), broadcast -> (...): GIoU of corresponding boxes.</summary>
    public static Tensor Elementwise(Tensor boxes1, Tensor boxes2)
    {
        using var scope = NewDisposeScope();
        var (ax1, ay1, ax2, ay2) = Corners(boxes1);
        var (bx1, by1, bx2, by2) = Corners(boxes2);
        var area1 = (ax2 - ax1) * (ay2 - ay1);
        var area2 = (bx2 - bx1) * (by2 - by1);
        var iw = (minimum(ax2, bx2) - maximum(ax1, bx1)).clamp_min(0);
        var ih = (minimum(ay2, by2) - maximum(ay1, by1)).clamp_min(0);
        var inter = iw * ih;
        var union = area1 + area2 - inter;
        var ew = (maximum(ax2, bx2) - minimum(ax1, bx1)).clamp_min(0);
        var eh = (maximum(ay2, by2) - minimum(ay1, by1)).clamp_min(0);
        var enclosing = ew * eh;
        return (inter / union - (enclosing - union) / enclosing).MoveToOuterDisposeScope();
    }

    private static (Tensor, Tensor, Tensor, Tensor) Corners(Tensor b) =>
        (b.select(-1, 0), b.select(-1, 1), b.select(-1, 2), b.select(-1, 3));
}
