namespace SpineXR.Dicom.Imaging;

/// <summary>
/// One grayscale frame as stored values: one int per pixel, row-major, masked to Bits Stored and sign-extended
/// when Pixel Representation is 1. Colour frames arrive here converted to luminance (with a warning).
/// </summary>
/// <param name="Rows">Image height.</param>
/// <param name="Columns">Image width.</param>
/// <param name="Values">Rows x Columns stored values.</param>
/// <param name="BitsStored">Significant bits of each value.</param>
/// <param name="Signed">True for two's complement values (Pixel Representation 1).</param>
/// <param name="Photometric">MONOCHROME1 or MONOCHROME2 (colour is reported as MONOCHROME2 after conversion).</param>
/// <param name="Warnings">What was done that a user should know (colour converted, ...).</param>
public sealed record StoredFrame(int Rows, int Columns, int[] Values, int BitsStored, bool Signed, string Photometric, IReadOnlyList<string> Warnings)
{
    /// <summary>
    /// Halvings of the original resolution (0 = full size): a JPEG 2000 frame decoded at a coarser wavelet level is
    /// ceil(original / 2^Reduction) on each side, pixel (x, y) covering original pixels [x 2^r, (x + 1) 2^r).
    /// </summary>
    public int Reduction { get; init; }

    /// <summary>Smallest and largest value.</summary>
    public (int Min, int Max) Range() => PixelMath.MinMax(Values);
}
