using SpineXR.Dicom;
using SpineXR.Dicom.Imaging;
using SpineXR.Dicom.Rendering;

namespace SpineXR.Imaging;

/// <summary>
/// DICOM file to full-size grayscale pixels by the VinDr-SpineXR reference conversion (<see cref="GrayscaleRenderer"/>:
/// VOI LUT as pydicom's <c>apply_voi_lut</c>, MONOCHROME1 inverted, min-max to 0..255, or 0..65535 for 16 bits).
/// </summary>
public static class DicomImageDecoder
{
    /// <summary>Decodes the first frame and converts it; <see cref="DicomException"/> (message starting with the path) on a bad file.</summary>
    public static (byte[] Pixels, int Width, int Height) Decode8(string path, RenderOptions? options = null)
    {
        var file = DicomFile.Open(path);
        var frame = PixelDecoder.DecodeGray(file);
        return (GrayscaleRenderer.ToGray8(frame, file.Dataset, options), frame.Columns, frame.Rows);
    }

    /// <summary>As <see cref="Decode8"/>, scaled to 0..65535.</summary>
    public static (ushort[] Pixels, int Width, int Height) Decode16(string path, RenderOptions? options = null)
    {
        var file = DicomFile.Open(path);
        var frame = PixelDecoder.DecodeGray(file);
        return (GrayscaleRenderer.ToGray16(frame, file.Dataset, options), frame.Columns, frame.Rows);
    }
}
