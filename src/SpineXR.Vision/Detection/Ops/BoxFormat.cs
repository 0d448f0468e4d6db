using static TorchSharp.torch;

namespace SpineXR.Vision.Detection.Ops;

/// <summary>Conversions between xyxy corners and (cx, cy, w, h) centre form on (..., 4) tensors.</summary>
public static class BoxFormat
{
    /// <summary>(cx, cy, w, h) -> (x1, y1, x2, y2).</summary>
    public static Tensor CxcywhToXyxy(Tensor boxes)
    {
        using var scope = NewDisposeScope();
        var cx = boxes.select(-1, 0);
        var cy = boxes.select(-1, 1);
        var hw = 0.5f * boxes.select(-1, 2);
        var hh = 0.5f * boxes.select(-1, 3);
        return stack([cx - hw, cy - hh, cx + hw, cy + hh], -1).MoveToOuterDisposeScope();
    }

    /// <summary>(x1, y1, x2, y2) -> (cx, cy, w, h).</summary>
    public static Tensor XyxyToCxcywh(Tensor boxes)
    {
        using var scope = NewDisposeScope();
        var x1 = boxes.select(-1, 0);
        var y1 = boxes.select(-1, 1);
        var x2 = boxes.select(-1, 2);
        var y2 = boxes.select(-1, 3);
        return stack([0.5f * (x1 + x2), 0.5f * (y1 + y2), x2 - x1, y2 - y1], -1).MoveToOuterDisposeScope();
    }
}
