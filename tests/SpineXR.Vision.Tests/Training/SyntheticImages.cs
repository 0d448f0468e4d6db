using SpineXR.Imaging;
using SpineXR.Vision.Training;
using SpineXR.Vision.Data;

namespace SpineXR.Vision.Tests.Training;

/// <summary>Seeded toy radiographs: a noisy vertical "spine" band; abnormal ones carry a bright blob (an implant-like lesion).</summary>
internal static class SyntheticImages
{
    public static GrayImage Make(int seed, bool abnormal, int w = 96, int h = 112)
    {
        var rng = new Random(seed);
        var px = new byte[w * h];
        double cx = w * (0.4 + 0.2 * rng.NextDouble());
        double bx = rng.Next(w / 4, 3 * w / 4), by = rng.Next(h / 4, 3 * h / 4), r = 5 + 4 * rng.NextDouble();
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
        {
            double v = 60 + 80 * Math.Exp(-Math.Pow((x - cx) / (w * 0.15), 2)) + 10 * Math.Sin(y * 0.5) + rng.NextDouble() * 30;
            if (abnormal && (x - bx) * (x - bx) + (y - by) * (y - by) < r * r) v = 245;
            px[y * w + x] = (byte)Math.Clamp(v, 0, 255);
        }
        return new GrayImage(px, w, h, 8, 1, 1, w, h);
    }

    /// <summary>n samples, alternating labels, one study per two images.</summary>
    public static List<ClassifierSample> Samples(int n, int seed, Func<int, bool>? unreadable = null) =>
        Enumerable.Range(0, n).Select(i =>
        {
            bool abn = i % 2 == 1;
            int s = seed * 10_000 + i;
            return new ClassifierSample($"img{seed}_{i}", $"study{seed}_{i / 2}", abn,
                unreadable?.Invoke(i) == true ? () => throw new InvalidDataException($"img{seed}_{i}.dicom: truncated pixel data") : () => Make(s, abn));
        }).ToList();
}
