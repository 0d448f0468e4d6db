using SkiaSharp;
using SpineXR.Dicom;
using SpineXR.Dicom.Imaging;
using SpineXR.Dicom.Rendering;
using SpineXR.Reports;

namespace SpineXR.Inference;

/// <summary>
/// Opens an input of `predict` or `serve` as a <see cref="SpineImage"/>: DICOM through the reference conversion
/// (VOI LUT, MONOCHROME1 inverted, min-max to 8 bits), PNG as its grey levels (colour PNGs as luminance).
/// The image id is the file stem, as in the VinDr-SpineXR layout (`<image_id>.dicom`), so predictions line up
/// with `annotations/*.csv`; the SOP Instance UID is kept separately.
/// </summary>
public static class SpineImageLoader
{
    /// <summary>Loads a file at full size; failures are exceptions whose message starts with the path.</summary>
    public static SpineImage Load(string path) => Load(path, null);

    /// <summary>
    /// Loads a file. With <paramref name="allowance"/>, a JPEG 2000 DICOM is decoded at the coarsest wavelet level
    /// whose size still covers what the consumers use: r halvings where 2^r &lt;= allowance(Columns, Rows). Only
    /// the code blocks of the levels kept are decoded, so a 2,500-pixel radiograph for 448-pixel models costs about a
    /// quarter of a full decode. The 8-bit conversion (VOI, min-max) then runs on the reduced image.
    /// </summary>
    public static SpineImage Load(string path, ShrinkAllowance? allowance)
    {
        string id = Path.GetFileNameWithoutExtension(path);
        if (IsPng(path)) return LoadPng(path, File.ReadAllBytes(path), id);
        var file = DicomFile.Open(path);
        return FromDicom(file, path, id, allowance);
    }

    /// <summary>A DICOM already read (e.g. an upload); <paramref name="allowance"/> as <see cref="Load(string, ShrinkAllowance?)"/>.</summary>
    public static SpineImage FromDicom(DicomFile file, string name, string imageId, ShrinkAllowance? allowance = null)
    {
        var pixels = DicomPixelData.Create(file);
        return Decode(file, pixels, name, imageId, MaxReduction(pixels, allowance)).Image;
    }

    /// <summary>The wavelet levels <paramref name="allowance"/> lets the first frame of <paramref name="pixels"/> skip.</summary>
    public static int MaxReduction(DicomPixelData pixels, ShrinkAllowance? allowance) =>
        allowance is null ? 0 : Reductions(allowance(pixels.Format.Columns, pixels.Format.Rows));

    /// <summary>
    /// The one DICOM-to-model conversion (predict and serve): the first frame decoded at up to
    /// <paramref name="maxReduction"/> levels below full size, then the reference 8-bit conversion. Also returns the
    /// decoded stored frame, which serve keeps for its viewer copy.
    /// </summary>
    public static (SpineImage Image, StoredFrame Frame) Decode(DicomFile file, DicomPixelData pixels, string name, string imageId, int maxReduction)
    {
        var frame = PixelDecoder.DecodeGray(pixels, 0, maxReduction);
        byte[] gray = GrayscaleRenderer.ToGray8(frame, file.Dataset);
        var ds = file.Dataset;
        var image = new SpineImage(name, imageId, gray, frame.Columns, frame.Rows,
            ds.GetString(DicomTags.StudyInstanceUID), ds.GetString(DicomTags.SeriesInstanceUID), ds.GetString(DicomTags.SOPInstanceUID),
            SecondaryCapture.SourceHeader(ds))
        {
            Reduction = frame.Reduction,
            OriginalWidth = pixels.Format.Columns,
            OriginalHeight = pixels.Format.Rows,
        };
        return (image, frame);
    }

    /// <summary>Whole halvings within a shrink factor: floor(log2(factor)), 0 below 2.</summary>
    public static int Reductions(double factor)
    {
        int r = 0;
        while (r < 16 && factor >= 2.0 * (1 << r)) r++;
        return r;
    }

    /// <summary>A PNG in memory; colour is reduced to luminance (Rec. 601 weights, as OpenCV's grey conversion).</summary>
    public static SpineImage LoadPng(string name, byte[] bytes, string imageId)
    {
        using var bmp = SKBitmap.Decode(bytes) ?? throw new InvalidDataException($"{name}: not a readable PNG image");
        int w = bmp.Width, h = bmp.Height;
        var gray = new byte[(long)w * h];
        if (bmp.ColorType == SKColorType.Gray8)
        {
            bmp.GetPixelSpan().CopyTo(gray);
        }
        else
        {
            using var rgba = bmp.Copy(SKColorType.Rgba8888) ?? throw new InvalidDataException($"{name}: unsupported PNG pixel format");
            var px = rgba.GetPixelSpan();
            for (int i = 0; i < gray.Length; i++)
            {
                int r = px[4 * i], g = px[4 * i + 1], b = px[4 * i + 2];
                gray[i] = (byte)((299 * r + 587 * g + 114 * b + 500) / 1000);
            }
        }
        return new SpineImage(name, imageId, gray, w, h);
    }

    private static bool IsPng(string path)
    {
        if (path.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) return true;
        using var fs = File.OpenRead(path);
        Span<byte> sig = stackalloc byte[8];
        return fs.Read(sig) == 8 && sig.SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A });
    }
}
