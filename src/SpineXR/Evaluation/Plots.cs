// PNG charts for the evaluation reports (SkiaSharp): ROC with the Youden point and bootstrap band, per-class PR curves, FROC.
using SkiaSharp;
using SpineXR.IO;

namespace SpineXR.Evaluation;

/// <summary>Draws simple, clean line charts.</summary>
public static class Plots
{
    private static readonly SKColor[] Palette =
    [
        new(31, 119, 180), new(255, 127, 14), new(44, 160, 44), new(214, 39, 40), new(148, 103, 189), new(140, 86, 75), new(227, 119, 194),
    ];

    /// <summary>One series of a chart: x/y in data units.</summary>
    public sealed record Series(string Label, double[] X, double[] Y, bool Step = false);

    private static SKTypeface? _font;
    private static SKTypeface Font => _font ??= LoadFont();

    private static SKTypeface LoadFont()
    {
        foreach (string p in new[] { "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf" })
            if (File.Exists(p)) return SKTypeface.FromFile(p) ?? SKTypeface.Default;
        return SKTypeface.Default;
    }

    /// <summary>ROC curve with the operating point and (optionally) a pointwise bootstrap band.</summary>
    public static void Roc(string path, Metrics.ClassifierResult r)
    {
        var b = r.Bootstrap;
        Chart(path, "ROC curve", "1 - specificity", "sensitivity", [0, 1], [0, 1], canvas =>
        {
            var (map, c) = canvas;
            if (b != null)
            {
                using var band = new SKPath();
                for (int i = 0; i < b.BandFpr.Length; i++) { var p = map(b.BandFpr[i], b.BandTprUpper[i]); if (i == 0) band.MoveTo(p); else band.LineTo(p); }
                for (int i = b.BandFpr.Length - 1; i >= 0; i--) band.LineTo(map(b.BandFpr[i], b.BandTprLower[i]));
                band.Close();
                using var fill = new SKPaint { Color = Palette[0].WithAlpha(50), IsAntialias = true, Style = SKPaintStyle.Fill };
                c.DrawPath(band, fill);
            }
            using var diag = new SKPaint { Color = SKColors.Gray, StrokeWidth = 1, IsAntialias = true, Style = SKPaintStyle.Stroke, PathEffect = SKPathEffect.CreateDash([5, 5], 0) };
            c.DrawLine(map(0, 0), map(1, 1), diag);
            Line(c, map, r.Curve.Fpr, r.Curve.Tpr, Palette[0], false);
            var pt = map(1 - r.Point.Specificity, r.Point.Sensitivity);
            using var dot = new SKPaint { Color = Palette[3], IsAntialias = true };
            c.DrawCircle(pt, 6, dot);
        }, [($"AUROC {100 * r.Auroc:0.00}%" + (b != null ? $" ({100 * b.Auroc.Lower:0.00}-{100 * b.Auroc.Upper:0.00})" : ""), Palette[0]),
            ($"Youden point, threshold {r.Point.Threshold:0.###}", Palette[3])]);
    }

    /// <summary>Interpolated precision against COCO's 101 recall points, one line per class with ground truth.</summary>
    public static void PrecisionRecall(string path, DetectorEvalReport r)
    {
        var res = r.Result;
        var rec = Metrics.CocoResult.RecallThresholds;
        Chart(path, "Precision-recall at IoU 0.5", "recall", "precision", [0, 1], [0, 1], canvas =>
        {
            var (map, c) = canvas;
            for (int k = 0; k < res.NumClasses; k++)
            {
                var q = res.Precision[r.Iou50Index][k];
                if (q == null) continue;
                Line(c, map, rec, q, Palette[k % Palette.Length], true);
            }
        }, Enumerable.Range(0, res.NumClasses).Where(k => res.Precision[r.Iou50Index][k] != null)
            .Select(k => ($"{Data.LesionTaxonomy.Classes[k]} AP {100 * res.Ap[r.Iou50Index, k]:0.0}", Palette[k % Palette.Length])).ToArray(),
            legendLeft: true);
    }

    /// <summary>FROC: sensitivity against false positives per image (log2 x axis).</summary>
    public static void Froc(string path, DetectorEvalReport r)
    {
        double[] x = r.Options.FrocRates.Select(v => Math.Log2(v)).ToArray();
        double lo = x.Min(), hi = x.Max();
        if (hi <= lo) hi = lo + 1;
        Chart(path, "FROC (IoU 0.5, all classes)", "false positives per image (log2)", "sensitivity", [lo, hi], [0, 1], canvas =>
        {
            var (map, c) = canvas;
            var y = r.Froc.Select(v => double.IsFinite(v) ? v : 0).ToArray();
            Line(c, map, x, y, Palette[0], false);
            using var dot = new SKPaint { Color = Palette[0], IsAntialias = true };
            for (int i = 0; i < x.Length; i++) c.DrawCircle(map(x[i], y[i]), 4, dot);
        }, [("sensitivity at 1/8 ... 8 FP/image", Palette[0])]);
    }

    private static void Line(SKCanvas c, Func<double, double, SKPoint> map, double[] x, double[] y, SKColor color, bool step)
    {
        using var path = new SKPath();
        for (int i = 0; i < x.Length; i++)
        {
            var p = map(x[i], y[i]);
            if (i == 0) path.MoveTo(p);
            else
            {
                if (step) path.LineTo(map(x[i - 1], y[i]));
                path.LineTo(p);
            }
        }
        using var paint = new SKPaint { Color = color, StrokeWidth = 2, IsAntialias = true, Style = SKPaintStyle.Stroke };
        c.DrawPath(path, paint);
    }

    private static void Chart(string path, string title, string xLabel, string yLabel, double[] xRange, double[] yRange,
        Action<(Func<double, double, SKPoint> Map, SKCanvas Canvas)> draw, (string Label, SKColor Color)[] legend, bool legendLeft = false)
    {
        const int W = 720, H = 600, L = 70, R = 20, T = 40, B = 60;
        using var surface = SKSurface.Create(new SKImageInfo(W, H));
        var c = surface.Canvas;
        c.Clear(SKColors.White);
        float pw = W - L - R, ph = H - T - B;
        SKPoint Map(double x, double y) => new(
            (float)(L + (x - xRange[0]) / (xRange[1] - xRange[0]) * pw),
            (float)(T + ph - (y - yRange[0]) / (yRange[1] - yRange[0]) * ph));
        using var grid = new SKPaint { Color = new SKColor(225, 225, 225), StrokeWidth = 1 };
        using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1.5f, Style = SKPaintStyle.Stroke };
        using var font = new SKFont(Font, 13);
        using var titleFont = new SKFont(Font, 16);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        for (int i = 0; i <= 5; i++)
        {
            double fx = xRange[0] + i * (xRange[1] - xRange[0]) / 5, fy = yRange[0] + i * (yRange[1] - yRange[0]) / 5;
            var px = Map(fx, yRange[0]); var py = Map(xRange[0], fy);
            c.DrawLine(px.X, T, px.X, T + ph, grid);
            c.DrawLine(L, py.Y, L + pw, py.Y, grid);
            c.DrawText(fx.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture), px.X, T + ph + 18, SKTextAlign.Center, font, ink);
            c.DrawText(fy.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture), L - 8, py.Y + 4, SKTextAlign.Right, font, ink);
        }
        c.DrawRect(L, T, pw, ph, axis);
        c.Save();
        c.ClipRect(new SKRect(L, T, L + pw, T + ph));
        draw((Map, c));
        c.Restore();
        c.DrawText(title, W / 2f, 25, SKTextAlign.Center, titleFont, ink);
        c.DrawText(xLabel, L + pw / 2, H - 18, SKTextAlign.Center, font, ink);
        c.Save();
        c.RotateDegrees(-90, 18, T + ph / 2);
        c.DrawText(yLabel, 18, T + ph / 2, SKTextAlign.Center, font, ink);
        c.Restore();
        // legend, bottom right inside the plot
        float ly = T + ph - 12 - 18 * (legend.Length - 1);
        float lw = legend.Length == 0 ? 0 : legend.Max(l => font.MeasureText(l.Label)) + 40;
        float lx = legendLeft ? L + 14 : L + pw - lw - 4;
        if (legend.Length > 0)
        {
            using var bg = new SKPaint { Color = SKColors.White.WithAlpha(220) };
            c.DrawRect(lx - 6, ly - 16, lw + 4, 18 * legend.Length + 8, bg);
        }
        foreach (var (label, color) in legend)
        {
            using var sw = new SKPaint { Color = color, StrokeWidth = 3 };
            c.DrawLine(lx, ly - 4, lx + 24, ly - 4, sw);
            c.DrawText(label, lx + 30, ly, SKTextAlign.Left, font, ink);
            ly += 18;
        }
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.WriteAllBytes(path, data.AsSpan());
    }
}
