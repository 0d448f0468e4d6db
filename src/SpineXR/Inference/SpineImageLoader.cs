using SkiaSharp;
using SpineXR.Dicom;
using SpineXR.Dicom.Imaging;
using SpineXR.Dicom.Rendering;

namespace SpineXR.Inference;

/// <summary>
/// Opens an input of `predict` or `serve` as a <see cref="SpineImage"/>: DICOM through the reference conversion
/// (VOI LUT, MONOCHROME1 inverted, min-max to 8 bits), PNG as its grey levels (16-bit grey min-max scaled as the
/// reference conversion, colour PNGs as luminance).
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
        if (IsPng(path))
        {
            try { return LoadPng(path, File.ReadAllBytes(path), id); }
            catch (Exception e) when (e is InvalidDataException or ImageTooLargeException) { throw new InvalidDataException($"{path}: {e.Message}", e); }
        }
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
            SourceHeader.From(ds))
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

    /// <summary>
    /// Largest image decoded by default, by its declared size: `predict`'s PNG loader and `serve` (whose
    /// --max-megapixels starts here), so a small compressed file cannot make either allocate gigabytes.
    /// </summary>
    public const long DefaultMaxPixels = 50_000_000;

    /// <summary>A PNG in memory (see <see cref="DecodePng"/>), within <see cref="DefaultMaxPixels"/>.</summary>
    public static SpineImage LoadPng(string name, byte[] bytes, string imageId) => DecodePng(name, bytes, imageId, DefaultMaxPixels, out _);

    /// <summary>Width, height, bit depth and colour type from a PNG's IHDR (always its first chunk).</summary>
    /// <exception cref="InvalidDataException">Not a PNG, or no valid IHDR.</exception>
    public static (int Width, int Height, int BitDepth, int ColorType) PngHeader(ReadOnlySpan<byte> png)
    {
        if (!png.StartsWith(PngSignature)) throw new InvalidDataException("not a PNG file (no PNG signature)");
        if (png.Length < 33 || !png.Slice(12, 4).SequenceEqual("IHDR"u8)) throw new InvalidDataException("PNG header chunk IHDR missing or truncated");
        uint w = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(png[16..]), h = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(png[20..]);
        if (w == 0 || h == 0 || w > int.MaxValue || h > int.MaxValue) throw new InvalidDataException($"PNG size {w}x{h} is not a valid image size");
        return ((int)w, (int)h, png[24], png[25]);
    }

    /// <summary>
    /// The one PNG-to-model conversion (predict and serve): 16-bit grey (with or without alpha) read exactly and
    /// min-max scaled to 8 bits, as the reference conversion does for DICOM; 8-bit grey as is; colour as luminance
    /// (Rec. 601 weights, as OpenCV's grey conversion). The declared size is checked against
    /// <paramref name="maxPixels"/> before anything is decoded. <paramref name="grey16"/> returns the 16-bit values
    /// (16-bit grey only), which serve keeps for windowing.
    /// </summary>
    /// <exception cref="InvalidDataException">Not a readable PNG (the message says why, without the name).</exception>
    /// <exception cref="ImageTooLargeException">Declared larger than <paramref name="maxPixels"/>.</exception>
    public static SpineImage DecodePng(string name, ReadOnlySpan<byte> png, string imageId, long maxPixels, out ushort[]? grey16)
    {
        var (w, h, bitDepth, colorType) = PngHeader(png);
        if ((long)w * h > maxPixels)
            throw new ImageTooLargeException($"the PNG is {w}x{h} = {(long)w * h / 1e6:0.#} megapixels; at most {maxPixels / 1e6:0.#} megapixels are decoded");
        int n = w * h;
        var gray = new byte[n];
        grey16 = null;
        if (bitDepth == 16 && colorType is 0 or 4)
        {
            var values = Imaging.Png16Reader.Read(png, w, h, colorType);
            ushort lo = ushort.MaxValue, hi = 0;
            foreach (ushort v in values)
            {
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
            float k = hi > lo ? 255f / (hi - lo) : 0;
            for (int i = 0; i < n; i++) gray[i] = (byte)MathF.Round((values[i] - lo) * k);
            grey16 = values;
            return new SpineImage(name, imageId, gray, w, h);
        }
        using var data = SKData.CreateCopy(png);
        using var codec = SKCodec.Create(data) ?? throw new InvalidDataException("PNG could not be opened (corrupt stream)");
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bmp = new SKBitmap(info);
        var result = codec.GetPixels(info, bmp.GetPixels());
        if (result != SKCodecResult.Success) throw new InvalidDataException($"PNG decoding failed: {result}");
        var px = bmp.GetPixelSpan();
        for (int i = 0, j = 0; i < n; i++, j += 4)
        {
            int r = px[j], g = px[j + 1], b = px[j + 2];
            gray[i] = (byte)((299 * r + 587 * g + 114 * b + 500) / 1000);
        }
        return new SpineImage(name, imageId, gray, w, h);
    }

    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private static bool IsPng(string path)
    {
        if (path.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) return true;
        using var fs = File.OpenRead(path);
        Span<byte> sig = stackalloc byte[8];
        return fs.Read(sig) == 8 && sig.SequenceEqual(PngSignature);
    }
}

/// <summary>An image whose declared size exceeds what the caller decodes; nothing was decoded.</summary>
public sealed class ImageTooLargeException(string message) : Exception(message);
