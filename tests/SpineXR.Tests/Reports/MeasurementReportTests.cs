using System.Text.Json;
using SpineXR.Jobs;
using SpineXR.Dicom;
using SpineXR.Dicom.StructuredReporting;
using SpineXR.Inference;
using SpineXR.Reports;

namespace SpineXR.Tests.Reports;

public sealed class MeasurementReportTests(DicomResultsFixture run) : IClassFixture<DicomResultsFixture>
{
    private static readonly JsonSerializerOptions Json = new();

    private static List<ImagePrediction> ReadPredictions(string outDir)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(outDir, "predictions.json")));
        return doc.RootElement.GetProperty("images").EnumerateArray().Select(e => e.Deserialize<ImagePrediction>(Json)!).ToList();
    }

    [Fact]
    public void ReadingTheReportBackGivesTheBoxesAndScoresOfPredictionsJson()
    {
        Assert.Empty(run.Result.Errors);
        var expected = Assert.Single(ReadPredictions(run.OutDir), p => p.ImageId == "spine1");
        var found = MeasurementReport.Read(DicomFile.Open(run.SrPath).Dataset);

        Assert.Equal(expected.SopInstanceUid, found.SourceSopInstanceUid);
        Assert.Equal(expected.AbnormalProbability, found.AbnormalProbability, 12);
        Assert.Equal(expected.Verdict, found.Verdict);
        Assert.Equal(expected.Boxes.Count, found.Boxes.Count);
        for (int i = 0; i < expected.Boxes.Count; i++)
        {
            var (e, f) = (expected.Boxes[i], found.Boxes[i]);
            Assert.Equal((e.Class, e.ClassId), (f.Class, f.ClassId));
            Assert.Equal(e.Score, f.Score, 6);
            for (int k = 0; k < 4; k++) Assert.InRange(f.Xyxy[k], e.Xyxy[k] - 0.5f, e.Xyxy[k] + 0.5f);
        }
    }

    [Fact]
    public void TheReportSitsInTheSourceStudyInANewSeriesUnverifiedWithTheAlgorithmAsContributingEquipment()
    {
        var source = DicomFile.Open(run.Source).Dataset;
        var sr = DicomFile.Open(run.SrPath).Dataset;
        Assert.Equal(MeasurementReport.SopClassUid, sr.GetString(DicomTags.SOPClassUID));
        Assert.Equal("SR", sr.GetString(DicomTags.Modality));
        Assert.Equal(source.GetString(DicomTags.StudyInstanceUID), sr.GetString(DicomTags.StudyInstanceUID));
        Assert.NotEqual(source.GetString(DicomTags.SeriesInstanceUID), sr.GetString(DicomTags.SeriesInstanceUID));
        Assert.Equal("Müller^Anna", sr.GetString(DicomTags.PatientName));
        Assert.Equal("UNVERIFIED", sr.GetString(DicomTags.VerificationFlag));
        Assert.Equal("1500", Assert.Single(sr.GetSequence(DicomTags.ContentTemplateSequence)).GetString(DicomTags.TemplateIdentifier));
        var equipment = Assert.Single(sr.GetSequence(DicomTags.ContributingEquipmentSequence));
        Assert.Equal("Processing Algorithm", CodedConcept.FromSequence(equipment, DicomTags.PurposeOfReferenceCodeSequence)?.Meaning);
        Assert.Equal(DerivedInstance.AlgorithmName, equipment.GetString(DicomTags.ManufacturerModelName));
        Assert.Equal(DerivedInstance.AlgorithmVersion, equipment.GetString(DicomTags.SoftwareVersions));
        // a 5-point closed POLYLINE per box, on the source image
        var groups = ContentItem.ChildrenNamed(ContentItem.ChildrenNamed(sr, FindingCodes.ImagingMeasurements).Single(), FindingCodes.MeasurementGroup).ToList();
        Assert.Equal(8, groups.Count); // image level + 7 boxes
        var region = ContentItem.ChildrenNamed(groups[1], FindingCodes.ImageRegion).Single();
        Assert.Equal("POLYLINE", region.GetString(DicomTags.GraphicType));
        var pts = ContentItem.Points(region);
        Assert.Equal(10, pts.Length);
        Assert.Equal((pts[0], pts[1]), (pts[8], pts[9]));
        var image = Assert.Single(ContentItem.Children(region));
        Assert.Equal(source.GetString(DicomTags.SOPInstanceUID),
            Assert.Single(image.GetSequence(DicomTags.ReferencedSOPSequence)).GetString(DicomTags.ReferencedSOPInstanceUID));
    }

    [Fact]
    public void APngInputGetsNoReportAndNoError()
    {
        Assert.Equal(2, run.Result.Predictions.Count);
        Assert.Empty(run.Result.Errors);
        Assert.Equal(["spine1.dcm"], Directory.GetFiles(Path.Combine(run.OutDir, "dicom", "sr")).Select(Path.GetFileName));
        Assert.Equal(["spine1.dcm"], Directory.GetFiles(Path.Combine(run.OutDir, "dicom", "pr")).Select(Path.GetFileName));
    }

    [Fact]
    public void Asking_for_the_dicom_results_later_redoes_the_images_that_lack_them()
    {
        using var dir = new TempDir();
        var opts = new PredictionJobOptions { OutDir = dir["out"], Quiet = true, Overlays = false };
        var first = new PredictionJob(new DicomResultsFixture.FakePredictor(), SpineImageLoader.Load, opts).Run([run.Source, run.Png], []);
        Assert.Equal(2, first.Predicted);
        Assert.False(Directory.Exists(dir["out/dicom/sr"]));
        var second = new PredictionJob(new DicomResultsFixture.FakePredictor(), SpineImageLoader.Load, opts with { StructuredReport = true }).Run([run.Source, run.Png], []);
        Assert.Equal((1, 1), (second.Predicted, second.Skipped)); // the DICOM input again, not the PNG
        Assert.True(File.Exists(dir["out/dicom/sr/spine1.dcm"]));
        var third = new PredictionJob(new DicomResultsFixture.FakePredictor(), SpineImageLoader.Load, opts with { StructuredReport = true }).Run([run.Source, run.Png], []);
        Assert.Equal(0, third.Predicted);
    }

    [Fact]
    public void EveryElementHasTheDictionaryVR()
    {
        foreach (var path in new[] { run.SrPath, run.PrPath })
            foreach (var (tag, vr) in Walk(DicomFile.Open(path).Dataset))
            {
                var expected = DicomDictionary.LookupVR(tag);
                if (expected == DicomVR.UN) continue; // outside the dictionary (none of ours should be; UN says nothing)
                Assert.True(expected == vr, $"{Path.GetFileName(Path.GetDirectoryName(path))}: {tag} written as {DicomVRInfo.ToText(vr)}, the dictionary says {DicomVRInfo.ToText(expected)}");
            }
    }

    [Fact]
    public void AReportWithAFindingOutsideTheSchemeIsRefusedWithTheReason()
    {
        var sr = DicomFile.Open(run.SrPath).Dataset;
        var measurements = ContentItem.ChildrenNamed(sr, FindingCodes.ImagingMeasurements).Single();
        var group = ContentItem.ChildrenNamed(measurements, FindingCodes.MeasurementGroup).ElementAt(1);
        var finding = ContentItem.ChildrenNamed(group, FindingCodes.Finding).Single();
        finding.SetSequence(DicomTags.ConceptCodeSequence, new CodedConcept("12345", "99OTHER", "Something else").ToItem());
        var e = Assert.Throws<DicomException>(() => MeasurementReport.Read(sr));
        Assert.Contains("99OTHER", e.Message);
    }

    [Fact]
    public void TheCodingSchemeIsStable()
    {
        // Published codes never change meaning: an SR written today must read back as the same classes tomorrow.
        Assert.Equal(
            ["SCT:88998003", "SCT:40388003", "SCT:274152003", "99SPINEXR:SPX0003", "99SPINEXR:SPX0004", "99SPINEXR:SPX0005", "99SPINEXR:SPX0006"],
            FindingCodes.Classes.Select(c => c.Scheme + ":" + c.Value));
        Assert.Equal("SCT:263654008", FindingCodes.Abnormal.Scheme + ":" + FindingCodes.Abnormal.Value);
        for (int i = 0; i < FindingCodes.Classes.Count; i++) Assert.Equal(i, FindingCodes.ClassOf(FindingCodes.Classes[i] with { Meaning = "other words" }));
    }

    [Fact]
    public void DciodvfyReportsNoErrorInTheReport()
    {
        var (_, output) = ExternalTool.Run("dciodvfy", "dicom3tools", run.SrPath);
        Assert.False(output.Contains("Error", StringComparison.Ordinal), output);
    }

    [Fact]
    public void DsrdumpShowsTheMeasurementTree()
    {
        var (code, output) = ExternalTool.Run("dsrdump", "dcmtk", "-Ee", run.SrPath);
        Assert.True(code == 0, output);
        Assert.Contains("Imaging Measurement Report", output);
        Assert.Contains("Osteophyte", output);
        Assert.Contains("POLYLINE", output);
        Assert.False(output.Contains("rror", StringComparison.Ordinal), output);
    }

    internal static IEnumerable<(DicomTag Tag, DicomVR VR)> Walk(DicomDataset ds)
    {
        foreach (var e in ds.Elements)
        {
            yield return (e.Tag, e.VR);
            if (e.Items != null)
                foreach (var item in e.Items)
                    foreach (var x in Walk(item)) yield return x;
        }
    }
}
