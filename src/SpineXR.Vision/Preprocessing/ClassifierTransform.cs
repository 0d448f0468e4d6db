// Classifier input pipeline, on plain arrays so it runs on loader threads beside the model:
// resize to the square input (area averaging when shrinking, bilinear when enlarging, as cv2's
// INTER_AREA / INTER_LINEAR), optional augmentation, grey copied to three channels, ImageNet normalisation.
using SpineXR.Imaging;

namespace SpineXR.Vision.Preprocessing;

/// <summary>Random augmentation drawn for one image (identity by default).</summary>
public readonly record struct Augmentation(bool HFlip, double RotationDegrees, double Brightness, double Contrast)
{
    public static Augmentation None => new(false, 0, 1, 1);
}

/// <summary>Turns greyscale images into normalised (3, S, S) float planes for the classifier.</summary>
public sealed class ClassifierTransform(int inputSize, double[] mean, double[] std)
{
    public int InputSize { get; } = inputSize;

    /// <summary>Floats per image: 3 * S * S.</summary>
    public int Length => 3 * InputSize * InputSize;

    /// <summary>Draws an augmentation from <paramref name="rng"/> (always the same number of draws, so streams stay aligned).</summary>
    public static Augmentation Draw(Random rng, bool hflip, double rotationDegrees, double brightnessContrast)
    {
        bool flip = rng.NextDouble() < 0.5;
        double rot = (rng.NextDouble() * 2 - 1) * rotationDegrees;
        double b = 1 + (rng.NextDouble() * 2 - 1) * brightnessContrast;
        double c = 1 + (rng.NextDouble() * 2 - 1) * brightnessContrast;
        return new Augmentation(hflip && flip, rot, b, c);
    }

    /// <summary>Writes the (3, S, S) normalised planes of <paramref name="image"/> into <paramref name="dest"/>.</summary>
    public void Apply(GrayImage image, Augmentation aug, Span<float> dest)
    {
        if (image.Width <= 0 || image.Height <= 0 || image.Pixels.Length != (long)image.Width * image.Height * (image.Bits / 8))
            throw new InvalidDataException($"{image.Width}x{image.Height} image with {image.Pixels.Length} bytes of pixels");
        int s = InputSize;
        if (dest.Length < Length) throw new ArgumentException("destination too small", nameof(dest));
        var plane = dest[..(s * s)];
        Resize(image, s, plane);
        if (aug.RotationDegrees != 0) Rotate(plane, s, aug.RotationDegrees);
        if (aug.HFlip)
            for (int y = 0; y < s; y++) plane.Slice(y * s, s).Reverse();
        // plane holds 0..255; brightness scales, contrast stretches about the image mean (torchvision ColorJitter semantics).
        float scale = 1f / 255f;
        if (aug.Brightness != 1 || aug.Contrast != 1)
        {
            double sum = 0;
            foreach (float v in plane) sum += v;
            float m = (float)(sum / plane.Length * aug.Brightness) * scale;
            float bf = (float)aug.Brightness * scale, cf = (float)aug.Contrast;
            for (int i = 0; i < plane.Length; i++)
                plane[i] = Math.Clamp((plane[i] * bf - m) * cf + m, 0f, 1f);
        }
        else
        {
            for (int i = 0; i < plane.Length; i++) plane[i] *= scale;
        }
        // Channels 2 and 3 first, then channel 1 in place.
        for (int c = 2; c >= 0; c--)
        {
            float mu = (float)mean[c], inv = 1f / (float)std[c];
            var outPlane = dest.Slice(c * s * s, s * s);
            for (int i = 0; i < plane.Length; i++) outPlane[i] = (plane[i] - mu) * inv;
        }
    }

    /// <summary>Resizes to s x s: box average over the source footprint when shrinking, bilinear (half-pixel centres) when enlarging.</summary>
    internal static void Resize(GrayImage img, int s, Span<float> dst)
    {
        int w = img.Width, h = img.Height;
        var src = img.Bits == 16 ? To8(img.Pixels16) : img.Pixels;
        if (w >= s && h >= s)
        {
            // Area: each output pixel averages the source rectangle it covers, with fractional edge weights.
            double sx = (double)w / s, sy = (double)h / s;
            float[] acc = new float[s];
            for (int oy = 0; oy < s; oy++)
            {
                double y0 = oy * sy, y1 = y0 + sy;
                Array.Clear(acc);
                for (int y = (int)y0; y < Math.Min(h, (int)Math.Ceiling(y1)); y++)
                {
                    double wy = Math.Min(y1, y + 1) - Math.Max(y0, y);
                    if (wy <= 0) continue;
                    int rowOff = y * w;
                    for (int ox = 0; ox < s; ox++)
                    {
                        double x0 = ox * sx, x1 = x0 + sx;
                        int xa = (int)x0, xb = Math.Min(w, (int)Math.Ceiling(x1));
                        double sum = 0;
                        for (int x = xa; x < xb; x++)
                        {
                            double wx = Math.Min(x1, x + 1) - Math.Max(x0, x);
                            sum += wx * src[rowOff + x];
                        }
                        acc[ox] += (float)(sum * wy);
                    }
                }
                float norm = (float)(1.0 / (sx * sy));
                for (int ox = 0; ox < s; ox++) dst[oy * s + ox] = acc[ox] * norm;
            }
            return;
        }
        for (int oy = 0; oy < s; oy++)
        {
            double fy = Math.Clamp((oy + 0.5) * h / s - 0.5, 0, h - 1);
            int y0 = (int)fy, y1 = Math.Min(y0 + 1, h - 1);
            float ty = (float)(fy - y0);
            for (int ox = 0; ox < s; ox++)
            {
                double fx = Math.Clamp((ox + 0.5) * w / s - 0.5, 0, w - 1);
                int x0 = (int)fx, x1 = Math.Min(x0 + 1, w - 1);
                float tx = (float)(fx - x0);
                float top = src[y0 * w + x0] * (1 - tx) + src[y0 * w + x1] * tx;
                float bot = src[y1 * w + x0] * (1 - tx) + src[y1 * w + x1] * tx;
                dst[oy * s + ox] = top * (1 - ty) + bot * ty;
            }
        }
    }

    private static byte[] To8(ReadOnlySpan<ushort> px)
    {
        var b = new byte[px.Length];
        for (int i = 0; i < px.Length; i++) b[i] = (byte)((px[i] + 128) / 257);
        return b;
    }

    /// <summary>Rotates the s x s plane about its centre (bilinear, zero fill outside).</summary>
    private static void Rotate(Span<float> plane, int s, double degrees)
    {
        float[] copy = plane.ToArray();
        double a = degrees * Math.PI / 180, cos = Math.Cos(a), sin = Math.Sin(a);
        double c = (s - 1) / 2.0;
        for (int y = 0; y < s; y++)
        {
            for (int x = 0; x < s; x++)
            {
                double dx = x - c, dy = y - c;
                double sx = cos * dx + sin * dy + c, sy = -sin * dx + cos * dy + c;
                int x0 = (int)Math.Floor(sx), y0 = (int)Math.Floor(sy);
                float tx = (float)(sx - x0), ty = (float)(sy - y0);
                float Px(int xx, int yy) => xx < 0 || yy < 0 || xx >= s || yy >= s ? 0f : copy[yy * s + xx];
                plane[y * s + x] = (Px(x0, y0) * (1 - tx) + Px(x0 + 1, y0) * tx) * (1 - ty) + (Px(x0, y0 + 1) * (1 - tx) + Px(x0 + 1, y0 + 1) * tx) * ty;
            }
        }
    }
}
