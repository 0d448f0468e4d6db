using SpineXR.Dicom;
using SpineXR.Dicom.Imaging;

namespace SpineXR.Imaging;

/// <summary>
/// DICOM file to full-size grayscale pixels by the reference conversion of VinDr-SpineXR: VOI LUT (window as
/// pydicom's <c>apply_voi_lut</c>), MONOCHROME1 inverted, min-max scaled to 0..255 (or 0..65535 for 16 bits).
/// </summary>
public static class DicomImageDecoder
{
    /// <summary>Decodes and converts; <see cref="DicomException"/> (message starting with the path) on a bad file.</summary>
    public static (byte[] Pixels, int Width, int Height) Decode8(string path)
    {
        var file = DicomFile.Open(path);
        var frame = PixelDecoder.DecodeGray(file);
        var v = Reference(frame, file.Dataset);
        var px = new byte[v.Length];
        for (int i = 0; i < v.Length; i++) px[i] = (byte)(v[i] * 255);
        return (px, frame.Columns, frame.Rows);
    }

    /// <summary>As <see cref="Decode8"/>, scaled to 0..65535.</summary>
    public static (ushort[] Pixels, int Width, int Height) Decode16(string path)
    {
        var file = DicomFile.Open(path);
        var frame = PixelDecoder.DecodeGray(file);
        var v = Reference(frame, file.Dataset);
        var px = new ushort[v.Length];
        for (int i = 0; i < v.Length; i++) px[i] = (ushort)(v[i] * 65535 + 0.5);
        return (px, frame.Columns, frame.Rows);
    }

    /// <summary>Window (if present), invert MONOCHROME1, min-max to [0, 1].</summary>
    private static double[] Reference(StoredFrame frame, DicomDataset ds)
    {
        var src = frame.Values;
        var v = new double[src.Length];
        double slope = ds.GetDoubleOrDefault(DicomTags.RescaleSlope, 1), intercept = ds.GetDoubleOrDefault(DicomTags.RescaleIntercept, 0);
        bool window = ds.TryGetDouble(DicomTags.WindowCenter, out double c) & ds.TryGetDouble(DicomTags.WindowWidth, out double w) && w >= 1;
        double yMax = frame.Signed ? (1 << (frame.BitsStored - 1)) - 1 : (1 << frame.BitsStored) - 1, yMin = frame.Signed ? -(1 << (frame.BitsStored - 1)) : 0;
        for (int i = 0; i < src.Length; i++)
        {
            double x = src[i];
            if (window)
            {
                x = x * slope + intercept;
                double lo = c - 0.5 - (w - 1) / 2, hi = c - 0.5 + (w - 1) / 2;
                x = x <= lo ? yMin : x > hi ? yMax : ((x - (c - 0.5)) / (w - 1) + 0.5) * (yMax - yMin) + yMin;
            }
            v[i] = x;
        }
        if (frame.Photometric == "MONOCHROME1")
        {
            double max = v.Max();
            for (int i = 0; i < v.Length; i++) v[i] = max - v[i];
        }
        double mn = v.Min(), mx = v.Max(), range = mx - mn;
        for (int i = 0; i < v.Length; i++) v[i] = range > 0 ? (v[i] - mn) / range : 0;
        return v;
    }
}
