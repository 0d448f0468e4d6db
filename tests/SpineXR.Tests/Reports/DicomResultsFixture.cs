using SpineXR.Jobs;
using SpineXR.Dicom;
using SpineXR.Inference;

namespace SpineXR.Tests.Reports;

/// <summary>
/// One `predict` run with a fake predictor over a synthetic DICOM radiograph and a PNG, with SR and presentation
/// state on: boxes of every class at fractional coordinates, so the tests can compare the DICOM results with
/// predictions.json.
/// </summary>
public sealed class DicomResultsFixture : IDisposable
{
    public TempDir Dir { get; } = new();
    public string Source { get; }
    public string Png { get; }
    public string OutDir => Dir["out"];
    public PredictionJobResult Result { get; }

    /// <summary>Seven boxes, one per class, with scores above and below 0.5; P(abnormal) 0.8125, verdict abnormal.</summary>
    public sealed class FakePredictor : ISpinePredictor
    {
        public PredictionProvenance Provenance { get; } = new() { Classifiers = ["fake-c"], Detectors = ["fake-d"], AbnormalThreshold = 0.4, KeepThreshold = 0.5 };
        public IReadOnlyList<ImagePrediction> Predict(IReadOnlyList<SpineImage> batch, CancellationToken ct = default) =>
            batch.Select(b => new ImagePrediction
            {
                File = b.File, ImageId = b.ImageId, StudyInstanceUid = b.StudyInstanceUid, SeriesInstanceUid = b.SeriesInstanceUid,
                SopInstanceUid = b.SopInstanceUid, Width = b.OriginalWidth, Height = b.OriginalHeight,
                AbnormalProbability = 0.8125, Logit = 1.466, Verdict = "abnormal",
                Boxes = Enumerable.Range(0, 7).Select(c => new PredictedBox(SpineXR.Data.LesionTaxonomy.Classes[c], c, 0.95f - 0.1f * c,
                    [3.25f + 10 * c, 4.75f + 7 * c, 20.5f + 11 * c, 30.125f + 9 * c])).ToList(),
            }).ToList();
        public void Dispose() { }
    }

    public DicomResultsFixture()
    {
        Directory.CreateDirectory(Dir["in"]);
        Source = Dir["in/spine1.dicom"];
        var pixels = Enumerable.Range(0, 120 * 100).Select(i => (ushort)(i * 7 % 4096)).ToArray();
        DicomImageWriter.Save(Source, new GrayscaleImageHeader
        {
            Rows = 120, Columns = 100, PatientName = "Müller^Anna", PatientId = "P7", PatientSex = "F", StudyDate = "20200102",
            UidSeed = "dicom-results-test", WindowCenter = 2048, WindowWidth = 4096, BodyPartExamined = "SPINE",
        }, pixels);
        Png = Dir["in/plain.png"];
        SpineXR.Imaging.PngWriter.SaveGray8(Png, 16, 16, new byte[16 * 16]);
        var opts = new PredictionJobOptions { OutDir = OutDir, Quiet = true, Overlays = false, StructuredReport = true, PresentationState = true };
        Result = new PredictionJob(new FakePredictor(), SpineImageLoader.Load, opts).Run([Source, Png], []);
    }

    public string SrPath => Path.Combine(OutDir, "dicom", "sr", "spine1.dcm");
    public string PrPath => Path.Combine(OutDir, "dicom", "pr", "spine1.dcm");

    public void Dispose() => Dir.Dispose();
}
