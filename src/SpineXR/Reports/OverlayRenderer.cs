using System.Globalization;
using SkiaSharp;
using SpineXR.Inference;

namespace SpineXR.Reports;

/// <summary>
/// Draws findings on a window-levelled 8-bit image: class-coloured boxes with label and score, and a verdict
/// banner. Output is a PNG scaled so its longest side is at most <c>maxSide</c> (boxes scaled with it).
/// </summary>
public static class OverlayRenderer
{
    /// <summary>
    /// PNG settings for overlays: the Sub filter and zlib level 1 encode a 1024-pixel overlay about 12x faster than
    /// Skia's default (all filters, level 6) for files about 20% larger; at the default, encoding two PNGs per image
    /// cost more CPU than the models on two cores (README, predict benchmark).
    /// </summary>
    private static readonly SKPngEncoderOptions FastPng = new(SKPngEncoderFilterFlags.Sub, 1);

    /// <param name="gray">Row-major 8-bit grey pixels, <paramref name="width"/> x <paramref name="height"/>.</param>
    /// <param name="boxes">Boxes in the pixel coordinates of <paramref name="gray"/>.</param>
    /// <param name="banner">Text for the top banner (verdict and probability), or null for none.</param>
    /// <param name="abnormal">Banner colour: red when abnormal, green when normal.</param>
    /// <param name="maxSide">Longest side of the output in pixels.</param>
    public static byte[] RenderPng(ReadOnlySpan<byte> gray, int width, int height, IReadOnlyList<PredictedBox> boxes,
        string? banner, bool abnormal, int maxSide = 1024)
    {
        using var surface = Draw(gray, width, height, boxes, banner, abnormal, maxSide);
        using var snap = surface.Snapshot();
        using var pixels = snap.PeekPixels() ?? throw new InvalidOperationException("overlay surface has no readable pixels");
        using var data = pixels.Encode(FastPng) ?? throw new InvalidOperationException("PNG encoding of the overlay failed");
        return data.ToArray();
    }

    /// <summary>The same drawing as <see cref="RenderPng"/>, as interleaved 8-bit RGB pixels (row-major, no padding).</summary>
    public static (byte[] Rgb, int Width, int Height) RenderRgb(ReadOnlySpan<byte> gray, int width, int height, IReadOnlyList<PredictedBox> boxes,
        string? banner, bool abnormal, int maxSide = 1024)
    {
        using var surface = Draw(gray, width, height, boxes, banner, abnormal, maxSide);
        using var snap = surface.Snapshot();
        using var pixels = snap.PeekPixels() ?? throw new InvalidOperationException("overlay surface has no readable pixels");
        int w = pixels.Width, h = pixels.Height;
        var rgba = pixels.GetPixelSpan();
        var rgb = new byte[3L * w * h];
        for (int y = 0; y < h; y++)
        {
            var row = rgba.Slice(y * pixels.RowBytes, 4 * w);
            var dst = rgb.AsSpan(3 * y * w, 3 * w);
            for (int x = 0; x < w; x++)
            {
                dst[3 * x] = row[4 * x];
                dst[3 * x + 1] = row[4 * x + 1];
                dst[3 * x + 2] = row[4 * x + 2];
            }
        }
        return (rgb, w, h);
    }

    private static SKSurface Draw(ReadOnlySpan<byte> gray, int width, int height, IReadOnlyList<PredictedBox> boxes,
        string? banner, bool abnormal, int maxSide)
    {
        if (width <= 0 || height <= 0 || gray.Length < (long)width * height)
            throw new ArgumentException($"image buffer {gray.Length} bytes does not hold {width}x{height}", nameof(gray));
        float scale = Math.Min(1f, maxSide / (float)Math.Max(width, height));
        int ow = Math.Max(1, (int)Math.Round(width * scale)), oh = Math.Max(1, (int)Math.Round(height * scale));

        using var src = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        unsafe
        {
            fixed (byte* p = gray)
                Buffer.MemoryCopy(p, (void*)src.GetPixels(), (long)width * height, (long)width * height);
        }
        // Opaque, so the PNG is RGB (no alpha channel to deflate); mipmaps only where linear filtering would alias.
        var surface = SKSurface.Create(new SKImageInfo(ow, oh, SKColorType.Rgba8888, SKAlphaType.Opaque))
                      ?? throw new InvalidOperationException($"cannot create a {ow}x{oh} drawing surface");
        var canvas = surface.Canvas;
        using (var img = SKImage.FromBitmap(src))
            canvas.DrawImage(img, new SKRect(0, 0, ow, oh), new SKSamplingOptions(SKFilterMode.Linear, scale < 0.5f ? SKMipmapMode.Linear : SKMipmapMode.None));

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

        return surface;
    }
}
