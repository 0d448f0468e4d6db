using SpineXR.Boxes;

namespace SpineXR.Vision.Data;

/// <summary>A grayscale image in [0, 1] (row-major, Width x Height) scaled by <see cref="Scale"/> from its original pixels.</summary>
public sealed record GrayImageF(float[] Pixels, int Width, int Height, float Scale = 1f)
{
    /// <summary>A decoded 8-bit image as the detectors take it: grey levels in [0, 1], its subsampling kept as the scale.</summary>
    public static GrayImageF From(SpineXR.Inference.SpineImage img)
    {
        var px = new float[img.Gray8.Length];
        const float inv = 1f / 255f;
        for (int i = 0; i < px.Length; i++) px[i] = img.Gray8[i] * inv;
        return new GrayImageF(px, img.Width, img.Height, 1f / img.Subsampling);
    }
}

/// <summary>One annotated image: boxes xyxy in original pixels and class ids (0-based, LesionTaxonomy order).</summary>
public sealed record DetectionSample(string ImageId, string StudyId, BoxF[] Boxes, int[] Classes);

/// <summary>Annotated images and a way to load their pixels (may fail per image: the trainer reports and skips it).</summary>
public interface IDetectionDataSource
{
    IReadOnlyList<DetectionSample> Samples { get; }

    /// <summary>Loads image <paramref name="index"/>, optionally downscaled so its short side is at most <paramref name="maxShortSide"/>.</summary>
    GrayImageF Load(int index, int maxShortSide);
}

/// <summary>An in-memory source (tests, synthetic scenes rendered on the fly).</summary>
public sealed class InMemoryDetectionSource(IReadOnlyList<DetectionSample> samples, Func<int, GrayImageF> load) : IDetectionDataSource
{
    public IReadOnlyList<DetectionSample> Samples => samples;

    public GrayImageF Load(int index, int maxShortSide) => ImageResize.ToShortSide(load(index), maxShortSide);
}

/// <summary>Bilinear downscaling of grayscale images (area-like quality is not needed: the model resizes again).</summary>
public static class ImageResize
{
    /// <summary>Returns the image scaled so min(W, H) &lt;= maxShortSide (unchanged when already small).</summary>
    public static GrayImageF ToShortSide(GrayImageF img, int maxShortSide)
    {
        int s = Math.Min(img.Width, img.Height);
        if (maxShortSide <= 0 || s <= maxShortSide) return img;
        float f = (float)maxShortSide / s;
        int w = Math.Max(1, (int)MathF.Round(img.Width * f)), h = Math.Max(1, (int)MathF.Round(img.Height * f));
        var dst = new float[w * h];
        var src = img.Pixels;
        float sx = (float)img.Width / w, sy = (float)img.Height / h;
        // average over the source footprint of each destination pixel (box filter), rows in parallel
        Parallel.For(0, h, y =>
        {
            int y0 = (int)(y * sy), y1 = Math.Max(y0 + 1, Math.Min(img.Height, (int)((y + 1) * sy)));
            for (int x = 0; x < w; x++)
            {
                int x0 = (int)(x * sx), x1 = Math.Max(x0 + 1, Math.Min(img.Width, (int)((x + 1) * sx)));
                float acc = 0;
                for (int yy = y0; yy < y1; yy++)
                {
                    var row = src.AsSpan(yy * img.Width + x0, x1 - x0);
                    foreach (float v in row) acc += v;
                }
                dst[y * w + x] = acc / ((y1 - y0) * (x1 - x0));
            }
        });
        return new GrayImageF(dst, w, h, img.Scale * ((float)w / img.Width));
    }
}
