using SkiaSharp;
using SpineXR.Boxes;

namespace SpineXR.Imaging;

/// <summary>One box to draw on a preview: the box (xyxy, image pixels), its label and its class index (picks the colour; -1 = grey).</summary>
public readonly record struct PreviewBox(BoxF Box, string Label, int ClassId);

/// <summary>Draws labelled boxes over a grayscale image and writes a PNG (README pictures, quick looks at a dataset).</summary>
public static class BoxPreview
{
    private static readonly SKColor[] Palette =
    [
        new(255, 80, 80), new(80, 200, 255), new(255, 200, 40), new(170, 110, 255),
        new(80, 230, 120), new(255, 130, 220), new(255, 150, 60),
    ];

    /// <summary>Renders an 8-bit image with boxes, scaled so the long side is <paramref name="maxSide"/> pixels (0 = original size), as PNG bytes.</summary>
    public static byte[] Render(ReadOnlySpan<byte> gray, int width, int height, IEnumerable<PreviewBox> boxes, int maxSide = 0)
    {
        using var src = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        gray[..(width * height)].CopyTo(src.GetPixelSpan());
        float scale = maxSide > 0 ? Math.Min(1f, maxSide / (float)Math.Max(width, height)) : 1f;
        int ow = Math.Max(1, (int)Math.Round(width * scale)), oh = Math.Max(1, (int)Math.Round(height * scale));
        using var surface = SKSurface.Create(new SKImageInfo(ow, oh, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        using (var image = SKImage.FromBitmap(src))
            canvas.DrawImage(image, new SKRect(0, 0, ow, oh), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
        using var typeface = LoadTypeface();
        using var font = new SKFont(typeface, Math.Max(11, oh / 60f));
        float stroke = Math.Max(1.5f, oh / 400f);
        foreach (var b in boxes)
        {
            var color = b.ClassId >= 0 ? Palette[b.ClassId % Palette.Length] : new SKColor(200, 200, 200);
            using var pen = new SKPaint { Color = color, Style = SKPaintStyle.Stroke, StrokeWidth = stroke, IsAntialias = true };
            var r = new SKRect(b.Box.X1 * scale, b.Box.Y1 * scale, b.Box.X2 * scale, b.Box.Y2 * scale);
            canvas.DrawRect(r, pen);
            if (b.Label.Length == 0) continue;
            float tw = font.MeasureText(b.Label);
            float ty = r.Top - 3 > font.Size ? r.Top - 3 : r.Bottom + font.Size + 2;
            using var bg = new SKPaint { Color = new SKColor(0, 0, 0, 170), Style = SKPaintStyle.Fill };
            canvas.DrawRect(new SKRect(r.Left, ty - font.Size, r.Left + tw + 4, ty + 3), bg);
            using var ink = new SKPaint { Color = color, IsAntialias = true };
            canvas.DrawText(b.Label, r.Left + 2, ty, SKTextAlign.Left, font, ink);
        }
        using var snapshot = surface.Snapshot();
        using var data = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static SKTypeface LoadTypeface()
    {
        foreach (var f in new[] { "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf" })
            if (File.Exists(f) && SKTypeface.FromFile(f) is { } t) return t;
        return SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default;
    }
}
