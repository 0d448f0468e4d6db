using SpineXR.Dicom;
using SpineXR.Dicom.Imaging;
using SpineXR.Dicom.Rendering;

namespace SpineXR.Imaging;

/// <summary>
/// One DICOM file to one PNG: decode the first frame, render (VinDr-SpineXR reference conversion by default), write
/// atomically. Used by `spinexr dicom convert` and the benchmark.
/// </summary>
public static class DicomToPng
{
    /// <summary>Result of one conversion: warnings worth logging (colour converted, VOI not applied, ...).</summary>
    public sealed record Result(int Rows, int Columns, string Voi, IReadOnlyList<string> Warnings);

    /// <summary>
    /// Converts <paramref name="dicomPath"/> to <paramref name="pngPath"/> with <paramref name="bits"/> 8 or 16.
    /// Throws <see cref="DicomException"/> for bad DICOM input; the PNG is written whole or not at all.
    /// </summary>
    public static Result Convert(string dicomPath, string pngPath, int bits = 8, RenderOptions? options = null)
    {
        if (bits is not (8 or 16)) throw new ArgumentException("must be 8 or 16", nameof(bits));
        var file = DicomFile.Open(dicomPath);
        var frame = PixelDecoder.DecodeGray(file);
        var warnings = new List<string>();
        int frames = file.Dataset.GetIntOrDefault(DicomTags.NumberOfFrames, 1);
        if (frames > 1) warnings.Add($"{frames} frames, first converted");
        RenderInfo info;
        if (bits == 8)
        {
            var px = GrayscaleRenderer.ToGray8(frame, file.Dataset, options, out info);
            PngWriter.SaveGray8(pngPath, frame.Columns, frame.Rows, px);
        }
        else
        {
            var px = GrayscaleRenderer.ToGray16(frame, file.Dataset, options, out info);
            PngWriter.SaveGray16(pngPath, frame.Columns, frame.Rows, px);
        }
        warnings.AddRange(info.Warnings);
        return new Result(frame.Rows, frame.Columns, info.Voi, warnings);
    }
}
