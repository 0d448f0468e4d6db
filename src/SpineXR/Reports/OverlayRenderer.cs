using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using SkiaSharp;
using SpineXR.Imaging;
using SpineXR.Inference;

namespace SpineXR.Reports;

/// <summary>
/// Draws findings on a window-levelled 8-bit image: class-coloured boxes with label and score, and a verdict
/// banner. Output is a PNG scaled so its longest side is at most <c>maxSide</c> (boxes scaled with it).
/// </summary>
public static class OverlayRenderer
{
    /// <param name="gray">Row-major 8-bit grey pixels, <paramref name="width"/> x <paramref name="height"/>.</param>
    /// <param name="boxes">Boxes in the pixel coordinates of <paramref name="gray"/>.</param>
    /// <param name="banner">Text for the top banner (verdict and probability), or null for none.</param>
    /// <param name="abnormal">Banner colour: red when abnormal, green when normal.</param>
    /// <param name="maxSide">Longest side of the output in pixels.</param>
    /// <remarks>
    /// Encoded by <see cref="PngWriter"/> (RGB, Up filter, run-length deflate), as fast as Skia's encoder at its
    /// fastest useful setting (Sub filter, zlib 1) and about 12x faster than its default (all filters, zlib 6), at
    /// which two PNGs per image cost more CPU than the models on two cores (`bench predict-stages`).
    /// </remarks>
    public static byte[] RenderPng(ReadOnlySpan<byte> gray, int width, int height, IReadOnlyList<PredictedBox> boxes,
        string? banner, bool abnormal, int maxSide = 1024)
    {
        var png = new MemoryStream();
        WritePng(png, gray, width, height, boxes, banner, abnormal, maxSide);
        return png.ToArray();
    }

    /// <summary>
    /// <see cref="RenderPng"/> written straight to <paramref name="stream"/> (e.g. the file), its RGB pixels in a
    /// pooled buffer: `predict` writes two of these per image, and whole-image arrays each time were most of its
    /// garbage.
    /// </summary>
    public static void WritePng(Stream stream, ReadOnlySpan<byte> gray, int width, int height, IReadOnlyList<PredictedBox> boxes,
        string? banner, bool abnormal, int maxSide = 1024)
    {
        using var bitmap = Draw(gray, width, height, boxes, banner, abnormal, maxSide);
        int length = checked(3 * bitmap.Width * bitmap.Height);
        byte[] rgb = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            CopyRgb(bitmap, rgb);
            PngWriter.WriteRgb8(stream, bitmap.Width, bitmap.Height, rgb.AsSpan(0, length));
        }
        finally { ArrayPool<byte>.Shared.Return(rgb); }
    }

    /// <summary>
    /// The same drawing as a baseline JPEG (Skia's libjpeg-turbo encoder, 4:2:0) into <paramref name="stream"/>: what
    /// report.html embeds as thumbnails, about a sixth of the PNG's size at 320 px (a report over 1,000 images was
    /// 130 MB with PNG thumbnails), and a little faster to make.
    /// </summary>
    public static void WriteJpeg(Stream stream, ReadOnlySpan<byte> gray, int width, int height, IReadOnlyList<PredictedBox> boxes,
        string? banner, bool abnormal, int maxSide, int quality = 85)
    {
        using var bitmap = Draw(gray, width, height, boxes, banner, abnormal, maxSide);
        if (!bitmap.Encode(stream, SKEncodedImageFormat.Jpeg, quality))
            throw new InvalidOperationException("Skia could not encode the overlay as JPEG");
    }

    /// <summary><see cref="WriteJpeg"/> into a byte array.</summary>
    public static byte[] RenderJpeg(ReadOnlySpan<byte> gray, int width, int height, IReadOnlyList<PredictedBox> boxes,
        string? banner, bool abnormal, int maxSide, int quality = 85)
    {
        var jpeg = new MemoryStream();
        WriteJpeg(jpeg, gray, width, height, boxes, banner, abnormal, maxSide, quality);
        return jpeg.ToArray();
    }

    /// <summary>The same drawing as <see cref="RenderPng"/>, as interleaved 8-bit RGB pixels (row-major, no padding).</summary>
    public static (byte[] Rgb, int Width, int Height) RenderRgb(ReadOnlySpan<byte> gray, int width, int height, IReadOnlyList<PredictedBox> boxes,
        string? banner, bool abnormal, int maxSide = 1024)
    {
        using var bitmap = Draw(gray, width, height, boxes, banner, abnormal, maxSide);
        var rgb = GC.AllocateUninitializedArray<byte>(checked(3 * bitmap.Width * bitmap.Height));
        CopyRgb(bitmap, rgb);
        return (rgb, bitmap.Width, bitmap.Height);
    }

    private static void CopyRgb(SKBitmap bitmap, byte[] rgb)
    {
        int w = bitmap.Width, h = bitmap.Height;
        var rgba = MemoryMarshal.Cast<byte, uint>(bitmap.GetPixelSpan());
        int rowPixels = bitmap.RowBytes / 4;
        for (int y = 0; y < h; y++)
        {
            var row = rgba.Slice(y * rowPixels, w);
            var dst = rgb.AsSpan(3 * y * w, 3 * w);
            for (int x = 0; x < w; x++)
            {
                uint p = row[x]; // R, G, B, A in memory order (little-endian)
                dst[3 * x] = (byte)p;
                dst[3 * x + 1] = (byte)(p >> 8);
                dst[3 * x + 2] = (byte)(p >> 16);
            }
        }
    }

    /// <summary>
    /// The image shrunk by area averaging (<see cref="Resampler"/>) and expanded to opaque RGBA by us, then boxes and
    /// banner drawn by Skia. Letting Skia scale the Gray8 image itself (bilinear through its raster pipeline) cost
    /// three times the rest of the overlay.
    /// </summary>
    private static SKBitmap Draw(ReadOnlySpan<byte> gray, int width, int height, IReadOnlyList<PredictedBox> boxes,
        string? banner, bool abnormal, int maxSide)
    {
        if (width <= 0 || height <= 0 || gray.Length < (long)width * height)
            throw new ArgumentException($"image buffer {gray.Length} bytes does not hold {width}x{height}", nameof(gray));
        float scale = Math.Min(1f, maxSide / (float)Math.Max(width, height));
        int ow = Math.Max(1, (int)Math.Round(width * scale)), oh = Math.Max(1, (int)Math.Round(height * scale));

        byte[]? shrunk = null;
        if (ow != width || oh != height)
        {
            shrunk = System.Buffers.ArrayPool<byte>.Shared.Rent(ow * oh);
            Resampler.Resize(gray[..(width * height)], width, height, shrunk, ow, oh, ow);
        }
        var bitmap = new SKBitmap(new SKImageInfo(ow, oh, SKColorType.Rgba8888, SKAlphaType.Opaque));
        try
        {
            ReadOnlySpan<byte> g = shrunk ?? gray;
            var px = MemoryMarshal.Cast<byte, uint>(bitmap.GetPixelSpan());
            int rowPixels = bitmap.RowBytes / 4;
            for (int y = 0; y < oh; y++)
            {
                var src = g.Slice(y * ow, ow);
                var dst = px.Slice(y * rowPixels, ow);
                for (int x = 0; x < ow; x++) dst[x] = src[x] * 0x010101u | 0xFF000000u;
            }
            using (var canvas = new SKCanvas(bitmap))
                Paint(canvas, boxes, banner, abnormal, scale, ow, oh);
            return bitmap;
        }
        catch
        {
            bitmap.Dispose();
            throw;
        }
        finally
        {
            if (shrunk != null) System.Buffers.ArrayPool<byte>.Shared.Return(shrunk);
        }
    }

    private static void Paint(SKCanvas canvas, IReadOnlyList<PredictedBox> boxes, string? banner, bool abnormal, float scale, int ow, int oh)
    {
        float stroke = Math.Max(2f, Math.Max(ow, oh) / 400f);
        float fontSize = Math.Max(11f, Math.Max(ow, oh) / 60f);
        using var font = ReportFonts.Font(fontSize);
        using var boxPaint = new SKPaint { Style = SKPaintStyle.Stroke, StrokeWidth = stroke, IsAntialias = true };
        using var fill = new SKPaint { Style = SKPaintStyle.Fill, IsAntialias = true };
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };

        // Lowest scores first so the most confident boxes end on top.
        foreach (var b in boxes.OrderBy(b => b.Score))
        {
            var color = ClassColors.Of(b.ClassId);
            var r = new SKRect(b.Xyxy[0] * scale, b.Xyxy[1] * scale, b.Xyxy[2] * scale, b.Xyxy[3] * scale);
            boxPaint.Color = color;
            canvas.DrawRect(r, boxPaint);
            string label = b.Class + " " + b.Score.ToString("0.00", CultureInfo.InvariantCulture);
            float tw = font.MeasureText(label);
            float ty = r.Top - fontSize * 0.25f >= fontSize ? r.Top - fontSize * 0.25f : r.Bottom + fontSize;
            fill.Color = color.WithAlpha(220);
            canvas.DrawRect(new SKRect(r.Left, ty - fontSize, r.Left + tw + 6, ty + fontSize * 0.3f), fill);
            canvas.DrawText(label, r.Left + 3, ty, SKTextAlign.Left, font, text);
        }

        if (banner != null)
        {
            float bh = fontSize * 1.8f;
            fill.Color = (abnormal ? new SKColor(0xB0, 0x20, 0x20) : new SKColor(0x20, 0x80, 0x40)).WithAlpha(230);
            canvas.DrawRect(new SKRect(0, 0, ow, bh), fill);
            text.Color = SKColors.White;
            canvas.DrawText(banner, 8, bh * 0.7f, SKTextAlign.Left, font, text);
        }
    }
}
