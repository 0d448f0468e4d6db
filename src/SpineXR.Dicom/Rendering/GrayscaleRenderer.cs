// The VinDr-SpineXR reference conversion, in C#:
//     data = apply_voi_lut(ds.pixel_array, ds)                  # pydicom 2.3, defaults
//     if ds.PhotometricInterpretation == "MONOCHROME1": data = np.amax(data) - data
//     data = data - np.min(data); data = data / np.max(data); data = (data * 255).astype(np.uint8)
// evaluated with the same float64 operations in the same order, so results agree to the bit except where
// numpy's float summation order could differ (it cannot here: every step is element-wise).
// Speed: the transform is computed once per distinct stored value (a lookup table over the stored range), then
// one pass maps the pixels; wide ranges (32-bit data) fall back to evaluating per pixel.
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
        Render(frame, ds, options ?? RenderOptions.Reference, 255, output, null, out info);
        return output;
    }

    public static ushort[] ToGray16(StoredFrame frame, DicomDataset ds, RenderOptions? options = null) => ToGray16(frame, ds, options, out _);

    public static ushort[] ToGray16(StoredFrame frame, DicomDataset ds, RenderOptions? options, out RenderInfo info)
    {
        var output = new ushort[frame.Values.Length];
        Render(frame, ds, options ?? RenderOptions.Reference, 65535, null, output, out info);
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

    private static void Render(StoredFrame frame, DicomDataset ds, RenderOptions options, double scale, byte[]? out8, ushort[]? out16, out RenderInfo info)
    {
        options.Validate();
        var warnings = new List<string>(frame.Warnings);
        var voi = SelectVoi(ds, options, warnings);
        var modality = options.ApplyModalityLut ? ModalityLut.FromDataset(ds) : ModalityLut.Identity;
        bool invert = options.InvertMonochrome1 && frame.Photometric == "MONOCHROME1";
        var values = frame.Values;

        // Pixel padding: stored values in [lo, hi] are left out of the range and painted black.
        int padLo = 1, padHi = 0;
        if (options.ExcludePixelPadding && ds.TryGetInt(DicomTags.PixelPaddingValue, out int pad))
        {
            pad = AsStored(pad, frame);
            int limit = ds.TryGetInt(DicomTags.PixelPaddingRangeLimit, out int l) ? AsStored(l, frame) : pad;
            (padLo, padHi) = (Math.Min(pad, limit), Math.Max(pad, limit));
        }
        bool IsPad(int v) => v >= padLo && v <= padHi;

        var (sMin, sMax) = PixelMath.MinMax(values);
        long range = (long)sMax - sMin + 1;
        double tMin = double.PositiveInfinity, tMax = double.NegativeInfinity;
        double[]? table = null;
        bool[]? present = null;
        if (range <= MaxLutRange)
        {
            present = new bool[range];
            foreach (int v in values) present[v - sMin] = true;
            table = new double[range];
            for (long u = 0; u < range; u++)
            {
                if (!present[u]) continue;
                int v = (int)(u + sMin);
                double t = voi.Apply(modality.Apply(v));
                table[u] = t;
                if (IsPad(v)) continue;
                if (t < tMin) tMin = t;
                if (t > tMax) tMax = t;
            }
        }
        else
        {
            foreach (int v in values)
            {
                if (IsPad(v)) continue;
                double t = voi.Apply(modality.Apply(v));
                if (t < tMin) tMin = t;
                if (t > tMax) tMax = t;
            }
        }
        if (double.IsInfinity(tMin)) { tMin = 0; tMax = 0; } // every pixel is padding

        // The reference's float64 steps: y = M - t (MONOCHROME1); z = y - min(y); out = trunc(z / max(z) * scale).
        double Y(double t) => invert ? tMax - t : t;
        double yMinOf = Y(invert ? tMax : tMin);
        double zMax = Y(invert ? tMin : tMax) - yMinOf;
        double Out(double t)
        {
            if (zMax == 0) return 0; // constant image: numpy gives NaN, cast to 0
            double z = (Y(t) - yMinOf) / zMax * scale;
            return z < 0 ? 0 : z > scale ? scale : Math.Truncate(z);
        }

        if (table != null)
        {
            // Replace the table by output values, then one pass over the pixels.
            if (out8 != null)
            {
                var lut = new byte[range];
                for (long u = 0; u < range; u++) if (present![u]) lut[u] = IsPad((int)(u + sMin)) ? (byte)0 : (byte)Out(table[u]);
                for (int i = 0; i < values.Length; i++) out8[i] = lut[values[i] - sMin];
            }
            else
            {
                var lut = new ushort[range];
                for (long u = 0; u < range; u++) if (present![u]) lut[u] = IsPad((int)(u + sMin)) ? (ushort)0 : (ushort)Out(table[u]);
                for (int i = 0; i < values.Length; i++) out16![i] = lut[values[i] - sMin];
            }
        }
        else
        {
            for (int i = 0; i < values.Length; i++)
            {
                int v = values[i];
                double o = IsPad(v) ? 0 : Out(voi.Apply(modality.Apply(v)));
                if (out8 != null) out8[i] = (byte)o; else out16![i] = (ushort)o;
            }
        }
        info = new RenderInfo(voi.ToString(), invert, tMin, tMax, warnings);
    }

    /// <summary>Padding values in a US element of a signed image are two's complement.</summary>
    private static int AsStored(int v, StoredFrame frame) =>
        frame.Signed && v > (1 << (frame.BitsStored - 1)) - 1 && frame.BitsStored < 32 ? v - (1 << frame.BitsStored) : v;
}
