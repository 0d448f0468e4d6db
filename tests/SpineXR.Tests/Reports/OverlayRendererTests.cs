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
