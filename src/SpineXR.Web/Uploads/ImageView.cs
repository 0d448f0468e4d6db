using System.Numerics;
using System.Runtime.InteropServices;

namespace SpineXR.Web.Uploads;

/// <summary>
/// What the viewer shows of an upload, kept with its result: modality values downsampled to at most
/// <c>maxSide</c> and quantised to 16 bits (value = <see cref="Intercept"/> + <see cref="Slope"/> * raw), the
/// default window, and the reference 8-bit conversion (what the models saw) at the same size.
/// The browser windows the 16-bit values itself, so dragging window/level costs no round trip.
/// </summary>
public sealed class ImageView
{
    public required int Width { get; init; }
    public required int Height { get; init; }
    public required int OriginalWidth { get; init; }
    public required int OriginalHeight { get; init; }
    /// <summary>Row-major display values, Width x Height.</summary>
    public required ushort[] Raw { get; init; }
    public required double Slope { get; init; }
    public required double Intercept { get; init; }
    /// <summary>Default window in modality units (DICOM Window Center/Width when present, else the full range).</summary>
    public required double WindowCenter { get; init; }
    public required double WindowWidth { get; init; }
    /// <summary>True for MONOCHROME1: high values are dark.</summary>
    public required bool Invert { get; init; }
    /// <summary>Reference 8-bit conversion, Width x Height (inversion already applied).</summary>
    public required byte[] Gray8 { get; init; }

    /// <summary>Bytes held, for the result cache's budget.</summary>
    public long Bytes => Raw.LongLength * 2 + Gray8.LongLength;

    /// <summary>Width and height of the view of a <paramref name="width"/> x <paramref name="height"/> image.</summary>
    public static (int Width, int Height) ViewSize(int width, int height, int maxSide)
    {
        int f = BlockSize(width, height, maxSide);
        return ((width + f - 1) / f, (height + f - 1) / f);
    }

    // Integer block size: every view pixel averages whole source pixels, no resampling filter needed.
    private static int BlockSize(int width, int height, int maxSide) => Math.Max(1, (Math.Max(width, height) + maxSide - 1) / maxSide);

    /// <summary>Box coordinates in original pixels times this give view pixels.</summary>
    public double Scale => Width / (double)OriginalWidth;

    /// <summary>
    /// Builds the view from decoded modality values (stored * slope + intercept) and the 8-bit image, both
    /// <paramref name="width"/> x <paramref name="height"/>: the full size, or a JPEG 2000 wavelet level of an image
    /// whose full size is <paramref name="originalWidth"/> x <paramref name="originalHeight"/> (0: the same), the
    /// size boxes are given in.
    /// </summary>
    public static ImageView Create<T>(ReadOnlySpan<T> stored, ReadOnlySpan<byte> gray8, int width, int height, int maxSide,
        double rescaleSlope = 1, double rescaleIntercept = 0, double? windowCenter = null, double? windowWidth = null, bool invert = false,
        int originalWidth = 0, int originalHeight = 0)
        where T : unmanaged, INumberBase<T>
    {
        if (width <= 0 || height <= 0 || stored.Length < (long)width * height || gray8.Length < (long)width * height)
            throw new ArgumentException($"buffers do not hold {width}x{height} pixels");
        int f = BlockSize(width, height, maxSide);
        var means = AreaMean(stored, width, height, f, out int vw, out int vh);

        double lo = double.MaxValue, hi = double.MinValue;
        for (int i = 0; i < means.Length; i++)
        {
            double v = means[i] * rescaleSlope + rescaleIntercept;
            means[i] = v;
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        // Integer data within 16 bits keeps unit steps; wider or fractional ranges spread over 0..65535.
        double q = hi - lo <= 65535 ? 1 : (hi - lo) / 65535;
        var raw = new ushort[means.Length];
        for (int i = 0; i < means.Length; i++)
            raw[i] = (ushort)Math.Clamp(Math.Round((means[i] - lo) / q), 0, 65535);

        var g = AreaMean(gray8, width, height, f, out _, out _);
        var g8 = new byte[g.Length];
        for (int i = 0; i < g.Length; i++) g8[i] = (byte)Math.Clamp(Math.Round(g[i]), 0, 255);

        bool hasWindow = windowCenter is { } c && windowWidth is { } w && double.IsFinite(c) && double.IsFinite(w) && w >= 1;
        return new ImageView
        {
            Width = vw, Height = vh, OriginalWidth = originalWidth > 0 ? originalWidth : width, OriginalHeight = originalHeight > 0 ? originalHeight : height,
            Raw = raw, Slope = q, Intercept = lo,
            WindowCenter = hasWindow ? windowCenter!.Value : (lo + hi) / 2,
            WindowWidth = hasWindow ? windowWidth!.Value : Math.Max(1, hi - lo),
            Invert = invert, Gray8 = g8,
        };
    }

    /// <summary>Mean of each f x f block (partial blocks at the right and bottom edges averaged over what exists).</summary>
    internal static double[] AreaMean<T>(ReadOnlySpan<T> src, int width, int height, int f, out int outW, out int outH)
        where T : unmanaged, INumberBase<T>
    {
        outW = (width + f - 1) / f;
        outH = (height + f - 1) / f;
        var dst = new double[outW * outH];
        // Sum the block's rows column by column first (independent adds, SIMD for int samples), then each f-wide
        // run of that row. Integer samples are summed as integers when f of them cannot overflow an int.
        bool ints = typeof(T) == typeof(byte) || typeof(T) == typeof(ushort) || typeof(T) == typeof(short)
                    || (typeof(T) == typeof(int) && FitsColumnSums(MemoryMarshal.Cast<T, int>(src), f));
        var icols = ints ? new int[width] : null;
        var dcols = ints ? null : new double[width];
        for (int oy = 0; oy < outH; oy++)
        {
            int y0 = oy * f, y1 = Math.Min(height, y0 + f);
            if (ints) icols.AsSpan().Clear(); else dcols.AsSpan().Clear();
            for (int y = y0; y < y1; y++)
            {
                var row = src.Slice(y * width, width);
                if (ints) AddRow(row, icols);
                else for (int x = 0; x < row.Length; x++) dcols![x] += ToDouble(row[x]);
            }
            var acc = dst.AsSpan(oy * outW, outW);
            int rows = y1 - y0, full = width / f;
            double inv = 1.0 / (rows * f);
            for (int ox = 0, x = 0; ox < full; ox++)
            {
                double s = 0;
                if (ints) { long l = 0; for (int k = 0; k < f; k++, x++) l += icols![x]; s = l; }
                else for (int k = 0; k < f; k++, x++) s += dcols![x];
                acc[ox] = s * inv;
            }
            if (full < outW)
            {
                double s = 0;
                for (int x = full * f; x < width; x++) s += ints ? icols![x] : dcols![x];
                acc[full] = s / (rows * (width - full * f));
            }
        }
        return dst;
    }

    private static void AddRow<T>(ReadOnlySpan<T> row, Span<int> cols) where T : unmanaged, INumberBase<T>
    {
        int x = 0;
        if (typeof(T) == typeof(int))
        {
            var r = MemoryMarshal.Cast<T, int>(row);
            if (Vector.IsHardwareAccelerated)
                for (; x <= r.Length - Vector<int>.Count; x += Vector<int>.Count)
                    (new Vector<int>(cols[x..]) + new Vector<int>(r[x..])).CopyTo(cols[x..]);
            for (; x < r.Length; x++) cols[x] += r[x];
        }
        else if (typeof(T) == typeof(byte))
        {
            var r = MemoryMarshal.Cast<T, byte>(row);
            cols = cols[..r.Length];
            for (; x < r.Length; x++) cols[x] += r[x];
        }
        else if (typeof(T) == typeof(ushort))
        {
            var r = MemoryMarshal.Cast<T, ushort>(row);
            cols = cols[..r.Length];
            for (; x < r.Length; x++) cols[x] += r[x];
        }
        else
        {
            var r = MemoryMarshal.Cast<T, short>(row);
            cols = cols[..r.Length];
            for (; x < r.Length; x++) cols[x] += r[x];
        }
    }

    /// <summary>True when f values of <paramref name="src"/> always sum within an int.</summary>
    private static bool FitsColumnSums(ReadOnlySpan<int> src, int f)
    {
        int lo = int.MaxValue, hi = int.MinValue, x = 0;
        if (Vector.IsHardwareAccelerated && src.Length >= Vector<int>.Count)
        {
            var vlo = new Vector<int>(int.MaxValue);
            var vhi = new Vector<int>(int.MinValue);
            for (; x <= src.Length - Vector<int>.Count; x += Vector<int>.Count)
            {
                var v = new Vector<int>(src[x..]);
                vlo = Vector.Min(vlo, v);
                vhi = Vector.Max(vhi, v);
            }
            for (int i = 0; i < Vector<int>.Count; i++) { lo = Math.Min(lo, vlo[i]); hi = Math.Max(hi, vhi[i]); }
        }
        for (; x < src.Length; x++) { lo = Math.Min(lo, src[x]); hi = Math.Max(hi, src[x]); }
        long m = Math.Max(Math.Abs((long)lo), Math.Abs((long)hi));
        return m * f < int.MaxValue;
    }

    // double.CreateTruncating<T> does not inline (a call per pixel, 5x slower); these typeof tests fold away per T.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static double ToDouble<T>(T v) where T : unmanaged, INumberBase<T>
    {
        if (typeof(T) == typeof(byte)) return (byte)(object)v;
        if (typeof(T) == typeof(ushort)) return (ushort)(object)v;
        if (typeof(T) == typeof(short)) return (short)(object)v;
        if (typeof(T) == typeof(int)) return (int)(object)v;
        if (typeof(T) == typeof(float)) return (float)(object)v;
        if (typeof(T) == typeof(double)) return (double)(object)v;
        return double.CreateTruncating(v);
    }
}
