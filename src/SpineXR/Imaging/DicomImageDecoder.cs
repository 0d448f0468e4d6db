using SpineXR.Dicom;
using SpineXR.Dicom.Imaging;
using SpineXR.Dicom.Rendering;

namespace SpineXR.Imaging;

/// <summary>
/// DICOM file to full-size grayscale pixels by the reference conversion of VinDr-SpineXR: VOI LUT (as pydicom's
/// <c>apply_voi_lut</c>), MONOCHROME1 inverted, min-max scaled to 0..255 (or 0..65535 for 16 bits).
/// One implementation of that conversion exists: <see cref="GrayscaleRenderer"/>; this is the file-level shortcut.
/// </summary>
public static class DicomImageDecoder
{
    /// <summary>Decodes and converts; <see cref="DicomException"/> (message starting with the path) on a bad file.</summary>
    public static (byte[] Pixels, int Width, int Height) Decode8(string path)
    {
        var file = DicomFile.Open(path);
        var frame = PixelDecoder.DecodeGray(file);
        return (GrayscaleRenderer.ToGray8(frame, file.Dataset), frame.Columns, frame.Rows);
    }

    /// <summary>As <see cref="Decode8"/>, scaled to 0..65535.</summary>
    public static (ushort[] Pixels, int Width, int Height) Decode16(string path)
    {
        var file = DicomFile.Open(path);
        var frame = PixelDecoder.DecodeGray(file);
        return (GrayscaleRenderer.ToGray16(frame, file.Dataset), frame.Columns, frame.Rows);
    }
}
