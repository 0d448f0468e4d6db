using SpineXR.Boxes;
using SpineXR.Data;
using SpineXR.Imaging;
using SpineXR.Synthesis;

namespace SpineXR.Tests.Synthesis;

/// <summary>The boxes are the truth: a lesion changes pixels inside its box and nowhere else, and it stays visible when shrunk.</summary>
public class LesionTruthTests
{
    private static IEnumerable<SynthImage> AbnormalImages(SynthOptions o) =>
        Enumerable.Range(0, o.Studies).SelectMany(s => SyntheticDataset.PlanStudy(o, s, false)).Where(i => i.IsAbnormal);

    [Fact]
    public void EveryClassAppearsInA40StudyDatasetAndAboutHalfTheImagesAreAbnormal()
    {
        var o = new SynthOptions { Studies = 40, Seed = 1 };
        var images = Enumerable.Range(0, o.Studies).SelectMany(s => SyntheticDataset.PlanStudy(o, s, false)).ToList();
        var counts = new int[LesionTaxonomy.Classes.Count];
        foreach (var l in images.SelectMany(i => i.Scene.Lesions)) counts[l.ClassId]++;
        Assert.All(counts, c => Assert.True(c > 0, string.Join(",", counts)));
        Assert.Equal(counts.Max(), counts[LesionPlanner.Osteophytes]);
        double abnormal = images.Count(i => i.IsAbnormal) / (double)images.Count;
        Assert.InRange(abnormal, 0.35, 0.65);
        Assert.InRange(images.Count, 60, 100);
    }

    [Fact]
    public void BoxesLieInsideTheImageAndAreNotTiny()
    {
        foreach (long seed in new long[] { 1, 2, 3 })
            foreach (var im in AbnormalImages(new SynthOptions { Studies = 30, Seed = seed }))
                foreach (var l in im.Scene.Lesions)
                {
                    var b = l.Box;
                    Assert.True(b.X1 >= 0 && b.Y1 >= 0 && b.X2 <= im.Scene.Width && b.Y2 <= im.Scene.Height, $"{l.Note} {b} outside {im.Scene.Width}x{im.Scene.Height}");
                    float side = Math.Max(im.Scene.Width, im.Scene.Height);
                    Assert.True(Math.Min(b.Width, b.Height) >= 0.03f * side, $"{l.Note} box {b} is under 3% of {side}");
                }
    }

    [Fact]
    public void ALesionChangesPixelsInsideItsBoxAndNothingOutside()
    {
        var o = new SynthOptions { Studies = 14, Seed = 5, SizeScale = 0.5f };
        var seen = new HashSet<int>();
        foreach (var im in AbnormalImages(o))
        {
            var s = im.Scene;
            var all = SpineRenderer.Render(s);
            foreach (var lesion in s.Lesions)
            {
                seen.Add(lesion.ClassId);
                var without = SpineRenderer.Render(s, l => l != lesion);
                var b = lesion.Box;
                int changedInside = 0, inside = 0, changedOutside = 0;
                float cx1 = float.MaxValue, cy1 = float.MaxValue, cx2 = float.MinValue, cy2 = float.MinValue;
                for (int y = 0; y < s.Height; y++)
                    for (int x = 0; x < s.Width; x++)
                    {
                        int i = y * s.Width + x;
                        bool changed = all[i] != without[i];
                        bool inBox = x + 0.5f >= b.X1 && x + 0.5f <= b.X2 && y + 0.5f >= b.Y1 && y + 0.5f <= b.Y2;
                        bool nearBox = x + 0.5f >= b.X1 - 2 && x + 0.5f <= b.X2 + 2 && y + 0.5f >= b.Y1 - 2 && y + 0.5f <= b.Y2 + 2;
                        if (inBox) inside++;
                        if (changed && inBox) changedInside++;
                        if (changed && !nearBox) changedOutside++;
                        if (changed) { cx1 = Math.Min(cx1, x); cy1 = Math.Min(cy1, y); cx2 = Math.Max(cx2, x + 1); cy2 = Math.Max(cy2, y + 1); }
                    }
                Assert.True(changedOutside == 0, $"{lesion.Note}: {changedOutside} pixels changed outside {b}");
                Assert.True(changedInside > 0.1 * inside, $"{lesion.Note}: only {changedInside} of {inside} pixels changed inside {b}");
                double iou = Iou(b, new BoxF(cx1, cy1, cx2, cy2));
                Assert.True(iou > 0.5, $"{lesion.Note}: box {b} is loose around the change ({cx1},{cy1},{cx2},{cy2}), IoU {iou:F2}");
            }
        }
        Assert.Equal(LesionTaxonomy.Classes.Count, seen.Count);
    }

    [Fact]
    public void LesionsStayVisibleWhenTheImageIsShrunkTo320Pixels()
    {
        var o = new SynthOptions { Studies = 10, Seed = 9 };
        foreach (var im in AbnormalImages(o).Take(8))
        {
            var s = im.Scene;
            var all = SpineRenderer.Render(s);
            var sorted = all.Order().ToArray();
            float window = sorted[(int)(sorted.Length * 0.99)] - sorted[(int)(sorted.Length * 0.01)];
            var fit = new ImageLoadOptions { Size = 320, Mode = ResizeMode.Letterbox }.Fit(s.Width, s.Height);
            var small = Shrink(all, s.Width, s.Height, fit.ContentW, fit.ContentH);
            foreach (var lesion in s.Lesions)
            {
                var smallWithout = Shrink(SpineRenderer.Render(s, l => l != lesion), s.Width, s.Height, fit.ContentW, fit.ContentH);
                float sx = fit.ContentW / (float)s.Width, sy = fit.ContentH / (float)s.Height;
                float best = 0;
                for (int y = (int)(lesion.Box.Y1 * sy); y < Math.Min(fit.ContentH, (int)Math.Ceiling(lesion.Box.Y2 * sy)); y++)
                    for (int x = (int)(lesion.Box.X1 * sx); x < Math.Min(fit.ContentW, (int)Math.Ceiling(lesion.Box.X2 * sx)); x++)
                        best = Math.Max(best, Math.Abs(small[y * fit.ContentW + x] - smallWithout[y * fit.ContentW + x]));
                Assert.True(best > 0.06f * window, $"{lesion.Note}: largest change {best} at 320 px is under 6% of the window {window}");
            }
        }
    }

    private static ushort[] Shrink(ushort[] px, int w, int h, int dw, int dh)
    {
        var dst = new ushort[dw * dh];
        Resampler.Resize(px, w, h, dst, dw, dh, dw);
        return dst;
    }

    private static double Iou(BoxF a, BoxF b)
    {
        float iw = Math.Max(0, Math.Min(a.X2, b.X2) - Math.Max(a.X1, b.X1)), ih = Math.Max(0, Math.Min(a.Y2, b.Y2) - Math.Max(a.Y1, b.Y1));
        float inter = iw * ih;
        return inter / (a.Area + b.Area - inter);
    }
}
