// Box regression encoding as torchvision.models.detection._utils.BoxCoder (R-CNN parameterisation:
// weighted centre offsets relative to size, log size ratios; dw/dh clamped at log(1000/16) on decode).
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection.Ops;

/// <summary>Encodes ground-truth boxes against reference boxes and decodes predicted deltas.</summary>
public sealed class BoxCoder
{
    public double Wx { get; }
    public double Wy { get; }
    public double Ww { get; }
    public double Wh { get; }
    public double BboxXformClip { get; }

    public BoxCoder(double wx, double wy, double ww, double wh, double? bboxXformClip = null)
    {
        Wx = wx; Wy = wy; Ww = ww; Wh = wh;
        BboxXformClip = bboxXformClip ?? Math.Log(1000.0 / 16);
    }

    /// <summary>Deltas (N, 4) of gt boxes (N, 4) relative to proposals (N, 4).</summary>
    public Tensor Encode(Tensor referenceBoxes, Tensor proposals)
    {
        using var scope = NewDisposeScope();
        var ex_w = proposals.select(1, 2) - proposals.select(1, 0);
        var ex_h = proposals.select(1, 3) - proposals.select(1, 1);
        var ex_x = proposals.select(1, 0) + 0.5 * ex_w;
        var ex_y = proposals.select(1, 1) + 0.5 * ex_h;
        var gt_w = referenceBoxes.select(1, 2) - referenceBoxes.select(1, 0);
        var gt_h = referenceBoxes.select(1, 3) - referenceBoxes.select(1, 1);
        var gt_x = referenceBoxes.select(1, 0) + 0.5 * gt_w;
        var gt_y = referenceBoxes.select(1, 1) + 0.5 * gt_h;
        var dx = Wx * (gt_x - ex_x) / ex_w;
        var dy = Wy * (gt_y - ex_y) / ex_h;
        var dw = Ww * log(gt_w / ex_w);
        var dh = Wh * log(gt_h / ex_h);
        return stack([dx, dy, dw, dh], 1).MoveToOuterDisposeScope();
    }

    /// <summary>Decodes (N, K*4) deltas against (N, 4) boxes into (N, K*4) boxes.</summary>
    public Tensor DecodeSingle(Tensor relCodes, Tensor boxes)
    {
        using var scope = NewDisposeScope();
        boxes = boxes.to(relCodes.dtype);
        var widths = boxes.select(1, 2) - boxes.select(1, 0);
        var heights = boxes.select(1, 3) - boxes.select(1, 1);
        var ctrX = boxes.select(1, 0) + 0.5 * widths;
        var ctrY = boxes.select(1, 1) + 0.5 * heights;
        var dx = relCodes[TensorIndex.Colon, TensorIndex.Slice(0, null, 4)] / Wx;
        var dy = relCodes[TensorIndex.Colon, TensorIndex.Slice(1, null, 4)] / Wy;
        var dw = (relCodes[TensorIndex.Colon, TensorIndex.Slice(2, null, 4)] / Ww).clamp_max(BboxXformClip);
        var dh = (relCodes[TensorIndex.Colon, TensorIndex.Slice(3, null, 4)] / Wh).clamp_max(BboxXformClip);
        var predCtrX = dx * widths.unsqueeze(1) + ctrX.unsqueeze(1);
        var predCtrY = dy * heights.unsqueeze(1) + ctrY.unsqueeze(1);
        var predW = exp(dw) * widths.unsqueeze(1);
        var predH = exp(dh) * heights.unsqueeze(1);
        // torchvision computes the half sizes as tensor(0.5) * size, same float rounding here.
        var cw = 0.5f * predW;
        var ch = 0.5f * predH;
        // (N, K) x4 -> (N, K, 4) -> (N, K*4)
        return stack([predCtrX - cw, predCtrY - ch, predCtrX + cw, predCtrY + ch], 2).flatten(1).MoveToOuterDisposeScope();
    }

    /// <summary>Decodes deltas (sum N_i, K*4) against per-image boxes; returns (sum N_i, K, 4).</summary>
    public Tensor Decode(Tensor relCodes, IReadOnlyList<Tensor> boxes)
    {
        using var scope = NewDisposeScope();
        var concat = cat(boxes.ToArray(), 0);
        long boxSum = concat.shape[0];
        var pred = DecodeSingle(relCodes.reshape(boxSum, -1), concat);
        return pred.reshape(boxSum, -1, 4).MoveToOuterDisposeScope();
    }
}
