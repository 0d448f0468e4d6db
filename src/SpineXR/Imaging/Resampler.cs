namespace SpineXR.Imaging;

/// <summary>
/// Separable image resampling: exact area averaging when shrinking (each output pixel is the mean of the source
/// area it covers, fractional pixels weighted; like OpenCV's INTER_AREA) and bilinear interpolation with
/// pixel-centre alignment when enlarging (OpenCV's INTER_LINEAR).
/// </summary>
public static class Resampler
{
    private readonly record struct Taps(int[] Start, int[] Count, float[] Weights, int MaxTaps);

    private static Taps Build(int src, int dst)
    {
        double scale = src / (double)dst;
        var start = new int[dst];
        var count = new int[dst];
        int maxTaps = scale >= 1 ? (int)Math.Ceiling(scale) + 2 : 2;
        var weights = new float[dst * maxTaps];
        for (int o = 0; o < dst; o++)
        {
            if (scale >= 1)
            {
                double a = o * scale, b = Math.Min(src, (o + 1) * scale);
                int i0 = (int)Math.Floor(a), i1 = Math.Min(src - 1, (int)Math.Ceiling(b) - 1);
                start[o] = i0;
                count[o] = i1 - i0 + 1;
                double total = 0;
                for (int i = i0; i <= i1; i++) total += Math.Min(b, i + 1) - Math.Max(a, i);
                for (int i = i0; i <= i1; i++) weights[o * maxTaps + i - i0] = (float)((Math.Min(b, i + 1) - Math.Max(a, i)) / total);
            }
            else
            {
                double c = (o + 0.5) * scale - 0.5;
                int i0 = (int)Math.Floor(c);
                float t = (float)(c - i0);
                if (i0 < 0) { i0 = 0; t = 0; }
                if (i0 >= src - 1) { i0 = src - 1; t = 0; }
                start[o] = i0;
                count[o] = t == 0 ? 1 : 2;
                weights[o * maxTaps] = 1 - t;
                weights[o * maxTaps + 1] = t;
            }
        }
        return new Taps(start, count, weights, maxTaps);
    }

    /// <summary>Resizes 8-bit pixels (<paramref name="src"/>, w x h) into <paramref name="dst"/> (dw x dh, row stride <paramref name="dstStride"/>).</summary>
    public static void Resize(ReadOnlySpan<byte> src, int w, int h, Span<byte> dst, int dw, int dh, int dstStride)
    {
        var tmp = Horizontal(src, w, h, dw);
        Vertical(tmp, h, dw, dh, out float[] outF);
        for (int y = 0; y < dh; y++)
        {
            var row = dst.Slice(y * dstStride, dw);
            var f = outF.AsSpan(y * dw, dw);
            for (int x = 0; x < dw; x++) row[x] = (byte)Math.Clamp((int)(f[x] + 0.5f), 0, 255);
        }
    }

    /// <summary>Resizes 16-bit pixels.</summary>
    public static void Resize(ReadOnlySpan<ushort> src, int w, int h, Span<ushort> dst, int dw, int dh, int dstStride)
    {
        var tmp = Horizontal(src, w, h, dw);
        Vertical(tmp, h, dw, dh, out float[] outF);
        for (int y = 0; y < dh; y++)
        {
            var row = dst.Slice(y * dstStride, dw);
            var f = outF.AsSpan(y * dw, dw);
            for (int x = 0; x < dw; x++) row[x] = (ushort)Math.Clamp((int)(f[x] + 0.5f), 0, 65535);
        }
    }

    private static float[] Horizontal<T>(ReadOnlySpan<T> src, int w, int h, int dw) where T : unmanaged, IConvertible
    {
        var taps = Build(w, dw);
        var tmp = new float[h * dw];
        var rowF = new float[w];
        for (int y = 0; y < h; y++)
        {
            var s = src.Slice(y * w, w);
            if (typeof(T) == typeof(byte)) { var b = System.Runtime.InteropServices.MemoryMarshal.Cast<T, byte>(s); for (int x = 0; x < w; x++) rowF[x] = b[x]; }
            else { var u = System.Runtime.InteropServices.MemoryMarshal.Cast<T, ushort>(s); for (int x = 0; x < w; x++) rowF[x] = u[x]; }
            var d = tmp.AsSpan(y * dw, dw);
            for (int o = 0; o < dw; o++)
            {
                int st = taps.Start[o], n = taps.Count[o], wo = o * taps.MaxTaps;
                float acc = 0;
                for (int k = 0; k < n; k++) acc += rowF[st + k] * taps.Weights[wo + k];
                d[o] = acc;
            }
        }
        return tmp;
    }

    /// <summary>d += s * w, vectorised.</summary>
    private static void MultiplyAdd(Span<float> d, ReadOnlySpan<float> s, float w)
    {
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var vw = new System.Numerics.Vector<float>(w);
            int n = System.Numerics.Vector<float>.Count;
            for (; i <= d.Length - n; i += n)
                (new System.Numerics.Vector<float>(d.Slice(i)) + new System.Numerics.Vector<float>(s.Slice(i)) * vw).CopyTo(d.Slice(i));
        }
        for (; i < d.Length; i++) d[i] += s[i] * w;
    }

    private static void Vertical(float[] tmp, int h, int dw, int dh, out float[] result)
    {
        var taps = Build(h, dh);
        result = new float[dh * dw];
        for (int o = 0; o < dh; o++)
        {
            var d = result.AsSpan(o * dw, dw);
            int st = taps.Start[o], n = taps.Count[o], wo = o * taps.MaxTaps;
            for (int k = 0; k < n; k++)
            {
                float wk = taps.Weights[wo + k];
                MultiplyAdd(d, tmp.AsSpan((st + k) * dw, dw), wk);
            }
        }
    }
}
