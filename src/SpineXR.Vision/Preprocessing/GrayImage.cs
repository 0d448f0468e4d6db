namespace SpineXR.Vision.Preprocessing;

/// <summary>An 8-bit greyscale image, row-major (the reference DICOM conversion's output: VOI LUT, MONOCHROME1 inverted, min-max to 0..255).</summary>
public sealed record GrayImage(int Width, int Height, byte[] Pixels)
{
    public GrayImage Validate() =>
        Width > 0 && Height > 0 && Pixels.Length == (long)Width * Height ? this
            : throw new ArgumentException($"{Width}x{Height} image with {Pixels.Length} pixels");
}
