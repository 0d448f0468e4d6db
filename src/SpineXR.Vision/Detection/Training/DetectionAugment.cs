// Training augmentation: horizontal flip and a documented subset of the AutoAugment-for-detection policy v2
// (Zoph et al., ECCV 2020) used by VinDr-SpineXR: colour operations Brightness, Contrast and a gamma change
// (whole image), and box-aware TranslateX/TranslateY (pixels shift, boxes shift and are clipped; boxes left with
// under 25% of their area or under 2 px are dropped). Rotate_BBox, Sharpness, Equalize, Solarize and Cutout are left out.
using SpineXR.Boxes;
using SpineXR.Vision.Data;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Detection.Training;

/// <summary>Augments one grayscale image and its boxes (boxes in the image's own pixels).</summary>
public static class DetectionAugment
{
    public static (GrayImageF Image, BoxF[] Boxes, int[] Classes) Apply(GrayImageF img, BoxF[] boxes, int[] classes, DetectorInputConfig c, Random rng)
    {
        var px = (float[])img.Pixels.Clone();
        int w = img.Width, h = img.Height;
        var b = (BoxF[])boxes.Clone();
        var cls = classes;
        if (rng.NextDouble() < c.HFlip)
        {
            for (int y = 0; y < h; y++) px.AsSpan(y * w, w).Reverse();
            for (int i = 0; i < b.Length; i++) b[i] = new BoxF(w - b[i].X2, b[i].Y1, w - b[i].X1, b[i].Y2);
        }
        if (rng.NextDouble() < c.ColorAugment)
        {
            float delta = (float)(rng.NextDouble() * 0.3 - 0.15);
            for (int i = 0; i < px.Length; i++) px[i] = Math.Clamp(px[i] + delta, 0f, 1f);
        }
        if (rng.NextDouble() < c.ColorAugment)
        {
            float factor = (float)(0.7 + rng.NextDouble() * 0.6);
            float mean = 0;
            foreach (float v in px) mean += v;
            mean /= px.Length;
            for (int i = 0; i < px.Length; i++) px[i] = Math.Clamp(mean + (px[i] - mean) * factor, 0f, 1f);
        }
        if (rng.NextDouble() < c.ColorAugment)
        {
            float gamma = (float)Math.Exp(rng.NextDouble() * 0.6 - 0.3);
            for (int i = 0; i < px.Length; i++) px[i] = MathF.Pow(px[i], gamma);
        }
        if (rng.NextDouble() < c.TranslateAugment)
        {
            int dx = (int)Math.Round((rng.NextDouble() * 2 - 1) * c.TranslateFraction * w);
            int dy = (int)Math.Round((rng.NextDouble() * 2 - 1) * c.TranslateFraction * h);
            px = Translate(px, w, h, dx, dy);
            var kept = new List<BoxF>();
            var keptCls = new List<int>();
            for (int i = 0; i < b.Length; i++)
            {
                var moved = new BoxF(b[i].X1 + dx, b[i].Y1 + dy, b[i].X2 + dx, b[i].Y2 + dy);
                var clipped = new BoxF(Math.Clamp(moved.X1, 0, w), Math.Clamp(moved.Y1, 0, h), Math.Clamp(moved.X2, 0, w), Math.Clamp(moved.Y2, 0, h));
                if (clipped.Width >= 2 && clipped.Height >= 2 && clipped.Area >= 0.25f * moved.Area)
                {
                    kept.Add(clipped);
                    keptCls.Add(cls[i]);
                }
            }
            b = [.. kept];
            cls = [.. keptCls];
        }
        return (img with { Pixels = px }, b, cls);
    }

    private static float[] Translate(float[] px, int w, int h, int dx, int dy)
    {
        var dst = new float[px.Length];
        for (int y = 0; y < h; y++)
        {
            int sy = y - dy;
            if (sy < 0 || sy >= h) continue;
            int x0 = Math.Max(0, dx), x1 = Math.Min(w, w + dx);
            if (x1 <= x0) continue;
            px.AsSpan(sy * w + (x0 - dx), x1 - x0).CopyTo(dst.AsSpan(y * w + x0));
        }
        return dst;
    }
}
