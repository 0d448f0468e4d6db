// Generalized IoU (Rezatofighi et al., CVPR 2019), as DETR's / Sparse R-CNN's util/box_ops.py computes it.
namespace SpineXR.Boxes;

/// <summary>Generalized intersection over union of xyxy boxes: IoU - (enclosing - union) / enclosing, in [-1, 1].</summary>
public static class GeneralizedIou
{
    /// <summary>GIoU of two boxes. Boxes need x2 &gt;= x1 and y2 &gt;= y1; undefined (NaN) when the enclosing box has no area, as the reference.</summary>
    public static double Compute(BoxF a, BoxF b)
    {
        double areaA = (double)(a.X2 - a.X1) * (a.Y2 - a.Y1);
        double areaB = (double)(b.X2 - b.X1) * (b.Y2 - b.Y1);
        double iw = Math.Max(0.0, (double)Math.Min(a.X2, b.X2) - Math.Max(a.X1, b.X1));
        double ih = Math.Max(0.0, (double)Math.Min(a.Y2, b.Y2) - Math.Max(a.Y1, b.Y1));
        double inter = iw * ih;
        double union = areaA + areaB - inter;
        double ew = (double)Math.Max(a.X2, b.X2) - Math.Min(a.X1, b.X1);
        double eh = (double)Math.Max(a.Y2, b.Y2) - Math.Min(a.Y1, b.Y1);
        double enclosing = ew * eh;
        return inter / union - (enclosing - union) / enclosing;
    }

    /// <summary>Pairwise GIoU: <paramref name="result"/>[i * b.Length + j] = GIoU(a[i], b[j]).</summary>
    public static void Pairwise(ReadOnlySpan<BoxF> a, ReadOnlySpan<BoxF> b, Span<double> result)
    {
        if (result.Length != a.Length * b.Length)
            throw new ArgumentException($"result has {result.Length} entries, expected {a.Length} x {b.Length}", nameof(result));
        for (int i = 0; i < a.Length; i++)
            for (int j = 0; j < b.Length; j++)
                result[i * b.Length + j] = Compute(a[i], b[j]);
    }
}
