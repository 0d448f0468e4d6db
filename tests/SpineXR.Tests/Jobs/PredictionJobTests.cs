using System.Text.Json;
using SpineXR.Jobs;
using SpineXR.Inference;

namespace SpineXR.Tests.Jobs;

public sealed class PredictionJobTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "spinexr-job-" + Guid.NewGuid().ToString("N"));

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    /// <summary>Marks every image abnormal with one box; counts calls so tests can see what was redone.</summary>
    private sealed class FakePredictor : ISpinePredictor
    {
        public int Images;
        public PredictionProvenance Provenance { get; } = new() { Classifiers = ["fake-c"], Detectors = ["fake-d"], AbnormalThreshold = 0.3, KeepThreshold = 0.5 };
        public IReadOnlyList<ImagePrediction> Predict(IReadOnlyList<SpineImage> batch, CancellationToken ct = default)
        {
            Interlocked.Add(ref Images, batch.Count);
            return batch.Select(b => new ImagePrediction
            {
                File = b.File, ImageId = b.ImageId, Width = b.Width, Height = b.Height, AbnormalProbability = 0.75, Logit = 1.0986,
                Verdict = "abnormal", Boxes = [new PredictedBox("Osteophytes", 0, 0.9f, [2, 2, 10, 10])],
            }).ToList();
        }
        public void Dispose() { }
    }

    private List<string> MakeInputs(int n)
    {
        var inDir = Path.Combine(_dir, "in");
        Directory.CreateDirectory(inDir);
        var files = new List<string>();
        for (int i = 0; i < n; i++)
        {
            string f = Path.Combine(inDir, $"img{i}.dicom");
            File.WriteAllBytes(f, [(byte)i]);
            files.Add(f);
        }
        return files;
    }

    private static SpineImage Load(string f) =>
        Path.GetFileName(f) == "img2.dicom"
            ? throw new InvalidDataException(f + ": truncated pixel data") // readers name the file, as DicomFile.Open does
            : new SpineImage(f, Path.GetFileNameWithoutExtension(f), new byte[32 * 24], 32, 24);

    [Fact]
    public void BadInputIsListedTheRestPredictedAndARerunSkipsFinishedImages()
    {
        var files = MakeInputs(6);
        var fake = new FakePredictor();
        var opts = new PredictionJobOptions { OutDir = Path.Combine(_dir, "out"), Quiet = true, BatchSize = 4, Workers = 2 };
        var r1 = new PredictionJob(fake, Load, opts).Run(files, []);
        Assert.Equal(5, r1.Predicted);
        Assert.Single(r1.Errors);
        Assert.Equal("truncated pixel data", r1.Errors[0].Reason); // the file is in its own column, not repeated
        Assert.Contains("img2.dicom", File.ReadAllText(Path.Combine(opts.OutDir, "errors.csv")));
        Assert.Equal(5, Directory.GetFiles(Path.Combine(opts.OutDir, "overlays"), "*.png").Length);

        var r2 = new PredictionJob(fake, Load, opts).Run(files, []);
        Assert.Equal(0, r2.Predicted);
        Assert.Equal(5, r2.Skipped);
        Assert.Equal(5, fake.Images); // nothing predicted twice
        Assert.Equal(5, r2.Predictions.Count);

        var r3 = new PredictionJob(fake, Load, opts with { Force = true }).Run(files, []);
        Assert.Equal(5, r3.Predicted);
    }

    [Fact]
    public void SecondaryCaptureIsADerivedRgbObjectInTheSourceStudy()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "in"));
        string src = Path.Combine(_dir, "in", "a1.dicom");
        var pixels = Enumerable.Range(0, 40 * 30).Select(i => (ushort)(i % 4096)).ToArray();
        SpineXR.Dicom.DicomImageWriter.Save(src, new SpineXR.Dicom.GrayscaleImageHeader
        {
            Rows = 30, Columns = 40, PatientName = "Müller^Anna", PatientId = "P7", StudyDate = "20200102", UidSeed = "sc-test",
        }, pixels);
        var source = SpineXR.Dicom.DicomFile.Open(src).Dataset;
        var opts = new PredictionJobOptions { OutDir = Path.Combine(_dir, "out"), Quiet = true, SecondaryCapture = true };
        var r = new PredictionJob(new FakePredictor(), SpineImageLoader.Load, opts).Run([src], []);
        Assert.Empty(r.Errors);

        string scPath = Path.Combine(opts.OutDir, "dicom", InputFiles.ItemKey(src) + ".dcm");
        var sc = SpineXR.Dicom.DicomFile.Open(scPath).Dataset;
        Assert.Equal(SpineXR.Reports.SecondaryCapture.SopClassUid, sc.GetString(SpineXR.Dicom.DicomTags.SOPClassUID));
        Assert.Equal(source.GetString(SpineXR.Dicom.DicomTags.StudyInstanceUID), sc.GetString(SpineXR.Dicom.DicomTags.StudyInstanceUID));
        Assert.NotEqual(source.GetString(SpineXR.Dicom.DicomTags.SeriesInstanceUID), sc.GetString(SpineXR.Dicom.DicomTags.SeriesInstanceUID));
        Assert.Equal("Müller^Anna", sc.GetString(SpineXR.Dicom.DicomTags.PatientName));
        Assert.Equal(["DERIVED", "SECONDARY"], sc.GetStrings(SpineXR.Dicom.DicomTags.ImageType));
        Assert.Equal("YES", sc.GetString(SpineXR.Dicom.DicomTags.BurnedInAnnotation));
        Assert.Equal("RGB", sc.GetString(SpineXR.Dicom.DicomTags.PhotometricInterpretation));
        Assert.Equal((30, 40), (sc.GetIntOrDefault(SpineXR.Dicom.DicomTags.Rows, 0), sc.GetIntOrDefault(SpineXR.Dicom.DicomTags.Columns, 0)));
        var reference = Assert.Single(sc.GetSequence(SpineXR.Dicom.DicomTags.SourceImageSequence));
        Assert.Equal(source.GetString(SpineXR.Dicom.DicomTags.SOPInstanceUID), reference.GetString(SpineXR.Dicom.DicomTags.ReferencedSOPInstanceUID));
        // the box edge (x = 2..10, y = 2..10) is drawn in the class colour: not grey
        var rgb = sc.GetElement(SpineXR.Dicom.DicomTags.PixelData)!.Data.Span;
        Assert.Equal(3 * 40 * 30, rgb.Length);
        int o = 3 * (6 * 40 + 10);
        Assert.False(rgb[o] == rgb[o + 1] && rgb[o + 1] == rgb[o + 2], "box edge pixel is grey");
        // same models, same UIDs on a rerun
        new PredictionJob(new FakePredictor(), SpineImageLoader.Load, opts with { Force = true }).Run([src], []);
        Assert.Equal(sc.GetString(SpineXR.Dicom.DicomTags.SOPInstanceUID),
            SpineXR.Dicom.DicomFile.Open(scPath).Dataset.GetString(SpineXR.Dicom.DicomTags.SOPInstanceUID));
    }

    [Fact]
    public void AggregateFilesFollowTheDesignFormats()
    {
        var files = MakeInputs(3);
        var opts = new PredictionJobOptions { OutDir = Path.Combine(_dir, "out"), Quiet = true, Overlays = false };
        new PredictionJob(new FakePredictor(), Load, opts).Run(files, []);
        var csv = File.ReadAllLines(Path.Combine(opts.OutDir, "classifier_predictions.csv"));
        Assert.Equal("image_id,abnormal_prob,logit", csv[0]);
        Assert.Equal(3, csv.Length); // header + 2 good images
        using var dets = JsonDocument.Parse(File.ReadAllText(Path.Combine(opts.OutDir, "detections.json")));
        var first = dets.RootElement[0];
        Assert.Equal("Osteophytes", first.GetProperty("category").GetString());
        Assert.Equal(new[] { 2f, 2f, 8f, 8f }, first.GetProperty("bbox").EnumerateArray().Select(e => e.GetSingle()).ToArray());
        using var preds = JsonDocument.Parse(File.ReadAllText(Path.Combine(opts.OutDir, "predictions.json")));
        Assert.Equal("fake-c", preds.RootElement.GetProperty("provenance").GetProperty("classifiers")[0].GetString());
        Assert.Equal(2, preds.RootElement.GetProperty("images").GetArrayLength());
        Assert.Contains("<!DOCTYPE html>", File.ReadAllText(Path.Combine(opts.OutDir, "report.html")));
    }

    [Fact]
    public void ShardsPartitionTheInputs()
    {
        var names = Enumerable.Range(0, 200).Select(i => $"/a/b/{i:x}.dicom").ToList();
        var counts = Enumerable.Range(0, 3).Select(s => names.Count(n => InputFiles.InShard(n, s, 3))).ToArray();
        Assert.Equal(200, counts.Sum());
        Assert.All(counts, c => Assert.InRange(c, 40, 100));
        // The same file lands in the same shard wherever the archive is mounted.
        Assert.Equal(InputFiles.InShard("/mnt/x/1.dicom", 1, 3), InputFiles.InShard("/data/1.dicom", 1, 3));
    }

    [Fact]
    public void ExpandFindsFilesInFoldersAndGlobsAndReportsMisses()
    {
        var files = MakeInputs(3);
        File.WriteAllText(Path.Combine(_dir, "in", "notes.txt"), "x");
        var errors = new List<(string, string)>();
        var found = InputFiles.Expand([Path.Combine(_dir, "in"), Path.Combine(_dir, "in", "img*.dicom"), Path.Combine(_dir, "missing.dcm")], errors);
        Assert.Equal(files.OrderBy(f => f, StringComparer.Ordinal), found);
        Assert.Single(errors);
    }

    /// <summary>A predictor whose models could use inputs shrunk by 4.</summary>
    private sealed class ShrinkablePredictor : ISpinePredictor
    {
        public PredictionProvenance Provenance { get; } = new() { Classifiers = [], Detectors = [] };
        public double MaxInputShrink(int width, int height) => 4;
        public IReadOnlyList<ImagePrediction> Predict(IReadOnlyList<SpineImage> batch, CancellationToken ct = default) => [];
        public void Dispose() { }
    }

    [Fact]
    public void TheDecodeAllowanceIsTheModelsWidenedByTheDetailShareLimitedByAnAskedOverlayAndNoneForASecondaryCapture()
    {
        var p = new ShrinkablePredictor();
        var opts = new PredictionJobOptions { OutDir = _dir, MinModelDetail = 0.8 };
        Assert.Equal(5, PredictionJob.Allowance(p, opts)!(2000, 3000), 9); // the models' 4, keeping 80% of their detail
        Assert.Equal(4, PredictionJob.Allowance(p, opts with { MinModelDetail = 1 })!(2000, 3000));
        Assert.Equal(7.5, PredictionJob.Allowance(p, opts with { MinModelDetail = 0.25 })!(2000, 3000), 9); // 16, but the overlay keeps 400 of 3000 px
        Assert.Equal(16, PredictionJob.Allowance(p, opts with { MinModelDetail = 0.25, Overlays = false })!(2000, 3000), 9);
        Assert.Equal(3000 / 1024.0, PredictionJob.Allowance(p, opts with { OverlaySize = 1024 })!(2000, 3000), 9); // overlay: 1024 of 3000 px
        Assert.Equal(5, PredictionJob.Allowance(p, opts with { OverlaySize = 1024, Overlays = false })!(2000, 3000), 9);
        Assert.Equal(1, PredictionJob.Allowance(p, opts with { OverlaySize = 1024 })!(600, 800)); // never below 1
        Assert.Null(PredictionJob.Allowance(p, opts with { SecondaryCapture = true }));
        Assert.Null(PredictionJob.Allowance(p, opts with { ReducedDecode = false }));
        Assert.Equal(1, ((ISpinePredictor)new FakePredictor()).MaxInputShrink(2000, 3000)); // the interface's default: full size
    }

    [Fact]
    public void AReducedImageGetsItsOverlayAndItsBoxesStayInOriginalPixels()
    {
        var files = MakeInputs(1);
        var opts = new PredictionJobOptions { OutDir = Path.Combine(_dir, "out"), Quiet = true };
        // 64 x 48 original decoded at half size; the fake predictor's box [2, 2, 10, 10] is in original pixels.
        var r = new PredictionJob(new FakePredictor(), f => new SpineImage(f, "img0", new byte[32 * 24], 32, 24) { Reduction = 1, OriginalWidth = 64, OriginalHeight = 48 }, opts)
            .Run(files, []);
        Assert.Equal(1, r.Predicted);
        Assert.Equal([2f, 2f, 10f, 10f], r.Predictions[0].Boxes[0].Xyxy);
        using var overlay = SkiaSharp.SKBitmap.Decode(Directory.GetFiles(Path.Combine(opts.OutDir, "overlays"))[0]);
        Assert.Equal((32, 24), (overlay.Width, overlay.Height)); // drawn on the decoded pixels, box halved with them
        Assert.NotEqual(overlay.GetPixel(1, 3), overlay.GetPixel(3, 3)); // the box's left edge at x = 1
    }

    [Theory]
    [InlineData(null, 32, 24)] // default: the decoded size (here under the 1024 cap)
    [InlineData(16, 16, 12)]   // asked smaller: shrunk
    [InlineData(2048, 32, 24)] // asked larger than decoded: never enlarged
    public void AnOverlayIsDrawnAtTheDecodedSizeUnlessASizeIsAsked(int? size, int width, int height)
    {
        var files = MakeInputs(1);
        var opts = new PredictionJobOptions { OutDir = Path.Combine(_dir, "out"), Quiet = true, OverlaySize = size };
        new PredictionJob(new FakePredictor(), f => new SpineImage(f, "img0", new byte[32 * 24], 32, 24) { Reduction = 1, OriginalWidth = 64, OriginalHeight = 48 }, opts)
            .Run(files, []);
        using var overlay = SkiaSharp.SKBitmap.Decode(Directory.GetFiles(Path.Combine(opts.OutDir, "overlays"))[0]);
        Assert.Equal((width, height), (overlay.Width, overlay.Height));
        Assert.Single(Directory.GetFiles(Path.Combine(opts.OutDir, ".items"), "*.thumb.jpg"));
        Assert.Contains("src=\"data:image/jpeg;base64,", File.ReadAllText(Path.Combine(opts.OutDir, "report.html"))); // the thumbnail, as JPEG
    }

    [Fact]
    public void TheOverlaySideIsTheWaveletLevelTheModelsAllowWhateverTheEncodingUnlessASizeIsAsked()
    {
        var opts = new PredictionJobOptions { OutDir = _dir };
        var p = new ShrinkablePredictor(); // 4, widened by 0.85 to 4.7: two halvings
        Assert.Equal(750, PredictionJob.OverlaySide(p, opts, 2000, 3000));
        Assert.Equal(751, PredictionJob.OverlaySide(p, opts, 2000, 3001)); // rounded up, as the codec's reduced size
        Assert.Equal(750, PredictionJob.OverlaySide(p, opts with { ReducedDecode = false }, 2000, 3000)); // same picture with --full-decode
        Assert.Equal(1024, PredictionJob.OverlaySide(p, opts, 6000, 9000)); // capped
        Assert.Equal(750, PredictionJob.OverlaySide(p, opts with { MinModelDetail = 0.25 }, 2000, 3000)); // models content with 188 px: the 400-px floor
        Assert.Equal(1024, PredictionJob.OverlaySide(p, opts with { OverlaySize = 1024 }, 2000, 3000));
        Assert.Equal(800, PredictionJob.OverlaySide(p, opts with { OverlaySize = 1024 }, 600, 800)); // never above the original
        Assert.Equal(800, PredictionJob.OverlaySide(new FakePredictor(), opts, 600, 800)); // models that want full size
    }

    [Fact]
    public void AnOverlaySizeOrDetailShareOutOfRangeIsRefused()
    {
        Assert.Throws<ArgumentException>(() => new PredictionJobOptions { OutDir = _dir, OverlaySize = 8 }.Validate());
        Assert.Throws<ArgumentException>(() => new PredictionJobOptions { OutDir = _dir, MinModelDetail = 0 }.Validate());
        Assert.Throws<ArgumentException>(() => new PredictionJobOptions { OutDir = _dir, MinModelDetail = 1.5 }.Validate());
    }
}
