using SpineXR.Dicom;
using SpineXR.Dicom.Codecs;
using SpineXR.Dicom.Imaging;
using SpineXR.Dicom.Rendering;
using SpineXR.IO;

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
    /// Throws <see cref="DicomException"/> for bad DICOM input; the PNG is written whole or not at all. Frames decode
    /// with <paramref name="decode"/> (default <see cref="DecodeOptions.Default"/>).
    /// </summary>
    public static Result Convert(string dicomPath, string pngPath, int bits = 8, RenderOptions? options = null, DecodeOptions? decode = null)
    {
        if (bits is not (8 or 16)) throw new ArgumentException("must be 8 or 16", nameof(bits));
        var file = DicomFile.Open(dicomPath);
        var pixels = DicomPixelData.Create(file, decode);
        var warnings = new List<string>();
        int frames = file.Dataset.GetIntOrDefault(DicomTags.NumberOfFrames, 1);
        if (frames > 1) warnings.Add($"{frames} frames, first converted");
        RenderInfo info;
        if (bits == 8)
        {
            // Pooled output: batches convert thousands of same-size images.
            int n = pixels.Format.Rows * pixels.Format.Columns;
            byte[] px = System.Buffers.ArrayPool<byte>.Shared.Rent(n);
            try
            {
                GrayscaleRenderer.ToGray8(pixels, file.Dataset, 0, options, px, out info);
                AtomicFile.Write(pngPath, s => PngWriter.WriteGray8(s, pixels.Format.Columns, pixels.Format.Rows, px.AsSpan(0, n)));
            }
            finally { System.Buffers.ArrayPool<byte>.Shared.Return(px); }
        }
        else
        {
            var px = GrayscaleRenderer.ToGray16(pixels, file.Dataset, 0, options, out info);
            PngWriter.SaveGray16(pngPath, pixels.Format.Columns, pixels.Format.Rows, px);
        }
        warnings.AddRange(info.Warnings);
        return new Result(pixels.Format.Rows, pixels.Format.Columns, info.Voi, warnings);
    }
}
