using Microsoft.Playwright;
using SkiaSharp;
using SpineXR.Inference;
using SpineXR.Reports;

namespace SpineXR.Web.Tests.Reports;

/// <summary>
/// The HTML reports of `predict` and `demo` (core's <see cref="PredictionReport"/> and <see cref="DemoReport"/>)
/// rendered by headless Debian Chromium: every embedded image decodes, and the screenshot shows the report (the
/// header bar, the tables, the class-coloured box of the thumbnail), not a blank or broken page. The test lives
/// here because this project carries the browser tooling.
/// </summary>
public sealed class ReportBrowserTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spinexr-report-browser").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static byte[] Thumbnail()
    {
        var gray = new byte[320 * 400];
        for (int i = 0; i < gray.Length; i++) gray[i] = (byte)(40 + (i % 320) / 4);
        return OverlayRenderer.RenderJpeg(gray, 320, 400, [new PredictedBox("Osteophytes", 0, 0.9f, [60, 80, 200, 260])], null, true, 320);
    }

    private static async Task<(byte[] Png, int Images, int Broken)> Render(string html, string path)
    {
        await File.WriteAllTextAsync(path, html);
        using var pw = await HeadlessChromium.StartAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(pw);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1200, Height = 1400 } });
        await page.GotoAsync(new Uri(path).AbsoluteUri);
        await page.WaitForFunctionAsync("() => Array.from(document.images).every(i => i.complete)");
        int images = await page.EvaluateAsync<int>("() => document.images.length");
        int broken = await page.EvaluateAsync<int>("() => Array.from(document.images).filter(i => i.naturalWidth === 0).length");
        byte[] png = await page.ScreenshotAsync(new PageScreenshotOptions { FullPage = true });
        return (png, images, broken);
    }

    private static int CountNear(SKBitmap bmp, SKColor c, int tol = 12)
    {
        int n = 0;
        for (int y = 0; y < bmp.Height; y += 2)
            for (int x = 0; x < bmp.Width; x += 2)
            {
                var p = bmp.GetPixel(x, y);
                if (Math.Abs(p.Red - c.Red) <= tol && Math.Abs(p.Green - c.Green) <= tol && Math.Abs(p.Blue - c.Blue) <= tol) n++;
            }
        return n;
    }

    [Fact]
    public async Task PredictReportRendersWithItsThumbnailsAndBoxes()
    {
        var preds = new List<ImagePrediction>
        {
            new() { File = "/x/a.dicom", ImageId = "a", AbnormalProbability = 0.93, Verdict = "abnormal",
                    Boxes = [new PredictedBox("Osteophytes", 0, 0.9f, [60, 80, 200, 260])] },
            new() { File = "/x/b.dicom", ImageId = "b", AbnormalProbability = 0.08, Verdict = "normal", Boxes = [] },
        };
        var prov = new PredictionProvenance { Classifiers = ["runs/cls"], Detectors = ["runs/det"], AbnormalThreshold = 0.28, KeepThreshold = 0.5 };
        string html = PredictionReport.Build(preds, _ => Thumbnail(), prov, []);
        var (png, images, broken) = await Render(html, Path.Combine(_dir, "report.html"));
        File.WriteAllBytes(Path.Combine(AppContext.BaseDirectory, "predict-report-screenshot.png"), png);

        Assert.Equal(2, images);
        Assert.Equal(0, broken);
        using var bmp = SKBitmap.Decode(png);
        Assert.True(CountNear(bmp, new SKColor(0x1f, 0x2a, 0x37)) > 2000, "the dark header bar is missing: page not rendered");
        Assert.True(CountNear(bmp, ClassColors.Of(0)) > 50, "no Osteophytes-orange box edge: thumbnails not drawn");
    }

    [Fact]
    public async Task DemoReportRendersMetricsTablesAndPlots()
    {
        string cls = Path.Combine(_dir, "c.json"), det = Path.Combine(_dir, "d.json"), plot = Path.Combine(_dir, "roc.png");
        File.WriteAllText(cls, """{"auroc":0.91,"auroc_ci":[0.88,0.94],"threshold":0.3,"sensitivity":0.8,"specificity":0.85,"precision":0.8,"f1":0.8,"n_images":200}""");
        File.WriteAllText(det, """{"map50":0.42,"map50_ci":[0.36,0.48],"ap50":{"Osteophytes":0.5},"n_images":200,"n_boxes":300}""");
        File.WriteAllBytes(plot, Thumbnail());
        string html = DemoReport.Build("SpineXR demo", "test", cls, det, det, [(plot, "classifier: roc")], [(plot, "example")]);
        var (png, images, broken) = await Render(html, Path.Combine(_dir, "index.html"));
        File.WriteAllBytes(Path.Combine(AppContext.BaseDirectory, "demo-report-screenshot.png"), png);

        Assert.Equal(2, images);
        Assert.Equal(0, broken);
        using var bmp = SKBitmap.Decode(png);
        Assert.True(CountNear(bmp, new SKColor(0x1f, 0x2a, 0x37)) > 2000, "the dark header bar is missing: page not rendered");
        Assert.True(CountNear(bmp, new SKColor(0xee, 0xf1, 0xf5), 3) > 500, "no table header cells: metrics tables not rendered");
    }
}
