using System.Numerics;
using System.Runtime.InteropServices;

namespace SpineXR.Dicom.Imaging;

/// <summary>SIMD helpers for pixel loops.</summary>
public static class PixelMath
{
    /// <summary>Smallest and largest value; (0, 0) for an empty span.</summary>
    public static (int Min, int Max) MinMax(ReadOnlySpan<int> values)
    {
        if (values.IsEmpty) return (0, 0);
        int i = 0;
        int min = int.MaxValue, max = int.MinValue;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<int>.Count * 2)
        {
            var vs = MemoryMarshal.Cast<int, Vector<int>>(values);
            Vector<int> vmin = vs[0], vmax = vs[0];
            for (int k = 1; k < vs.Length; k++)
            {
                vmin = Vector.Min(vmin, vs[k]);
                vmax = Vector.Max(vmax, vs[k]);
            }
            for (int k = 0; k < Vector<int>.Count; k++)
            {
                min = Math.Min(min, vmin[k]);
                max = Math.Max(max, vmax[k]);
            }
            i = vs.Length * Vector<int>.Count;
        }
        for (; i < values.Length; i++)
        {
            if (values[i] < min) min = values[i];
            if (values[i] > max) max = values[i];
        }
        return (min, max);
    }

    /// <summary>Smallest and largest value; (0, 0) for an empty span. NaN is ignored.</summary>
    public static (double Min, double Max) MinMax(ReadOnlySpan<double> values)
    {
        if (values.IsEmpty) return (0, 0);
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (double v in values)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return (min, max);
    }
}
