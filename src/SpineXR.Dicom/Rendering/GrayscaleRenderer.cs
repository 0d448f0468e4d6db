// The VinDr-SpineXR reference conversion, in C#:
//     data = apply_voi_lut(ds.pixel_array, ds)                  # pydicom 2.3, defaults
//     if ds.PhotometricInterpretation == "MONOCHROME1": data = np.amax(data) - data
//     data = data - np.min(data); data = data / np.max(data); data = (data * 255).astype(np.uint8)
// evaluated with the same float64 operations in the same order, so results agree to the bit (every step is
// element-wise, so there is no summation order to differ).
// Speed: the transform is computed once per distinct stored value (a lookup table over the stored range), then one
// pass maps the pixels. 16-bit grayscale frames are read straight from their native samples (no int[] copy);
// wide ranges (32-bit data) fall back to evaluating per pixel.
using System.Runtime.InteropServices;
using SpineXR.Dicom.Imaging;

namespace SpineXR.Dicom.Rendering;

/// <summary>Stored grayscale values to 8- or 16-bit display values (pure functions).</summary>
public static class GrayscaleRenderer
{
    /// <summary>Widest stored-value range handled with a lookup table.</summary>
    private const long MaxLutRange = 1 << 22;

    public static byte[] ToGray8(StoredFrame frame, DicomDataset ds, RenderOptions? options = null) => ToGray8(frame, ds, options, out _);

    public static byte[] ToGray8(StoredFrame frame, DicomDataset ds, RenderOptions? options, out RenderInfo info)
    {
        var output = new byte[frame.Values.Length];
        RenderInts(frame, ds, options ?? RenderOptions.Reference, new Output(255, output, null), out info);
        return output;
    }

    public static ushort[] ToGray16(StoredFrame frame, DicomDataset ds, RenderOptions? options = null) => ToGray16(frame, ds, options, out _);

    public static ushort[] ToGray16(StoredFrame frame, DicomDataset ds, RenderOptions? options, out RenderInfo info)
    {
        var output = new ushort[frame.Values.Length];
        RenderInts(frame, ds, options ?? RenderOptions.Reference, new Output(65535, null, output), out info);
        return output;
    }

    /// <summary>
    /// Renders frame <paramref name="frame"/> of <paramref name="pixels"/> to 8 bits, the same result as decoding with
    /// <see cref="PixelDecoder"/> then <see cref="ToGray8(StoredFrame, DicomDataset, RenderOptions?, out RenderInfo)"/>,
    /// but 16-bit grayscale frames skip the intermediate int[] (half the memory, one pass less).
    /// </summary>
    public static byte[] ToGray8(DicomPixelData pixels, DicomDataset ds, int frame, RenderOptions? options, out RenderInfo info)
    {
        var output = GC.AllocateUninitializedArray<byte>(pixels.Format.Rows * pixels.Format.Columns); // every pixel is written
        RenderPixels(pixels, frame, ds, options ?? RenderOptions.Reference, new Output(255, output, null), out info);
        return output;
    }

    /// <summary>
    /// As <see cref="ToGray8(DicomPixelData, DicomDataset, int, RenderOptions?, out RenderInfo)"/> into a caller-owned
    /// (e.g. pooled) array of at least Rows x Columns bytes.
    /// </summary>
    public static void ToGray8(DicomPixelData pixels, DicomDataset ds, int frame, RenderOptions? options, byte[] destination, out RenderInfo info)
    {
        if (destination.Length < (long)pixels.Format.Rows * pixels.Format.Columns)
            throw new ArgumentException($"needs {pixels.Format.Rows}x{pixels.Format.Columns} bytes", nameof(destination));
        RenderPixels(pixels, frame, ds, options ?? RenderOptions.Reference, new Output(255, destination, null), out info);
    }

    /// <summary>16-bit counterpart of <see cref="ToGray8(DicomPixelData, DicomDataset, int, RenderOptions?, out RenderInfo)"/>.</summary>
    public static ushort[] ToGray16(DicomPixelData pixels, DicomDataset ds, int frame, RenderOptions? options, out RenderInfo info)
    {
        var output = GC.AllocateUninitializedArray<ushort>(pixels.Format.Rows * pixels.Format.Columns);
        RenderPixels(pixels, frame, ds, options ?? RenderOptions.Reference, new Output(65535, null, output), out info);
        return output;
    }

    /// <summary>The VOI transform the options select for this dataset (identity when none, or on error with fallback).</summary>
    public static VoiFunction SelectVoi(DicomDataset ds, RenderOptions options, List<string> warnings)
    {
        if (options.Voi == VoiMode.None) return VoiFunction.Identity;
        try { return VoiFunction.FromDataset(ds, options.VoiIndex, options.PreferVoiLut); }
        catch (DicomException e) when (options.FallbackOnVoiError)
        {
            warnings.Add("VOI not applied: " + e.Message);
            return VoiFunction.Identity;
        }
    }

    private readonly record struct Output(double Scale, byte[]? Out8, ushort[]? Out16);

    /// <summary>Everything about the transform except the pixels: VOI, modality, inversion, padding.</summary>
    private sealed class Plan
    {
        public required VoiFunction Voi;
        public required ModalityLut Modality;
        public required bool Invert;
        public int PadLo = 1, PadHi;
        public required List<string> Warnings;

        public bool IsPad(int v) => v >= PadLo && v <= PadHi;
        public double Transform(int v) => Voi.Apply(Modality.Apply(v));
    }

    private static Plan MakePlan(DicomDataset ds, RenderOptions options, string photometric, int bitsStored, bool signed, IEnumerable<string> warnings)
    {
        options.Validate();
        var w = new List<string>(warnings);
        var plan = new Plan
        {
            Voi = SelectVoi(ds, options, w),
            Modality = options.ApplyModalityLut ? ModalityLut.FromDataset(ds) : ModalityLut.Identity,
            Invert = options.InvertMonochrome1 && photometric == "MONOCHROME1",
            Warnings = w,
        };
        if (options.ExcludePixelPadding && ds.TryGetInt(DicomTags.PixelPaddingValue, out int pad))
        {
            pad = AsStored(pad, bitsStored, signed);
            int limit = ds.TryGetInt(DicomTags.PixelPaddingRangeLimit, out int l) ? AsStored(l, bitsStored, signed) : pad;
            (plan.PadLo, plan.PadHi) = (Math.Min(pad, limit), Math.Max(pad, limit));
        }
        return plan;
    }

    private static void RenderPixels(DicomPixelData pixels, int frame, DicomDataset ds, RenderOptions options, Output output, out RenderInfo info)
    {
        var f = pixels.Format;
        if (f.SamplesPerPixel != 1 || f.BitsAllocated != 16)
        {
            RenderInts(PixelDecoder.DecodeGray(pixels, frame), ds, options, output, out info);
            return;
        }
        if (frame < 0 || frame >= pixels.FrameCount) throw new DicomException($"frame {frame} requested, the file has {pixels.FrameCount}");
        var warnings = new List<string>();
        ReadOnlyMemory<byte> raw = pixels.IsEncapsulated ? pixels.DecodeFrame(frame).Data : pixels.GetRawFrame(frame);
        int n = f.Rows * f.Columns;
        if (raw.Length < 2L * n) throw new DicomException($"frame {frame} holds {raw.Length} bytes, {2L * n} needed");
        var samples = MemoryMarshal.Cast<byte, ushort>(raw.Span)[..n];
        string photometric = f.Photometric;
        if (photometric is not ("MONOCHROME1" or "MONOCHROME2"))
        {
            warnings.Add($"photometric interpretation {photometric} with one sample read as MONOCHROME2");
            photometric = "MONOCHROME2";
        }
        bool signed = f.PixelRepresentation == 1;
        var plan = MakePlan(ds, options, photometric, f.BitsStored, signed, warnings);

        // Stored values are masked to Bits Stored and sign-extended on the fly; presence over the whole stored range.
        int bits = f.BitsStored, shift = 32 - bits;
        ushort mask = (ushort)((1 << bits) - 1);
        int sMin = signed ? -(1 << (bits - 1)) : 0;
        var present = new bool[1 << bits];
        if (!signed) foreach (ushort s in samples) present[s & mask] = true;
        else foreach (ushort s in samples) present[((int)((uint)(s & mask) << shift) >> shift) - sMin] = true;

        var lut = BuildLut(plan, sMin, present, output.Scale, out double tMin, out double tMax);
        if (output.Out8 != null)
        {
            var lut8 = ToBytes(lut);
            var o = output.Out8;
            if (!signed) for (int i = 0; i < n; i++) o[i] = lut8[samples[i] & mask];
            else for (int i = 0; i < n; i++) o[i] = lut8[((int)((uint)(samples[i] & mask) << shift) >> shift) - sMin];
        }
        else
        {
            var lut16 = ToUShorts(lut);
            var o = output.Out16!;
            if (!signed) for (int i = 0; i < n; i++) o[i] = lut16[samples[i] & mask];
            else for (int i = 0; i < n; i++) o[i] = lut16[((int)((uint)(samples[i] & mask) << shift) >> shift) - sMin];
        }
        info = new RenderInfo(plan.Voi.ToString(), plan.Invert, tMin, tMax, plan.Warnings);
    }

    private static void RenderInts(StoredFrame frame, DicomDataset ds, RenderOptions options, Output output, out RenderInfo info)
    {
        var plan = MakePlan(ds, options, frame.Photometric, frame.BitsStored, frame.Signed, frame.Warnings);
        var values = frame.Values;
        var (sMin, sMax) = PixelMath.MinMax(values);
        long range = (long)sMax - sMin + 1;
        double tMin, tMax;
        if (range <= MaxLutRange)
        {
            var present = new bool[range];
            foreach (int v in values) present[v - sMin] = true;
            var lut = BuildLut(plan, sMin, present, output.Scale, out tMin, out tMax);
            if (output.Out8 != null)
            {
                var lut8 = ToBytes(lut);
                for (int i = 0; i < values.Length; i++) output.Out8[i] = lut8[values[i] - sMin];
            }
            else
            {
                var lut16 = ToUShorts(lut);
                for (int i = 0; i < values.Length; i++) output.Out16![i] = lut16[values[i] - sMin];
            }
        }
        else
        {
            tMin = double.PositiveInfinity;
            tMax = double.NegativeInfinity;
            foreach (int v in values)
            {
                if (plan.IsPad(v)) continue;
                double t = plan.Transform(v);
                if (t < tMin) tMin = t;
                if (t > tMax) tMax = t;
            }
            if (double.IsInfinity(tMin)) (tMin, tMax) = (0, 0);
            var scaler = new Scaler(plan.Invert, tMin, tMax, output.Scale);
            for (int i = 0; i < values.Length; i++)
            {
                int v = values[i];
                double o = plan.IsPad(v) ? 0 : scaler.Out(plan.Transform(v));
                if (output.Out8 != null) output.Out8[i] = (byte)o; else output.Out16![i] = (ushort)o;
            }
        }
        info = new RenderInfo(plan.Voi.ToString(), plan.Invert, tMin, tMax, plan.Warnings);
    }

    /// <summary>
    /// Output value for every present stored value <c>sMin + u</c>: the transform, then the reference's min-max over the
    /// present (non-padding) values. Absent entries stay 0.
    /// </summary>
    private static double[] BuildLut(Plan plan, int sMin, bool[] present, double scale, out double tMin, out double tMax)
    {
        var table = new double[present.Length];
        tMin = double.PositiveInfinity;
        tMax = double.NegativeInfinity;
        for (int u = 0; u < present.Length; u++)
        {
            if (!present[u]) continue;
            int v = u + sMin;
            double t = plan.Transform(v);
            table[u] = t;
            if (plan.IsPad(v)) continue;
            if (t < tMin) tMin = t;
            if (t > tMax) tMax = t;
        }
        if (double.IsInfinity(tMin)) (tMin, tMax) = (0, 0); // every pixel is padding
        var scaler = new Scaler(plan.Invert, tMin, tMax, scale);
        for (int u = 0; u < present.Length; u++)
            table[u] = present[u] && !plan.IsPad(u + sMin) ? scaler.Out(table[u]) : 0;
        return table;
    }

    /// <summary>The reference's float64 steps: y = M - t (MONOCHROME1); z = y - min(y); out = trunc(z / max(z) * scale).</summary>
    private readonly struct Scaler(bool invert, double tMin, double tMax, double scale)
    {
        private double Y(double t) => invert ? tMax - t : t;
        private double YMin => Y(invert ? tMax : tMin);
        private double ZMax => Y(invert ? tMin : tMax) - YMin;

        public double Out(double t)
        {
            double zMax = ZMax;
            if (zMax == 0) return 0; // constant image: numpy gives NaN, cast to 0
            double z = (Y(t) - YMin) / zMax * scale;
            return z < 0 ? 0 : z > scale ? scale : Math.Truncate(z);
        }
    }

    private static byte[] ToBytes(double[] lut)
    {
        var r = new byte[lut.Length];
        for (int i = 0; i < lut.Length; i++) r[i] = (byte)lut[i];
        return r;
    }

    private static ushort[] ToUShorts(double[] lut)
    {
        var r = new ushort[lut.Length];
        for (int i = 0; i < lut.Length; i++) r[i] = (ushort)lut[i];
        return r;
    }

    /// <summary>Padding values in a US element of a signed image are two's complement.</summary>
    private static int AsStored(int v, int bitsStored, bool signed) =>
        signed && bitsStored < 32 && v > (1 << (bitsStored - 1)) - 1 ? v - (1 << bitsStored) : v;
}
