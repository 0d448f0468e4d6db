using SpineXR.Dicom;
using SpineXR.Inference;
using SpineXR.Reports;

namespace SpineXR.Tests.Reports;

public sealed class PresentationStateTests(DicomResultsFixture run) : IClassFixture<DicomResultsFixture>
{
    [Fact]
    public void ThePresentationStateDrawsEveryBoxAndLabelOnTheSourceImage()
    {
        var source = DicomFile.Open(run.Source).Dataset;
        var pr = DicomFile.Open(run.PrPath).Dataset;
        Assert.Equal(PresentationState.SopClassUid, pr.GetString(DicomTags.SOPClassUID));
        Assert.Equal(source.GetString(DicomTags.StudyInstanceUID), pr.GetString(DicomTags.StudyInstanceUID));
        var referenced = Assert.Single(Assert.Single(pr.GetSequence(DicomTags.ReferencedSeriesSequence)).GetSequence(DicomTags.ReferencedImageSequence));
        Assert.Equal(source.GetString(DicomTags.SOPInstanceUID), referenced.GetString(DicomTags.ReferencedSOPInstanceUID));

        var prediction = run.Result.Predictions.Single(p => p.ImageId == "spine1");
        var annotations = pr.GetSequence(DicomTags.GraphicAnnotationSequence);
        var polylines = annotations.SelectMany(a => a.GetSequence(DicomTags.GraphicObjectSequence)).ToList();
        var texts = annotations.SelectMany(a => a.GetSequence(DicomTags.TextObjectSequence)).Select(t => t.GetString(DicomTags.UnformattedTextValue)).ToList();
        Assert.Equal(prediction.Boxes.Count, polylines.Count);
        foreach (var (box, graphic) in prediction.Boxes.Zip(polylines))
        {
            var pts = graphic.GetDoubles(DicomTags.GraphicData);
            Assert.Equal(10, pts.Length);
            Assert.Equal(box.Xyxy[0], pts[0], 3);
            Assert.Equal(box.Xyxy[3], pts[5], 3);
        }
        foreach (var box in prediction.Boxes) Assert.Contains(texts, t => t!.StartsWith(box.Class + " ", StringComparison.Ordinal));
        Assert.Contains("abnormal  P(abnormal) = 0.813", texts);
        // every annotation references the source image and sits on a declared layer
        var layers = pr.GetSequence(DicomTags.GraphicLayerSequence).Select(l => l.GetString(DicomTags.GraphicLayer)).ToHashSet();
        foreach (var a in annotations)
        {
            Assert.Contains(a.GetString(DicomTags.GraphicLayer), layers);
            Assert.Equal(source.GetString(DicomTags.SOPInstanceUID),
                Assert.Single(a.GetSequence(DicomTags.ReferencedImageSequence)).GetString(DicomTags.ReferencedSOPInstanceUID));
        }
    }

    [Fact]
    public void DciodvfyReportsNoErrorInThePresentationState()
    {
        var (_, output) = ExternalTool.Run("dciodvfy", "dicom3tools", run.PrPath);
        Assert.False(output.Contains("Error", StringComparison.Ordinal), output);
    }

    [Fact]
    public void DcmpschkAcceptsThePresentationState()
    {
        var (code, output) = ExternalTool.Run("dcmpschk", "dcmtk", run.PrPath);
        Assert.True(code == 0, output);
        Assert.False(output.Contains("rror", StringComparison.Ordinal), output);
    }

    [Fact]
    public void A_monochrome1_source_is_shown_inverted_and_its_rescale_and_window_are_kept()
    {
        var header = new DicomDataset()
            .SetString(DicomTags.SOPClassUID, DicomVR.UI, SpineXR.Dicom.DicomUid.ComputedRadiographyImageStorage)
            .SetString(DicomTags.PhotometricInterpretation, DicomVR.CS, "MONOCHROME1")
            .SetInts(DicomTags.Rows, DicomVR.US, 50).SetInts(DicomTags.Columns, DicomVR.US, 40)
            .SetDoubles(DicomTags.RescaleSlope, DicomVR.DS, 2).SetDoubles(DicomTags.RescaleIntercept, DicomVR.DS, -100)
            .SetDoubles(DicomTags.WindowCenter, DicomVR.DS, 900).SetDoubles(DicomTags.WindowWidth, DicomVR.DS, 1800);
        var image = new SpineImage("x.dcm", "x", new byte[40 * 50], 40, 50, "1.2.3", "1.2.3.4", "1.2.3.4.5", header);
        var p = new ImagePrediction { File = "x.dcm", ImageId = "x", AbnormalProbability = 0.1, Verdict = "normal", Boxes = [] };
        var pr = PresentationState.Build(image, p, "key", DateTime.UnixEpoch);
        Assert.Equal("INVERSE", pr.GetString(DicomTags.PresentationLUTShape));
        Assert.Equal([2.0], pr.GetDoubles(DicomTags.RescaleSlope));
        Assert.Equal([900.0], Assert.Single(pr.GetSequence(DicomTags.SoftcopyVOILUTSequence)).GetDoubles(DicomTags.WindowCenter));
        Assert.Equal([40, 50], Assert.Single(pr.GetSequence(DicomTags.DisplayedAreaSelectionSequence)).GetInts(DicomTags.DisplayedAreaBottomRightHandCorner));
        // a normal image without boxes still shows its verdict, on the verdict layer only
        var annotation = Assert.Single(pr.GetSequence(DicomTags.GraphicAnnotationSequence));
        Assert.Equal(PresentationState.VerdictLayer, annotation.GetString(DicomTags.GraphicLayer));

        // its SR says normal, with no lesion group
        var found = MeasurementReport.Read(MeasurementReport.Build(image, p, "key", DateTime.UnixEpoch));
        Assert.Equal(("normal", 0.1, 0), (found.Verdict, found.AbnormalProbability, found.Boxes.Count));
        Assert.Equal("1.2.3.4.5", found.SourceSopInstanceUid);
    }

    [Fact]
    public void CieLabEncodingOfWhiteAndBlackIsTheStandardsRange()
    {
        Assert.Equal([0xFFFF, 0x8080, 0x8080], CieLab.FromRgb(255, 255, 255), new ToleranceComparer(40));
        Assert.Equal([0, 0x8080, 0x8080], CieLab.FromRgb(0, 0, 0), new ToleranceComparer(40));
    }

    private sealed class ToleranceComparer(int tolerance) : IEqualityComparer<int>
    {
        public bool Equals(int a, int b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(int v) => 0;
    }
}
