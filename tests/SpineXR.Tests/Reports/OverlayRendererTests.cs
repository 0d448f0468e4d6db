using SkiaSharp;
using SpineXR.Inference;
using SpineXR.Reports;

namespace SpineXR.Tests.Reports;

public class OverlayRendererTests
{
    private static byte[] Gray(int w, int h, byte v) => Enumerable.Repeat(v, w * h).ToArray();

    [Fact]
    public void BoxEdgeIsDrawnInClassColourAndInteriorKeepsTheImage()
    {
        var box = new PredictedBox("Surgical implant", 1, 0.9f, [20, 30, 80, 90]);
        byte[] png = OverlayRenderer.RenderPng(Gray(128, 128, 40), 128, 128, [box], banner: null, abnormal: true, maxSide: 128);
        using var bmp = SKBitmap.Decode(png);
        Assert.Equal(128, bmp.Width);
        var edge = bmp.GetPixel(50, 90);
        Assert.True(edge.Blue > 150, $"edge pixel {edge} should be the class colour");
        var inside = bmp.GetPixel(50, 60);
        Assert.InRange(inside.Red, 35, 45); // untouched grey inside the box
    }

    [Fact]
    public void ScalesDownToMaxSideAndDrawsBanner()
    {
        byte[] png = OverlayRenderer.RenderPng(Gray(400, 200, 128), 400, 200, [], banner: "abnormal 0.93", abnormal: true, maxSide: 100);
        using var bmp = SKBitmap.Decode(png);
        Assert.Equal((100, 50), (bmp.Width, bmp.Height));
        var top = bmp.GetPixel(90, 2);
        Assert.True(top.Red > 150 && top.Green < 80, $"banner pixel {top} should be red");
    }

    [Fact]
    public void AJpegThumbnailIsTheSameDrawingWithinJpegError()
    {
        var box = new PredictedBox("Surgical implant", 1, 0.9f, [20, 30, 80, 90]);
        byte[] jpeg = OverlayRenderer.RenderJpeg(Gray(256, 256, 40), 256, 256, [box], banner: null, abnormal: true, maxSide: 128);
        Assert.Equal([0xFF, 0xD8], jpeg[..2]);
        Assert.StartsWith("data:image/jpeg;base64,", Html.ImageDataUri(jpeg));
        using var bmp = SKBitmap.Decode(jpeg);
        using var reference = SKBitmap.Decode(OverlayRenderer.RenderPng(Gray(256, 256, 40), 256, 256, [box], null, true, 128));
        Assert.Equal((128, 128), (bmp.Width, bmp.Height));
        Assert.True(bmp.GetPixel(25, 45).Blue > 120, $"box edge {bmp.GetPixel(25, 45)} should be the class colour");
        Assert.InRange(bmp.GetPixel(25, 30).Red, 30, 50); // inside the box: the image's grey
        double diff = 0;
        for (int y = 0; y < 128; y++)
            for (int x = 0; x < 128; x++)
                diff += Math.Abs(bmp.GetPixel(x, y).Green - reference.GetPixel(x, y).Green);
        Assert.True(diff / (128 * 128) < 4, $"mean difference from the PNG drawing {diff / (128 * 128):F2} levels");
    }

    [Fact]
    public void APngDataUriIsNamedPng() =>
        Assert.StartsWith("data:image/png;base64,", Html.ImageDataUri(OverlayRenderer.RenderPng(Gray(8, 8, 1), 8, 8, [], null, false)));

    [Fact]
    public void RejectsABufferSmallerThanTheImage() =>
        Assert.Throws<ArgumentException>(() => OverlayRenderer.RenderPng(new byte[10], 8, 8, [], null, false));
}

public class PredictionReportTests
{
    [Fact]
    public void ReportListsEveryImageFindingAndFailure()
    {
        var preds = new List<ImagePrediction>
        {
            new() { File = "/x/a.dicom", ImageId = "a", AbnormalProbability = 0.9, Verdict = "abnormal",
                    Boxes = [new PredictedBox("Osteophytes", 0, 0.8f, [1, 2, 3, 4])] },
            new() { File = "/x/b.dicom", ImageId = "b", AbnormalProbability = 0.1, Verdict = "normal", Boxes = [] },
        };
        var prov = new PredictionProvenance { Classifiers = ["c1"], Detectors = ["d1"], AbnormalThreshold = 0.28, KeepThreshold = 0.5 };
        string html = PredictionReport.Build(preds, _ => null, prov, [("/x/c.dicom", "truncated <pixel> data")]);
        Assert.Contains("a.dicom", html);
        Assert.Contains("b.dicom", html);
        Assert.Contains("Osteophytes 0.80", html);
        Assert.Contains("truncated &lt;pixel&gt; data", html);
        Assert.StartsWith("<!DOCTYPE html>", html);
    }
}

public sealed class DemoReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spinexr-demo-report").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void TablesShowMetricsFromTheEvalFilesAsPercentagesWithIntervals()
    {
        string cls = Path.Combine(_dir, "c.json"), det = Path.Combine(_dir, "d.json");
        File.WriteAllText(cls, """{"auroc":0.8861,"auroc_ci":[0.8719,0.9002],"threshold":0.28,"sensitivity":0.8,"specificity":0.75,"precision":0.7,"f1":0.74,"n_images":2077}""");
        File.WriteAllText(det, """{"map50":0.3356,"map50_ci":[0.30,0.37],"ap50":{"Osteophytes":0.5,"Other lesions":null},"n_images":2077,"n_boxes":3000}""");
        string html = DemoReport.Build("demo", "synthetic", cls, det, null, [], []);
        Assert.Contains("88.61", html);
        Assert.Contains("87.19–90.02", html);
        Assert.Contains("33.56", html);
        Assert.Contains("Osteophytes", html);
        Assert.DoesNotContain("Overall pipeline", html); // no file given, no section
    }
}
