// Box geometry with torchvision's conventions (xyxy, absolute pixels, no +1).
namespace SpineXR.Boxes;

/// <summary>IoU and related box geometry.</summary>
public static class BoxOps
{
    /// <summary>Intersection over union; 0 when the union is empty.</summary>
    public static float Iou(in BoxF a, in BoxF b)
    {
        float w = Math.Min(a.X2, b.X2) - Math.Max(a.X1, b.X1);
        float h = Math.Min(a.Y2, b.Y2) - Math.Max(a.Y1, b.Y1);
        if (w <= 0 || h <= 0) return 0;
        float inter = w * h;
        float union = a.Area + b.Area - inter;
        return union > 0 ? inter / union : 0;
    }

    /// <summary>Pairwise IoU matrix, row-major [a.Length, b.Length] (torchvision.ops.box_iou).</summary>
    public static float[] IouMatrix(ReadOnlySpan<BoxF> a, ReadOnlySpan<BoxF> b)
    {
        var m = new float[a.Length * b.Length];
        for (int i = 0; i < a.Length; i++)
            for (int j = 0; j < b.Length; j++) m[i * b.Length + j] = Iou(a[i], b[j]);
        return m;
    }

    /// <summary>Mirrors a box left-right inside an image of width <paramref name="width"/> (undoes a horizontal flip).</summary>
    public static BoxF FlipHorizontal(in BoxF b, float width) => new(width - b.X2, b.Y1, width - b.X1, b.Y2);
}
